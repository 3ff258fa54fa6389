"""When a writing target hands its links on (`on_links`) and when it keeps them for its outcome (stored with its
state in one commit): before it parks for its user's next quota window, once it holds `LINKS_HELD_MAX` of them, and
never batch by batch otherwise. And `after_batch` comes after every batch Google took, and can stop the writes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync_core.domain.contacts import content_hash
from sync_core.domain.status import TargetStatus
from sync_core.google.errors import GoogleError
from sync_core.google.people import batch_create_body
from sync_core.run import batch_writer
from sync_core.run.batch_writer import LINKS_HELD_MAX, BatchWriter
from sync_core.run.parking import Park
from sync_core.run.target_model import LinkWrite, TargetOutcome
from sync_core.sync.plan import PHOTO_UNKNOWN, EchoDigest, SourceItem, plan_target

JSON = dict[str, Any]
JOB = "job1"
GROUP = frozenset({"contactGroups/label"})


class Stop(Exception):
    """What `after_batch` raises in these tests (the run's LeaseLost)."""


class ServerFailed(GoogleError):
    pass


class Account:
    """What BatchWriter needs of a People account: creates (answered in reverse order, as Google may) and photos,
    with the user's quota full before the creates listed in `full_before` (1: the first)."""

    def __init__(self, full_before: Sequence[int] = (), fail_photo_at: int | None = None) -> None:
        self.full_before = set(full_before)
        self.fail_photo_at = fail_photo_at
        self.calls: list[str] = []
        self.created = 0

    def quota_wait(self, method: str, *, contacts: int = 0, at_least: float = 0.0) -> float:
        creates = sum(1 for c in self.calls if c == "create")
        return 60.0 if method == "people.batchCreateContacts" and creates + 1 in self.full_before else 0.0

    def batch_create(self, people: Sequence[Any]) -> list[JSON]:
        self.calls.append("create")
        answer = []
        # what the real client sends, as Google parses it
        for person in (c["contactPerson"] for c in orjson.loads(bytes(batch_create_body(people)))["contacts"]):
            self.created += 1
            answer.append({"resourceName": f"people/c{self.created}", "etag": f"e{self.created}",
                           "clientData": person["clientData"]})
        return answer[::-1]

    def update_photo(self, resource_name: str, data: bytes) -> JSON:
        self.calls.append("photo")
        if self.fail_photo_at is not None and self.calls.count("photo") == self.fail_photo_at:
            raise ServerFailed("backendError", status_code=503)
        return {"resourceName": resource_name, "etag": f"{resource_name}-photo"}


def _source(n: int, photos: int = 0) -> dict[str, SourceItem]:
    items = {}
    for i in range(n):
        body = {"names": [{"givenName": f"N{i}"}]}
        key = f"people/s{i:04d}"
        items[key] = SourceItem(key, body, content_hash(body), f"p{i}" if i < photos else None)
    return items


def _write(account: Account, source: dict[str, SourceItem], *, after_batch: Any = None) -> tuple[
        list[Any], TargetOutcome, list[list[LinkWrite]]]:
    """Run the writer step by step: what it yielded and handed on, in order, and its outcome."""
    plan = plan_target(job_uid=JOB, source=source, target=[], links={}, required_groups=GROUP)
    events: list[Any] = []
    handed: list[list[LinkWrite]] = []

    def on_links(writes: list[LinkWrite]) -> None:
        handed.append(list(writes))
        events.append(("links", len(writes)))

    writer = BatchWriter(account, JOB, photos=lambda key, photo: photo.encode(),  # type: ignore[arg-type]
                         on_links=on_links, after_batch=after_batch)
    out = TargetOutcome()
    steps = writer.apply_steps(plan, out)
    try:
        park = next(steps)
        while True:
            events.append(park)
            park = steps.send(None)
    except StopIteration:
        pass
    return events, out, handed


def _keys(links: list[LinkWrite]) -> set[str]:
    return {w.source_key for w in links}


def test_a_target_that_never_parks_keeps_its_links_for_its_outcome() -> None:
    source = _source(3 * batch_writer.BATCH_CREATE_MAX)  # three batches, well under LINKS_HELD_MAX
    events, out, handed = _write(Account(), source)
    assert events == [] and handed == []  # no commit per batch
    assert _keys(out.link_writes) == set(source)
    # each link names the contact Google made for its source key, whatever order the answer came in
    assert all(w.target_etag == f"e{w.target_resource_name.removeprefix('people/c')}" for w in out.link_writes)
    assert out.created == len(source)


def test_a_target_hands_its_links_on_before_it_parks_and_keeps_the_rest() -> None:
    source = _source(3 * batch_writer.BATCH_CREATE_MAX)
    events, out, handed = _write(Account(full_before=[3]), source)  # the third create waits for a window
    assert events == [("links", 2 * batch_writer.BATCH_CREATE_MAX), Park(60.0)]  # stored, then parked
    assert _keys(handed[0]).isdisjoint(_keys(out.link_writes))
    assert _keys(handed[0]) | _keys(out.link_writes) == set(source)
    assert len(out.link_writes) == batch_writer.BATCH_CREATE_MAX


def test_a_target_parking_before_its_first_write_stores_nothing() -> None:
    events, out, _ = _write(Account(full_before=[1]), _source(5))
    assert events == [Park(60.0)]
    assert len(out.link_writes) == 5


def test_a_target_holding_many_links_hands_them_on_without_parking(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batch_writer, "BATCH_CREATE_MAX", 4)
    source = _source(LINKS_HELD_MAX + 8)
    events, out, handed = _write(Account(), source)
    assert events == [("links", LINKS_HELD_MAX)]
    assert len(out.link_writes) == 8
    assert _keys(handed[0]) | _keys(out.link_writes) == set(source)


def test_links_whose_photo_is_still_to_be_sent_are_not_handed_on_at_a_park() -> None:
    source = _source(2 * batch_writer.BATCH_CREATE_MAX, photos=3)
    events, out, handed = _write(Account(full_before=[2]), source)
    assert events[:2] == [("links", batch_writer.BATCH_CREATE_MAX - 3), Park(60.0)]
    with_photo = {k for k, item in source.items() if item.photo}
    assert _keys(handed[0]).isdisjoint(with_photo)
    last = {w.source_key: w for w in out.link_writes}
    for key in with_photo:  # their links carry the photo and the etag it left
        assert last[key].photo == source[key].photo and last[key].target_etag.endswith("-photo")


def test_a_target_stopped_by_google_returns_every_link_it_did_not_hand_on() -> None:
    source = _source(2 * batch_writer.BATCH_CREATE_MAX, photos=2)
    events, out, handed = _write(Account(full_before=[2], fail_photo_at=2), source)
    assert out.status is not TargetStatus.ok and "stopped after writing +400" in out.reason
    stored = _keys(handed[0])
    assert stored | _keys(out.link_writes) == set(source)
    photos = {w.source_key: w.photo for w in out.link_writes}
    assert photos["people/s0000"] == "p0"  # sent before Google failed
    assert photos["people/s0001"] == PHOTO_UNKNOWN  # not sent: the next run sends it again


def test_after_batch_comes_after_every_batch_and_stops_the_writes() -> None:
    account = Account()
    seen: list[int] = []

    def after_batch() -> None:
        seen.append(account.calls.count("create"))
        if len(seen) == 2:
            raise Stop()

    with pytest.raises(Stop):
        _write(account, _source(4 * batch_writer.BATCH_CREATE_MAX), after_batch=after_batch)
    assert seen == [1, 2] and account.calls == ["create", "create"]  # no batch after the stop


def test_the_echo_of_what_was_written_counts_every_contact_once() -> None:
    source = _source(2 * batch_writer.BATCH_CREATE_MAX + 1, photos=1)
    _, out, handed = _write(Account(full_before=[2]), source)
    links = [w for part in handed for w in part] + out.link_writes
    expected = EchoDigest()
    for w in links:
        expected.add(w.target_resource_name, w.target_etag)
    assert out.echo.hexdigest() == expected.hexdigest() and out.echo.count == len(source)


@given(st.lists(st.tuples(st.text(max_size=6), st.text(max_size=6)), max_size=12), st.integers(0, 12))
def test_adding_a_batch_of_pairs_at_once_is_adding_each(pairs: list[tuple[str, str]], before: int) -> None:
    one_by_one, at_once = EchoDigest(), EchoDigest()
    for rn, etag in pairs[:before]:  # what earlier batches added
        one_by_one.add(rn, etag)
        at_once.add(rn, etag)
    for rn, etag in pairs[before:]:
        one_by_one.add(rn, etag)
    at_once.add_all(pairs[before:])
    assert (at_once.total, at_once.count) == (one_by_one.total, one_by_one.count)
    assert at_once.hexdigest() == one_by_one.hexdigest()
