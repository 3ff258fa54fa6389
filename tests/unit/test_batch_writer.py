"""When a writing target hands its links on (`on_links`) and when it keeps them for its outcome: each batch's links
as soon as Google took it, a photo's before the target parks for its user's next quota window; a link whose photo is
still to be sent stays. And `after_batch` comes after every batch Google took, and can stop the writes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync_core.domain.contacts import content_hash, created_tag
from sync_core.domain.status import TargetStatus
from sync_core.google.errors import GoogleError
from sync_core.google.people import batch_create_body
from sync_core.run import batch_writer
from sync_core.run.batch_writer import BatchWriter
from sync_core.run.parking import Park
from sync_core.run.target_model import LinkWrite, TargetOutcome
from sync_core.sync.plan import PHOTO_UNKNOWN, EchoDigest, SourceItem, TargetItem, plan_target

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
            # people.CREATED_FIELDS: the tag's value, not its key
            answer.append({"resourceName": f"people/c{self.created}", "etag": f"e{self.created}",
                           "clientData": [{"value": d["value"]} for d in person["clientData"]]})
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


def test_each_batch_s_links_are_handed_on_once_google_took_it() -> None:
    source = _source(3 * batch_writer.BATCH_CREATE_MAX)
    events, out, handed = _write(Account(), source)
    assert events == [("links", batch_writer.BATCH_CREATE_MAX)] * 3  # a target holds none of what it wrote
    assert out.link_writes == []
    links = [w for part in handed for w in part]
    assert len(links) == len(source) and _keys(links) == set(source)
    # each link names the contact Google made for its source key, whatever order the answer came in
    assert all(w.target_etag == f"e{w.target_resource_name.removeprefix('people/c')}" for w in links)
    assert out.created == len(source)


def test_without_a_sink_the_links_end_in_the_outcome() -> None:
    source = _source(2 * batch_writer.BATCH_CREATE_MAX + 1)
    plan = plan_target(job_uid=JOB, source=source, target=[], links={}, required_groups=GROUP)
    out = TargetOutcome()
    BatchWriter(Account(), JOB).apply(plan, out)  # type: ignore[arg-type]
    assert _keys(out.link_writes) == set(source) and len(out.link_writes) == len(source)


def test_a_target_parks_holding_none_of_its_links() -> None:
    source = _source(3 * batch_writer.BATCH_CREATE_MAX)
    events, out, handed = _write(Account(full_before=[3]), source)  # the third create waits for a window
    one = ("links", batch_writer.BATCH_CREATE_MAX)
    assert events == [one, one, Park(60.0), one]
    assert out.link_writes == [] and _keys([w for part in handed for w in part]) == set(source)


def test_a_target_parking_before_its_first_write_hands_on_nothing_first() -> None:
    events, out, handed = _write(Account(full_before=[1]), _source(5))
    assert events == [Park(60.0), ("links", 5)]
    assert len(handed[0]) == 5 and out.link_writes == []


def test_links_whose_photo_is_still_to_be_sent_are_not_handed_on_with_their_batch() -> None:
    source = _source(2 * batch_writer.BATCH_CREATE_MAX, photos=3)
    events, out, handed = _write(Account(full_before=[2]), source)
    assert events[:2] == [("links", batch_writer.BATCH_CREATE_MAX - 3), Park(60.0)]
    with_photo = {k for k, item in source.items() if item.photo}
    assert all(_keys(part).isdisjoint(with_photo) for part in handed)
    last = {w.source_key: w for w in out.link_writes}
    assert set(last) == with_photo
    for key in with_photo:  # their links carry the photo and the etag it left
        assert last[key].photo == source[key].photo and last[key].target_etag.endswith("-photo")


def test_a_target_stopped_by_google_returns_every_link_it_did_not_hand_on() -> None:
    source = _source(2 * batch_writer.BATCH_CREATE_MAX, photos=2)
    events, out, handed = _write(Account(full_before=[2], fail_photo_at=2), source)
    assert out.status is not TargetStatus.ok and "stopped after writing +400" in out.reason
    stored = {k for part in handed for k in _keys(part)}
    assert stored | _keys(out.link_writes) == set(source) and stored.isdisjoint(_keys(out.link_writes))
    photos = {w.source_key: w.photo for w in out.link_writes}
    assert photos["people/s0000"] == "p0"  # sent before Google failed
    assert photos["people/s0001"] == PHOTO_UNKNOWN  # not sent: the next run sends it again


class PhotoAccount(Account):
    """Photos only, the user's quota full before the second one."""

    def quota_wait(self, method: str, *, contacts: int = 0, at_least: float = 0.0) -> float:
        return 60.0 if method == "people.updateContactPhoto" and self.calls.count("photo") == 1 else 0.0


def test_a_photo_sent_to_a_contact_kept_as_it_is_leaves_its_link_even_when_handed_on_before_a_park() -> None:
    # Two contacts already there and in sync, their photos new at the source: no batch, two photos, a park between.
    source = {k: item._replace(photo=f"p{i}") for i, (k, item) in enumerate(_source(2).items())}
    held = [TargetItem(f"people/c{i}", f"e{i}", key, item.hash, GROUP) for i, (key, item) in enumerate(source.items())]
    plan = plan_target(job_uid=JOB, source=source, target=held, links={}, required_groups=GROUP)
    assert not plan.creates and not plan.updates and len(plan.relinks) == 2 and len(plan.photos) == 2
    handed: list[LinkWrite] = []
    writer = BatchWriter(PhotoAccount(), JOB, photos=lambda key, photo: photo.encode(),
                         on_links=handed.extend)  # type: ignore[arg-type]
    out = TargetOutcome()
    steps = writer.apply_steps(plan, out)
    assert next(steps) == Park(60.0)  # the first photo's link went on before the park
    with pytest.raises(StopIteration):
        steps.send(None)
    last = {}
    for w in handed + out.link_writes:  # in the order they would be stored: the last word wins
        last[w.source_key] = w
    assert set(last) == set(source)
    for key, w in last.items():  # never the relink's etag from before the photo
        assert w.target_etag.endswith("-photo") and w.photo == source[key].photo


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


def test_a_created_contact_is_named_by_the_value_of_our_tag_whoever_answers_its_key() -> None:
    tag = "contactsync:job"
    trimmed = {"resourceName": "people/c9", "clientData": [{"value": "people/s2"}]}  # people.CREATED_FIELDS
    whole = {"resourceName": "people/c9", "clientData": [{"key": "contactsync:other", "value": "people/s1"},
                                                         {"key": tag, "value": "people/s2"}]}
    assert created_tag(trimmed, tag) == created_tag(whole, tag) == "people/s2"
    assert created_tag({"clientData": [{"key": "x", "value": "people/s1"}]}, tag) is None  # another key
    assert created_tag({"clientData": [{"value": ""}]}, tag) is None
    assert created_tag({"resourceName": "people/c9"}, tag) is None
