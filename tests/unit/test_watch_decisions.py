"""The source watch's pure decisions: which listed changes matter, whether a source read changed anything,
and when the newest edit happened."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from sync_core.run.source import last_update_time
from sync_core.scheduling.watch import touches_source
from sync_core.sync.plan import SourceItem, source_changed

GROUP = "contactGroups/synced"
OTHER = "contactGroups/other"
names = st.sampled_from([f"people/c{i}" for i in range(8)])


@st.composite
def changed_people(draw: st.DrawFn) -> dict[str, Any]:
    rn = draw(names)
    if draw(st.booleans()):
        return {"resourceName": rn, "metadata": {"deleted": True}}
    groups = draw(st.lists(st.sampled_from([GROUP, OTHER, "contactGroups/myContacts"]), unique=True))
    person: dict[str, Any] = {"resourceName": rn, "memberships": [
        {"contactGroupMembership": {"contactGroupResourceName": g}} for g in groups]}
    if draw(st.booleans()):  # a copy some sync wrote here: never a source
        person["clientData"] = [{"key": "contactsync:job-uid", "value": "people/src"}]
    return person


@given(st.lists(changed_people(), max_size=12), st.sets(names, max_size=8))
def test_a_change_matters_exactly_when_it_is_or_was_in_the_group(people: list[dict[str, Any]], known: set[str]) -> None:
    touched = touches_source(people, group=GROUP, known=known)
    for person in people:
        member_now = not person.get("metadata", {}).get("deleted") and not person.get("clientData") and any(
            m["contactGroupMembership"]["contactGroupResourceName"] == GROUP for m in person.get("memberships", [])
        )
        assert (person in touched) == (member_now or person["resourceName"] in known)


def test_nameless_entries_are_ignored() -> None:
    assert touches_source([{"metadata": {"deleted": True}}], group=GROUP, known={"people/c1"}) == []


items = st.dictionaries(
    names,
    st.tuples(st.sampled_from(["h1", "h2"]), st.sampled_from([None, "p1"])).map(lambda hp: SourceItem("", {}, *hp)),
    max_size=5,
)


@given(items, items)
def test_a_source_changed_unless_every_contact_is_the_same(before: dict[str, SourceItem],
                                                           after: dict[str, SourceItem]) -> None:
    same = before.keys() == after.keys() and all(
        (before[k].hash, before[k].photo) == (after[k].hash, after[k].photo) for k in after
    )
    assert source_changed(before, after) is not same
    assert source_changed(after, after) is False


moments = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC))


@given(st.lists(st.tuples(moments, st.booleans()), max_size=6))
def test_the_newest_update_time_is_found_wherever_google_puts_it(stamps: list[tuple[datetime, bool]]) -> None:
    def rfc3339(moment: datetime) -> str:
        return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")

    people = [
        {"metadata": {"updateTime": rfc3339(m)}} if top else {"metadata": {"sources": [{"updateTime": rfc3339(m)}]}}
        for m, top in stamps
    ]
    people.append({"metadata": {"sources": [{"updateTime": "not a time"}, {"updateTime": ""}]}})
    expected = max((m for m, _ in stamps), default=None)
    assert last_update_time(people) == expected
    if expected is not None:
        older = {"metadata": {"updateTime": rfc3339(expected - timedelta(days=1))}}
        assert last_update_time([*people, older]) == expected
