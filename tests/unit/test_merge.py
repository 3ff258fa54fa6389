"""The three-way field merge (pure), exhaustively: hypothesis draws a base, the source and editors' copies over a
few fields and a few values (so that sides often collide), and each test checks one of the merge's rules."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync_core.sync.deletion_guard import GuardPolicy
from sync_core.sync.merge import (
    CONTACT,
    SOURCE,
    Adoption,
    Conflict,
    ContactMerge,
    EditorCopies,
    Fields,
    NewContact,
    Side,
    Version,
    Why,
    editor,
    field_value,
    hold_editor_deletions,
    merge,
    merge_contact,
    merged_source,
    normalised,
    update_time,
    version_of,
)

FIELDS = ("names", "emailAddresses", "phoneNumbers")
EDITOR_IDS = ("101", "102", "103", "104")
KEY = "people/c1"

values = st.sampled_from([None, [{"value": "a"}], [{"value": "b"}], [{"value": "c"}]])
times = st.one_of(st.none(), st.integers(0, 3).map(lambda minute: datetime(2026, 3, 1, 12, minute, tzinfo=UTC)))


@st.composite
def contact_fields(draw: st.DrawFn) -> dict[str, Any]:
    return {name: value for name in FIELDS if (value := draw(values)) is not None}


versions = st.builds(Version, contact_fields(), times)
copies = st.dictionaries(st.sampled_from(EDITOR_IDS), versions, max_size=4)


def changes_of(base: Fields, source: Version, edits: dict[str, Version], name: str) -> list[tuple[Side, Any]]:
    """Every side that changed `name` from the base, with its value: the test's own reading of "a change"."""
    base_value = field_value(base, name)
    sides = [(SOURCE, source), *((editor(e), v) for e, v in sorted(edits.items()))]
    return [(side, field_value(v.fields, name)) for side, v in sides if field_value(v.fields, name) != base_value]


def conflict_on(result: ContactMerge, name: str) -> Conflict | None:
    found = [c for c in result.conflicts if c.field == name]
    assert len(found) <= 1, "one conflict per field"
    return found[0] if found else None


def later(a: datetime | None, b: datetime | None) -> bool:
    return a is not None and (b is None or a > b)


# --------------------------------------------------------------------------- one contact, field by field


@given(contact_fields(), versions, copies)
def test_a_field_one_value_was_changed_to_takes_that_value_without_conflict(
    base: dict[str, Any], source: Version, edits: dict[str, Version]
) -> None:
    """One side changed it, or several changed it to the same value: that value, and no conflict."""
    result = merge_contact(KEY, base, source, edits, editors_can_delete=False)
    assert result.fields is not None
    for name in FIELDS:
        changes = changes_of(base, source, edits, name)
        new_values = {repr(value) for _, value in changes}
        if len(new_values) == 1:
            assert field_value(result.fields, name) == changes[0][1]
            assert conflict_on(result, name) is None
            assert set(result.set_by[name]) == {side for side, _ in changes}
        if not changes:
            assert field_value(result.fields, name) == field_value(base, name)
            assert name not in result.set_by and conflict_on(result, name) is None


@given(contact_fields(), versions, copies)
def test_the_source_beats_any_editor(base: dict[str, Any], source: Version, edits: dict[str, Version]) -> None:
    result = merge_contact(KEY, base, source, edits, editors_can_delete=False)
    assert result.fields is not None
    for name in FIELDS:
        source_value = field_value(source.fields, name)
        if source_value == field_value(base, name):
            continue
        assert field_value(result.fields, name) == source_value
        others = [(side, v) for side, v in changes_of(base, source, edits, name) if v != source_value]
        conflict = conflict_on(result, name)
        if others:
            assert conflict is not None and conflict.why is Why.source_wins
            assert SOURCE in conflict.winner.sides and conflict.winner.value == source_value
            assert {s for c in conflict.losers for s in c.sides} == {side for side, _ in others}
        else:
            assert conflict is None


@given(contact_fields(), st.builds(Version, contact_fields(), times), copies)
def test_among_editors_the_latest_update_wins_and_equal_times_go_to_the_first_user_id(
    base: dict[str, Any], changed_source: Version, edits: dict[str, Version]
) -> None:
    source = Version(base, changed_source.updated)  # the source changed nothing
    result = merge_contact(KEY, base, source, edits, editors_can_delete=False)
    assert result.fields is not None
    for name in FIELDS:
        changers = [(e, v) for e, v in sorted(edits.items()) if field_value(v.fields, name) != field_value(base, name)]
        if len({repr(field_value(v.fields, name)) for _, v in changers}) < 2:
            continue
        best_id, best = changers[0]
        for e, v in changers[1:]:  # in user id order: a later one wins only with a strictly later time
            if later(v.updated, best.updated):
                best_id, best = e, v
        winning = field_value(best.fields, name)
        assert field_value(result.fields, name) == winning
        conflict = conflict_on(result, name)
        assert conflict is not None and editor(best_id) in conflict.winner.sides
        rivals = [v.updated for _, v in changers if field_value(v.fields, name) != winning]
        tied = any(t == best.updated for t in rivals)
        assert conflict.why is (Why.same_time_first_id if tied else Why.later_edit_wins)


@given(contact_fields(), versions, copies)
def test_no_change_is_lost_except_to_a_reported_conflict(
    base: dict[str, Any], source: Version, edits: dict[str, Version]
) -> None:
    result = merge_contact(KEY, base, source, edits, editors_can_delete=False)
    assert result.fields is not None
    for name in FIELDS:
        for side, value in changes_of(base, source, edits, name):
            if field_value(result.fields, name) == value:
                assert side in result.set_by[name]
                continue
            conflict = conflict_on(result, name)
            assert conflict is not None, f"{side}'s {name} was lost without a conflict"
            assert any(side in c.sides and c.value == value for c in conflict.losers)
        conflict = conflict_on(result, name)
        if conflict is not None:  # and a conflict names only real changes, each value once
            assert conflict.winner.value == field_value(result.fields, name)
            claimed = [(s, c.value) for c in (conflict.winner, *conflict.losers) for s in c.sides]
            assert sorted(claimed, key=repr) == sorted(changes_of(base, source, edits, name), key=repr)
            assert len({repr(c.value) for c in (conflict.winner, *conflict.losers)}) == 1 + len(conflict.losers)


@given(contact_fields(), versions, copies)
def test_merging_again_once_the_source_holds_the_result_changes_nothing_and_finds_no_new_conflict(
    base: dict[str, Any], source: Version, edits: dict[str, Version]
) -> None:
    """A run cut off after its source write: the base did not advance, the editors' copies are as they were."""
    first = merge_contact(KEY, base, source, edits, editors_can_delete=False)
    assert first.fields is not None
    again = merge_contact(KEY, base, Version(first.fields, source.updated), edits, editors_can_delete=False)
    assert again.fields == first.fields
    assert {c.identity for c in again.conflicts} <= {c.identity for c in first.conflicts}


own_bases = st.dictionaries(st.sampled_from(EDITOR_IDS), contact_fields(), max_size=4)


@given(contact_fields(), versions, copies)
def test_editors_who_received_the_sources_version_merge_as_if_the_base_had_moved_on_to_it(
    base: dict[str, Any], source: Version, edits: dict[str, Version]
) -> None:
    """The job's base held back (an editor's account failing): editors who got the source's version are told
    against it, as they would be once the base moves on."""
    held_back = merge_contact(KEY, base, source, edits, editors_can_delete=False,
                              bases={e: source.fields for e in edits})
    moved_on = merge_contact(KEY, source.fields, source, edits, editors_can_delete=False)
    assert held_back.fields == moved_on.fields
    assert {c.identity for c in held_back.conflicts} == {c.identity for c in moved_on.conflicts}


@given(contact_fields(), versions, copies, own_bases)
def test_an_editors_change_against_their_own_base_is_lost_only_to_a_reported_conflict(
    base: dict[str, Any], source: Version, edits: dict[str, Version], bases: dict[str, dict[str, Any]]
) -> None:
    result = merge_contact(KEY, base, source, edits, editors_can_delete=False, bases=bases)
    assert result.fields is not None
    for e, copy in edits.items():
        for name in FIELDS:
            value = field_value(copy.fields, name)
            if value == field_value(bases.get(e, base), name) or value == field_value(result.fields, name):
                continue  # no change of theirs, or it landed
            conflict = conflict_on(result, name)
            assert conflict is not None, f"{e}'s {name} was lost without a conflict"
            assert any(editor(e) in c.sides and c.value == value for c in conflict.losers)


@given(contact_fields(), versions, copies, own_bases)
def test_with_own_bases_merging_again_once_the_source_holds_the_result_changes_nothing_and_finds_no_new_conflict(
    base: dict[str, Any], source: Version, edits: dict[str, Version], bases: dict[str, dict[str, Any]]
) -> None:
    """A run cut off after its source write: the job's base, the versions kept and our links (so each editor's
    own base) are as they were; the editors' copies too."""
    first = merge_contact(KEY, base, source, edits, editors_can_delete=False, bases=bases)
    assert first.fields is not None
    again = merge_contact(KEY, base, Version(first.fields, source.updated), edits, editors_can_delete=False,
                          bases=bases)
    assert again.fields == first.fields
    assert {c.identity for c in again.conflicts} <= {c.identity for c in first.conflicts}


@given(contact_fields(), versions, copies)
def test_once_every_copy_and_the_base_hold_the_result_a_merge_is_a_no_op(
    base: dict[str, Any], source: Version, edits: dict[str, Version]
) -> None:
    first = merge_contact(KEY, base, source, edits, editors_can_delete=False)
    assert first.fields is not None
    settled = {e: Version(first.fields, v.updated) for e, v in edits.items()}
    again = merge_contact(KEY, first.fields, Version(first.fields, source.updated), settled, editors_can_delete=True)
    assert again == ContactMerge(KEY, normalised(first.fields))


@given(contact_fields(), versions, copies, st.randoms(use_true_random=False))
def test_the_order_the_editors_come_in_does_not_matter(
    base: dict[str, Any], source: Version, edits: dict[str, Version], rnd: Any
) -> None:
    items = list(edits.items())
    rnd.shuffle(items)
    assert merge_contact(KEY, base, source, dict(items), editors_can_delete=False) == merge_contact(
        KEY, base, source, edits, editors_can_delete=False
    )


@given(contact_fields(), st.permutations(FIELDS), values, values, times, st.sampled_from(EDITOR_IDS))
def test_fields_changed_by_different_sides_both_land(
    base: dict[str, Any], order: list[str], value_a: Any, value_b: Any, time: datetime | None, editor_id: str
) -> None:
    source_field, editor_field = order[0], order[1]
    new_a = value_a if value_a != field_value(base, source_field) else [{"value": "new-a"}]
    new_b = value_b if value_b != field_value(base, editor_field) else [{"value": "new-b"}]
    source = Version(normalised({**base, source_field: new_a}))
    copy = Version(normalised({**base, editor_field: new_b}), time)
    result = merge_contact(KEY, base, source, {editor_id: copy}, editors_can_delete=False)
    assert result.fields is not None
    assert field_value(result.fields, source_field) == new_a
    assert field_value(result.fields, editor_field) == new_b
    assert result.conflicts == ()
    assert result.set_by == {source_field: (SOURCE,), editor_field: (editor(editor_id),)}


def test_a_worked_example_two_editors_and_the_source() -> None:
    """docs/architecture.md's example, as written there."""
    base = {"names": [{"givenName": "Ana"}], "phoneNumbers": [{"value": "+1 555 0100"}],
            "organizations": [{"name": "Acme"}]}
    source = Version({**base, "phoneNumbers": [{"value": "+1 555 0199"}]}, datetime(2026, 3, 1, 9, 0, tzinfo=UTC))
    bo = Version({**base, "phoneNumbers": [{"value": "+1 555 0142"}], "organizations": [{"name": "Acme Corp"}]},
                 datetime(2026, 3, 1, 10, 0, tzinfo=UTC))
    cy = Version({**base, "organizations": [{"name": "ACME Inc."}]}, datetime(2026, 3, 1, 11, 0, tzinfo=UTC))

    result = merge_contact(KEY, base, source, {"bo": bo, "cy": cy}, editors_can_delete=False)

    assert result.fields == {"names": [{"givenName": "Ana"}], "phoneNumbers": [{"value": "+1 555 0199"}],
                             "organizations": [{"name": "ACME Inc."}]}
    phone, org = result.conflicts
    assert (phone.field, phone.why, phone.winner.sides, phone.losers[0].sides) == (
        "phoneNumbers", Why.source_wins, (SOURCE,), (editor("bo"),))
    assert (org.field, org.why, org.winner.sides, org.losers[0].sides) == (
        "organizations", Why.later_edit_wins, (editor("cy"),), (editor("bo"),))
    assert phone.describe() == (
        'conflict on phoneNumbers of people/c1: kept source set [{"value":"+1 555 0199"}] (source wins); '
        'lost: editor:bo set [{"value":"+1 555 0142"}]'
    )


# --------------------------------------------------------------------------- whole contacts and a label


def label(n: int = 3) -> tuple[dict[str, Fields], dict[str, Version]]:
    base: dict[str, Fields] = {f"people/c{i}": {"names": [{"givenName": f"P{i}"}]} for i in range(n)}
    return base, {key: Version(fields) for key, fields in base.items()}


def renamed(name: str, minute: int = 0) -> Version:
    return Version({"names": [{"givenName": name}]}, datetime(2026, 3, 1, 12, minute, tzinfo=UTC))


def test_an_editors_delete_without_the_right_is_put_back() -> None:
    base, source = label()
    result = merge(base, source, [EditorCopies("101", deleted=frozenset({"people/c1"}))], editors_can_delete=False)
    assert result.deletes == {} and result.updates == {} and result.conflicts == ()
    assert result.put_back == (("101", "people/c1"),)


def test_an_editors_delete_with_the_right_deletes_the_source_contact() -> None:
    base, source = label()
    result = merge(base, source, [EditorCopies("101", deleted=frozenset({"people/c1"}))], editors_can_delete=True)
    assert result.deletes == {"people/c1": (editor("101"),)}
    assert result.source_deletes == ["people/c1"]
    assert result.put_back == () and result.conflicts == ()
    assert "people/c1" not in merged_source(source, result)


@pytest.mark.parametrize("edited_by", ["source", "another editor"])
def test_an_edit_beats_an_editors_delete_and_the_delete_is_a_conflict(edited_by: str) -> None:
    base, source = label()
    editors = [EditorCopies("101", deleted=frozenset({"people/c1"}))]
    if edited_by == "source":
        source["people/c1"] = renamed("Pat")
    else:
        editors.append(EditorCopies("102", changed={"people/c1": renamed("Pat")}))

    result = merge(base, source, editors, editors_can_delete=True)

    assert result.deletes == {}
    assert result.put_back == (("101", "people/c1"),)
    assert result.updates == ({} if edited_by == "source" else {"people/c1": {"names": [{"givenName": "Pat"}]}})
    (conflict,) = result.conflicts
    assert (conflict.field, conflict.why) == (CONTACT, Why.edit_beats_delete)
    assert conflict.winner.value == {"names": [{"givenName": "Pat"}]}
    assert conflict.losers == ((None, (editor("101"),), None),)
    assert "deleted it" in conflict.describe() and "editor:101" in conflict.describe()


def test_the_sources_delete_beats_an_editors_edit_which_is_a_conflict() -> None:
    base, source = label()
    del source["people/c1"]
    result = merge(base, source, [EditorCopies("101", changed={"people/c1": renamed("Pat", 5)})],
                   editors_can_delete=False)
    assert result.deletes == {"people/c1": (SOURCE,)} and result.source_deletes == []
    (conflict,) = result.conflicts
    assert (conflict.key, conflict.field, conflict.why) == ("people/c1", CONTACT, Why.source_wins)
    assert conflict.winner.value is None and conflict.winner.sides == (SOURCE,)
    assert conflict.losers[0].value == {"names": [{"givenName": "Pat"}]}
    assert conflict.losers[0].sides == (editor("101"),)


def test_the_sources_own_deletes_are_listed_and_need_no_source_write() -> None:
    base, source = label()
    del source["people/c2"]
    result = merge(base, source, [], editors_can_delete=True)
    assert result.deletes == {"people/c2": (SOURCE,)} and result.source_deletes == []


def test_a_copy_without_a_base_is_no_input() -> None:
    base, source = label()
    source["people/c9"] = renamed("New")
    result = merge(base, source, [EditorCopies("101", changed={"people/c9": renamed("Edited")},
                                               deleted=frozenset({"people/c8"}))], editors_can_delete=True)
    assert result == merge(base, source, [], editors_can_delete=True)


def test_a_copy_equal_to_the_base_is_no_edit() -> None:
    """Our own write read back (or an edit undone) changes nothing, and does not save a contact from a delete."""
    base, source = label()
    result = merge(base, source, [EditorCopies("101", deleted=frozenset({"people/c1"})),
                                  EditorCopies("102", changed={"people/c1": Version(base["people/c1"])})],
                   editors_can_delete=True)
    assert result.deletes == {"people/c1": (editor("101"),)} and result.conflicts == ()


def test_an_editors_add_becomes_a_source_contact_once() -> None:
    base, source = label()
    added = {"people/e7": Version({"names": [{"givenName": "New"}], "urls": []})}
    first = merge(base, source, [EditorCopies("101", added=added)], editors_can_delete=False)
    assert first.creates == (NewContact("101", "people/e7", {"names": [{"givenName": "New"}]}),)

    source["people/c99"] = Version(first.creates[0].fields)  # the run made it, then stopped before adopting
    again = merge(base, source, [EditorCopies("101", added=added)], editors_can_delete=False,
                  created_from={("101", "people/e7"): "people/c99"})
    assert again.creates == () and again.adoptions == (Adoption("101", "people/e7", "people/c99"),)


def test_the_deletion_guard_holds_a_mass_delete_by_editors() -> None:
    base, source = label(30)
    gone = frozenset(f"people/c{i}" for i in range(20))
    result = merge(base, source, [EditorCopies("101", deleted=gone)], editors_can_delete=True)

    held = hold_editor_deletions(result, GuardPolicy(share=0.5, minimum=20), before=len(base))
    assert held.deletes == {} and held.held == tuple(sorted(gone)) and held.put_back == ()
    assert hold_editor_deletions(result, GuardPolicy(share=0.5, minimum=21), before=len(base)) == result
    small = merge(base, source, [EditorCopies("101", deleted=frozenset({"people/c1"}))], editors_can_delete=True)
    assert hold_editor_deletions(small, GuardPolicy(share=0.5, minimum=1), before=len(base)) == small


@st.composite
def labels(draw: st.DrawFn) -> tuple[dict[str, Fields], dict[str, Version], list[EditorCopies], bool]:
    keys = [f"people/c{i}" for i in range(draw(st.integers(1, 4)))]
    base: dict[str, Fields] = {key: draw(contact_fields()) for key in keys}
    source = {key: draw(versions) for key in keys if draw(st.integers(0, 5))}  # now and then the source deleted
    editors = []
    for editor_id in draw(st.lists(st.sampled_from(EDITOR_IDS), unique=True, max_size=3)):
        touched = draw(st.lists(st.sampled_from(keys), unique=True))
        deleted = frozenset(k for k in touched if draw(st.booleans()))
        changed = {k: draw(versions) for k in touched if k not in deleted}
        added = {f"people/{editor_id}-{n}": draw(versions) for n in range(draw(st.integers(0, 2)))}
        # Now and then what we last wrote to their copy is not the job's base (the base held back): the
        # source's version as it is now, or another.
        own = {k: draw(st.one_of(contact_fields(), st.just(source[k].fields) if k in source else contact_fields()))
               for k in touched if draw(st.integers(0, 2)) == 0}
        editors.append(EditorCopies(editor_id, changed=changed, deleted=deleted, added=added, bases=own))
    return base, source, editors, draw(st.booleans())


@given(labels())
def test_a_label_merged_again_once_the_source_holds_the_result_asks_for_nothing_more(
    drawn: tuple[dict[str, Fields], dict[str, Version], list[EditorCopies], bool],
) -> None:
    base, source, editors, can_delete = drawn
    first = merge(base, source, editors, editors_can_delete=can_delete)
    written = merged_source(source, first)
    made = {(new.editor, new.resource_name): f"people/made{n}" for n, new in enumerate(first.creates)}
    for new in first.creates:
        written[made[new.editor, new.resource_name]] = Version(new.fields)

    again = merge(base, written, editors, editors_can_delete=can_delete, created_from=made)

    assert again.updates == {} and again.source_deletes == [] and again.creates == ()
    assert {(a.editor, a.resource_name) for a in again.adoptions} == set(made)
    assert again.deletes.keys() == first.deletes.keys()
    assert {c.identity for c in again.conflicts} <= {c.identity for c in first.conflicts}


@given(labels(), st.randoms(use_true_random=False))
def test_a_label_does_not_depend_on_the_editors_order(
    drawn: tuple[dict[str, Fields], dict[str, Version], list[EditorCopies], bool], rnd: Any
) -> None:
    base, source, editors, can_delete = drawn
    shuffled = list(editors)
    rnd.shuffle(shuffled)
    assert merge(base, source, shuffled, editors_can_delete=can_delete) == merge(
        base, source, editors, editors_can_delete=can_delete
    )


@given(labels())
def test_every_editor_delete_is_done_put_back_or_a_reported_conflict(
    drawn: tuple[dict[str, Fields], dict[str, Version], list[EditorCopies], bool],
) -> None:
    base, source, editors, can_delete = drawn
    result = merge(base, source, editors, editors_can_delete=can_delete)
    lost_deletes = {(s.editor, c.key) for c in result.conflicts if c.field == CONTACT for cl in c.losers
                    for s in cl.sides if cl.value is None}
    for copy in editors:
        for key in copy.deleted:
            if key not in source or (can_delete and key in result.deletes):  # the source's delete, or theirs
                assert editor(copy.editor) in result.deletes[key]
            else:
                assert (copy.editor, key) in result.put_back
                assert not can_delete or (copy.editor, key) in lost_deletes


# --------------------------------------------------------------------------- reading Google's contacts


def test_update_time_is_the_contacts_own_latest() -> None:
    person = {"metadata": {"sources": [
        {"type": "CONTACT", "updateTime": "2026-03-01T12:00:00.123456789Z"},
        {"type": "PROFILE", "updateTime": "2027-01-01T00:00:00Z"},  # a linked profile's, not the contact's
        {"type": "CONTACT", "updateTime": "2026-03-01T12:00:01Z"},
        {"type": "CONTACT", "updateTime": "yesterday"},
    ]}}
    assert update_time(person) == datetime(2026, 3, 1, 12, 0, 1, tzinfo=UTC)
    assert update_time({"metadata": {"sources": [{"updateTime": "2026-03-01T12:00:00.5Z"}]}}) == datetime(
        2026, 3, 1, 12, 0, 0, 500000, tzinfo=UTC)
    assert update_time({}) is None


def test_a_person_read_from_google_is_its_canonical_fields_and_update_time() -> None:
    person = {"names": [{"givenName": "Ana", "displayName": "Ana", "metadata": {"primary": True}}],
              "emailAddresses": [],
              "metadata": {"sources": [{"type": "CONTACT", "updateTime": "2026-03-01T12:00:00Z"}]}}
    assert version_of(person) == Version({"names": [{"givenName": "Ana"}]}, datetime(2026, 3, 1, 12, tzinfo=UTC))


@pytest.mark.parametrize("side", [SOURCE, editor("1234567890")])
def test_a_side_reads_back_from_its_name(side: Side) -> None:
    assert Side.parse(str(side)) == side


@pytest.mark.parametrize("text", ["", "editor", "editor:", "reader:1", "Source"])
def test_a_side_name_that_is_none_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a side"):
        Side.parse(text)
