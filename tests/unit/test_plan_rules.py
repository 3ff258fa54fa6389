"""The planner under a job's field rules: it writes only the copied fields, fills a kept field only where the
target holds none, adopts a target's own contact, and lets an adopted contact go rather than delete it."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from sync_core.domain.contacts import adopted_key, content_hash, tag_key
from sync_core.domain.field_rules import FieldRules
from sync_core.domain.fields import DEFAULT_FIELDS, SYNCED_FIELDS
from sync_core.sync.plan import LinkState, SourceItem, TargetItem, plan_removal, plan_target
from sync_core.sync.projection import project_item, target_hash

JOB = "job1"
GROUP = "contactGroups/abc"
MINE = "contactGroups/myContacts"
BODY = {
    "names": [{"givenName": "Ann"}],
    "emailAddresses": [{"value": "ann@x.test"}],
    "phoneNumbers": [{"value": "+1 555"}],
    "biographies": [{"value": "source note"}],
}


def item(rules: FieldRules, key: str = "people/s1", body: dict | None = None) -> SourceItem:
    body = dict(BODY if body is None else body)
    return project_item(SourceItem(key, body, content_hash(body)), rules)


def plan(rules, source, target, links=None, **kw):  # type: ignore[no-untyped-def]
    return plan_target(job_uid=JOB, source={s.key: s for s in source}, target=target, links=links or {},
                       required_groups=frozenset({GROUP}), unwanted_groups=frozenset({MINE}), rules=rules, **kw)


def test_a_job_copying_names_and_phones_creates_and_updates_nothing_else() -> None:
    rules = FieldRules.of("names,phones")
    src = item(rules)
    created = plan(rules, [src], []).creates[0].person
    assert set(created) == {"names", "phoneNumbers", "memberships", "clientData"}
    # A copy edited at the target (its body read): the update's mask is the copied fields and our tag.
    edited = TargetItem("people/t1", "e2", src.key, "other", frozenset({GROUP}))
    link = LinkState(src.key, "people/t1", src.hash, "e1")
    update = plan(rules, [src], [edited], {src.key: link}).updates[0]
    assert update.fields == ("names", "phoneNumbers", "clientData")
    assert set(update.person) == {"names", "phoneNumbers", "memberships", "clientData", "etag"}


def test_the_default_rules_change_no_hash_and_no_mask() -> None:
    rules = FieldRules()
    src = item(rules)
    assert src.hash == content_hash(BODY) and src.core == ""
    edited = TargetItem("people/t1", "e2", src.key, "other", frozenset({GROUP}))
    assert plan(rules, [src], [edited]).updates[0].fields is None


def test_a_rule_change_makes_every_copy_differ_once() -> None:
    before, after = item(FieldRules.of("names,phones")), item(FieldRules.of("names,phones,emails"))
    assert before.hash != after.hash
    assert item(FieldRules.of("names,notes")).hash != item(FieldRules.of("names,notes", "notes")).hash


def test_a_kept_field_is_filled_only_where_the_target_holds_none() -> None:
    rules = FieldRules.of(None, "notes")
    src = item(rules)
    link = LinkState(src.key, "people/t1", "old", "e1")
    person = {**BODY, "names": [{"givenName": "Changed"}], "biographies": [{"value": "Bob's"}]}
    digest, filled = target_hash(person, rules)
    holds = TargetItem("people/t1", "e2", src.key, digest, frozenset({GROUP}), filled)
    update = plan(rules, [src], [holds], {src.key: link}).updates[0]
    assert "biographies" not in update.fields and "biographies" not in update.person
    empty = {k: v for k, v in person.items() if k != "biographies"}
    digest, filled = target_hash(empty, rules)
    lacks = TargetItem("people/t1", "e2", src.key, digest, frozenset({GROUP}), filled)
    update = plan(rules, [src], [lacks], {src.key: link}).updates[0]
    assert "biographies" in update.fields and update.person["biographies"] == BODY["biographies"]
    # Its own note and otherwise the source's content: nothing to write.
    same, filled = target_hash({**BODY, "biographies": [{"value": "Bob's"}]}, rules)
    kept = TargetItem("people/t1", "e2", src.key, same, frozenset({GROUP}), filled)
    result = plan(rules, [src], [kept], {src.key: link})
    assert not result.updates and result.keeps


def test_an_own_contact_is_adopted_with_its_groups_and_other_client_data() -> None:
    rules = FieldRules.of(None, None, "email")
    src = item(rules)
    own = TargetItem("people/o1", "e1", None, "", frozenset({MINE}), client_data=(("other.app", "7"),))
    result = plan(rules, [src], [own], adopt={src.key: own})
    assert not result.creates
    (update,) = result.updates
    assert update.reason == "adopted" and update.adopted and update.fix_memberships
    keys = [d["key"] for d in update.person["clientData"]]
    assert keys == ["other.app", tag_key(JOB), adopted_key(JOB)]
    groups = {m["contactGroupMembership"]["contactGroupResourceName"] for m in update.person["memberships"]}
    assert groups == {GROUP, MINE}, "My Contacts stays: the contact is the user's"


def test_an_adopted_contact_is_released_never_deleted() -> None:
    adopted = TargetItem("people/o1", "e1", "people/s1", "h", frozenset({GROUP}), adopted=True)
    made = TargetItem("people/t2", "e2", "people/s2", "h", frozenset({GROUP}))
    result = plan(FieldRules(), [], [adopted, made])
    assert [r.resource_name for r in result.releases] == ["people/o1"]
    assert [d.resource_name for d in result.deletes] == ["people/t2"]
    removal = plan_removal(target=[adopted, made])
    assert [r.resource_name for r in removal.releases] == ["people/o1"]
    assert [d.resource_name for d in removal.deletes] == ["people/t2"]


FIELD_LISTS = st.lists(st.sampled_from(list(DEFAULT_FIELDS)), min_size=1, unique=True)


@given(FIELD_LISTS, st.data())
def test_no_write_reaches_a_field_the_job_does_not_copy_nor_a_kept_one_the_target_holds(
    fields: list[str], data: st.DataObject
) -> None:
    keep = data.draw(st.lists(st.sampled_from(fields), unique=True))
    rules = FieldRules.of(fields, keep)
    src = item(rules)
    filled = data.draw(st.frozensets(st.sampled_from(list(SYNCED_FIELDS))))
    held = TargetItem("people/t1", "e2", src.key, "different", frozenset(), frozenset(filled) & set(rules.keep))
    adopted = data.draw(st.booleans())
    result = plan(rules, [src], [held._replace(adopted=adopted)], {src.key: LinkState(src.key, "people/t1", "x", "e1")})
    for update in result.updates:
        written = set(update.person) - {"memberships", "etag", "clientData"}
        assert written <= set(rules.body_fields)
        assert not written & held.filled, "a kept field the target holds is never overwritten"
        mask = set(update.fields) if update.fields is not None else {*SYNCED_FIELDS, "clientData"}
        assert mask - {"clientData"} <= set(rules.body_fields)
        assert ("clientData" in mask) is not adopted, "an adopted contact's clientData stays its own"
    for create in plan(rules, [src], []).creates:
        assert set(create.person) - {"memberships", "clientData"} <= set(rules.body_fields)
