"""The run after a sync checks, as its read keeps each contact, that what it lists is only the echo of our own
last writes (`EchoTally`): anything else a target did must still be seen, and planned, as before."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sync_core.domain.contacts import (
    MY_CONTACTS,
    adopted_entry,
    canonical_body,
    content_hash,
    is_adopted,
    memberships_of,
    read_tag,
    tag_entry,
)
from sync_core.domain.status import TargetStatus
from sync_core.google.people import listed_pairs
from sync_core.run.target_sync import EchoTally, TargetJob, TargetSync
from sync_core.sync.plan import SourceItem, echo_digest
from tests.unit.test_target_sync_stateful import ECHO_KEYS, Account, FakePeople, Kept, _item

UID = "A"
JOB = TargetJob(UID, "Partners", False, 25_000)


def _source(n: int) -> dict[str, SourceItem]:
    return {f"people/s{i}": _item(f"people/s{i}", f"Name{i}", None) for i in range(n)}


def _version(source: dict[str, SourceItem]) -> str:
    return "|".join(f"{k}:{i.hash}" for k, i in sorted(source.items()))


def _sync(account: Account, kept: Kept, source: dict[str, SourceItem]) -> Any:
    sync = TargetSync(FakePeople(account), JOB, on_links=kept.save)
    out = sync.sync(dict(source), kept.memory(False), source_version=_version(source))
    kept.persist(out)
    return out


def _ours(account: Account) -> list[str]:
    return sorted(rn for rn, p in account.people.items() if read_tag(p, UID))


def _label(account: Account) -> str:
    [label] = account.groups
    return label


def _edit(account: Account) -> None:
    rn = _ours(account)[1]
    account.people[rn]["names"] = [{"givenName": "Edited by the user"}]
    account.touch(rn)


def _delete(account: Account) -> None:
    account.remove(_ours(account)[2])


def _unlabel(account: Account) -> None:
    rn = _ours(account)[0]
    account.people[rn]["memberships"] = [{"contactGroupMembership": {"contactGroupResourceName": MY_CONTACTS}}]
    account.touch(rn)


def _untag(account: Account) -> None:
    rn = _ours(account)[3]
    account.people[rn]["clientData"] = []
    account.touch(rn)


def _add_own_to_label(account: Account) -> None:
    account.add({"names": [{"givenName": "Mine"}],
                 "memberships": [{"contactGroupMembership": {"contactGroupResourceName": _label(account)}}]})


@pytest.mark.parametrize("meddle", [_edit, _delete, _unlabel, _untag])
def test_a_targets_change_among_our_echoes_is_planned_and_undone(meddle: Any) -> None:
    """After a first sync, the target changes one of the contacts it got; the next run's read lists every
    contact the first wrote (their echoes) and that change: the run is not in sync, and puts the contact back."""
    account, kept, source = Account(), Kept(), _source(6)
    first = _sync(account, kept, source)
    assert first.created == 6 and first.status is TargetStatus.ok
    meddle(account)

    after = _sync(account, kept, source)

    assert after.status is TargetStatus.ok, after.reason
    assert not after.in_sync
    assert after.created + after.updated >= 1
    held = {read_tag(p, UID): p for p in account.people.values() if read_tag(p, UID)}
    assert set(held) == set(source)
    for key, person in held.items():
        assert content_hash(canonical_body(person)) == source[key].hash
        assert _label(account) in memberships_of(person)


def test_nothing_changed_after_a_first_sync_is_in_sync_and_writes_nothing() -> None:
    account, kept, source = Account(), Kept(), _source(6)
    _sync(account, kept, source)
    after = _sync(account, kept, source)
    assert after.in_sync and after.unchanged == 6
    assert after.created == after.updated == after.deleted == 0


def test_a_digest_of_an_older_kind_is_checked_against_the_links_once() -> None:
    """A digest kept by a version that summed SHA-256 values (64 hex digits) never equals today's: the run
    after an upgrade checks the target against its links instead (one more read of the same changes), and
    is in sync."""
    account, kept, source = Account(), Kept(), _source(6)
    _sync(account, kept, source)
    assert kept.echo_digest is not None and len(kept.echo_digest) == 32
    kept.echo_digest = "ab" * 32
    people, reads = _counted(account)
    after = TargetSync(people, JOB, on_links=kept.save).sync(
        dict(source), kept.memory(False), source_version=_version(source))

    assert after.status is TargetStatus.ok and after.in_sync and after.unchanged == 6
    assert after.created == after.updated == after.deleted == 0
    # the pairs, the echo check, then the same changes in full
    assert reads == ["pairs", "echoes", "full"]


def _counted(account: Account) -> tuple[FakePeople, list[str]]:
    """The account's People API, and what each of its reads answered of a contact, as they are made."""
    people = FakePeople(account)
    reads: list[str] = []
    read = people.read_connections

    def counted(**kwargs: Any) -> Any:
        reads.append("pairs" if kwargs.get("keep_pairs") else "echoes" if kwargs.get("echoes_only") else "full")
        return read(**kwargs)

    people.read_connections = counted  # type: ignore[method-assign]
    return people, reads


def test_the_run_after_a_sync_that_wrote_reads_only_the_pairs_and_the_next_reads_with_tags() -> None:
    """The run after a sync that wrote lists exactly those writes: one read of their names and etags tells it
    is in sync. It spends the digest: the run after it, whose read lists nothing of ours, reads with tags."""
    account, kept, source = Account(), Kept(), _source(6)
    _sync(account, kept, source)
    people, reads = _counted(account)
    after = TargetSync(people, JOB, on_links=kept.save).sync(
        dict(source), kept.memory(False), source_version=_version(source))
    kept.persist(after)
    assert after.in_sync and after.unchanged == 6 and reads == ["pairs"]
    assert kept.echo_digest is None

    _add_own_to_label(account)  # a contact of their own: theirs, left alone, in one read still
    people, reads = _counted(account)
    steady = TargetSync(people, JOB, on_links=kept.save).sync(
        dict(source), kept.memory(False), source_version=_version(source))
    assert steady.in_sync and reads == ["echoes"]


def test_a_contact_of_their_own_beside_our_echoes_takes_the_read_with_tags() -> None:
    account, kept, source = Account(), Kept(), _source(6)
    _sync(account, kept, source)
    _add_own_to_label(account)
    people, reads = _counted(account)
    after = TargetSync(people, JOB, on_links=kept.save).sync(
        dict(source), kept.memory(False), source_version=_version(source))
    assert after.in_sync and after.created == after.updated == after.deleted == 0
    assert reads == ["pairs", "echoes"]  # not exactly our writes: told apart by our tag


def test_a_contact_of_their_own_added_to_the_label_is_left_alone() -> None:
    account, kept, source = Account(), Kept(), _source(4)
    _sync(account, kept, source)
    _add_own_to_label(account)
    after = _sync(account, kept, source)
    assert after.status is TargetStatus.ok
    assert after.created == after.updated == after.deleted == 0
    assert any(p["names"][0]["givenName"] == "Mine" for p in account.people.values())


# --- the keeper's tally is what the kept contacts say -------------------------------------------------------
groups = st.lists(st.sampled_from(["contactGroups/ours", MY_CONTACTS, "contactGroups/other"]), max_size=3)


@st.composite
def people(draw: Any) -> dict[str, Any]:
    rn = "people/c" + draw(st.text("0123", min_size=1, max_size=3))
    if draw(st.integers(0, 5)) == 0:
        return {"resourceName": rn, "metadata": {"deleted": True}}
    data = draw(st.lists(st.one_of(
        st.builds(lambda k: tag_entry(UID, k), st.text("01", min_size=1, max_size=2)),
        st.just(adopted_entry(UID)),
        st.just(tag_entry("other-job", "people/x")),
    ), max_size=2))
    person: dict[str, Any] = {"resourceName": rn, "etag": "%" + draw(st.text("ab", max_size=3))}
    if data:
        person["clientData"] = data
    if (listed := draw(groups)) or draw(st.booleans()):
        person["memberships"] = [{"contactGroupMembership": {"contactGroupResourceName": g}} for g in listed]
    return person


@settings(max_examples=300)
@given(st.lists(people(), max_size=12))
def test_the_tally_is_what_the_kept_contacts_say(listed: list[dict[str, Any]]) -> None:
    """The tally's digest is `echo_digest` of ours as kept, and each contact is kept as a keeper of its own
    would keep it (the groups a keeper takes from the contact before are that contact's own)."""
    sync = TargetSync.__new__(TargetSync)
    sync.job = JOB
    tally = EchoTally()
    keep = sync._keeper(incremental=True, tally=tally)
    kept = [keep(p) for p in listed]
    assert kept == [sync._keeper(incremental=True)(p) for p in listed]
    for person, s in zip(listed, kept, strict=True):
        assert s is not None
        if not s.deleted:
            assert (s.source_key, s.adopted) == (read_tag(person, UID), read_tag(person, UID) is not None
                                                 and is_adopted(person, UID))
            assert s.memberships == memberships_of(person)
    seen = [s for s in kept if s is not None]
    ours = [(s.resource_name, s.etag) for s in seen if s.source_key is not None and not s.deleted]
    assert tally.digest() == echo_digest(ours)
    assert tally.ours == len(ours)
    assert tally.gone == [s.resource_name for s in seen if s.deleted]
    assert tally.theirs == [s.resource_name for s in seen if s.source_key is None and not s.deleted]

    # The echo check's keeper, given only what ECHO_READ_ANSWER asks of each contact, tallies the same.
    echoes = EchoTally()
    echo_keep = sync._echo_keeper(echoes)
    half = len(listed) // 2  # two pages: the tally adds up across them
    echo_keep([{k: v for k, v in p.items() if k in ECHO_KEYS} for p in listed[:half]])
    echo_keep([{k: v for k, v in p.items() if k in ECHO_KEYS} for p in listed[half:]])
    assert (echoes.digest(), echoes.ours, echoes.gone, echoes.theirs) == (
        tally.digest(), tally.ours, tally.gone, tally.theirs)
    assert echoes.listed == len(seen)

    # The pairs alone (ECHO_PAIRS_ANSWER, two pages): every contact listed and not deleted is summed, whatever
    # its tag; so the sum is ours' only when nothing else is listed.
    pairs = EchoTally()
    pairs.count_pairs(listed_pairs(listed[:half]))
    pairs.count_pairs(listed_pairs(listed[half:]))
    every = [(s.resource_name, s.etag) for s in seen if not s.deleted]
    assert (pairs.digest(), pairs.ours, pairs.gone, pairs.theirs, pairs.listed) == (
        echo_digest(every), len(every), tally.gone, [], len(seen))
    assert (pairs.digest() == tally.digest()) == (not tally.theirs)
