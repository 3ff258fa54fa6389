"""What a target holds while it waits for Google once its plan is made (the account's size, its writes, its
user's quota window between them): what it still has to write, not its links nor what its read observed. A churn
run of a 20,000-contact source held those for each of its targets in flight, 730 bytes a contact (bench S4)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sync_core.run.target_model import TargetMemory
from sync_core.run.target_sync import TargetJob, TargetSync
from sync_core.sync.plan import LinkState, SourceItem
from tests.unit.test_target_sync_stateful import Account, FakePeople, Kept, _item

JOB = TargetJob("A", "Partners", False, 25_000)


def _source(n: int) -> dict[str, SourceItem]:
    return {f"people/s{i}": _item(f"people/s{i}", f"Name{i}", None) for i in range(n)}


class Watched(FakePeople):
    """Notes, at each call that waits for Google after the plan, whether the target still holds its links."""

    def __init__(self, account: Account, memory: TargetMemory) -> None:
        super().__init__(account)
        self.memory = memory
        self.seen: list[tuple[str, bool]] = []

    def _note(self, call: str) -> None:
        self.seen.append((call, self.memory._links is not None))

    def account_size(self) -> int:
        self._note("account_size")
        return super().account_size()

    def batch_create(self, people: Sequence[Any]) -> list[Any]:
        self._note("batch_create")
        return super().batch_create(people)

    def batch_update(self, *args: Any, **kwargs: Any) -> Any:
        self._note("batch_update")
        return super().batch_update(*args, **kwargs)

    def batch_delete(self, resource_names: Sequence[str]) -> None:
        self._note("batch_delete")
        super().batch_delete(resource_names)


def test_after_its_plan_a_target_waits_for_google_holding_no_links() -> None:
    account, kept, source = Account(), Kept(), _source(6)
    first = TargetSync(FakePeople(account), JOB, on_links=kept.save).sync(dict(source), kept.memory(False))
    kept.persist(first)
    source["people/s1"] = _item("people/s1", "Renamed", None)
    source["people/s9"] = _item("people/s9", "Hired", None)  # a create: the plan's check asks the account's size
    del source["people/s2"]
    memory = kept.memory(False)
    people = Watched(account, memory)
    out = TargetSync(people, JOB, on_links=kept.save).sync(dict(source), memory)
    kept.persist(out)
    assert (out.created, out.updated, out.deleted, out.unchanged) == (1, 1, 1, 4)
    assert sorted(call for call, _ in people.seen) == ["account_size", "batch_create", "batch_delete", "batch_update"]
    assert not any(held for _, held in people.seen), people.seen
    assert out.plan is not None and out.plan.keeps == []  # counted, then let go: no photo to send for them
    assert sorted(kept.links) == sorted(source)  # and what the store keeps is right


def test_links_given_rather_than_read_from_the_store_are_kept() -> None:
    links = {"people/s0": LinkState("people/s0", "people/c0", "h", "e")}
    memory = TargetMemory(links=links)
    memory.forget_links()
    assert memory.links is links  # nothing could read them again
    read = TargetMemory(load_links=lambda: dict(links))
    assert read.links == links
    read.forget_links()
    assert read._links is None and read.links == links  # read again when asked for
