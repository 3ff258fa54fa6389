"""A Directory Sync's field mapping (sync_core.domain.directory_fields): parsing, checking against the schemas,
and what it puts on a user's card."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync_core.domain.contacts import canonical_body, content_hash
from sync_core.domain.directory_fields import (
    TARGETS,
    USER_SOURCES,
    FieldRule,
    MappingError,
    apply_mapping,
    check_schemas,
    custom_schemas,
    mapped_fields,
    parse_mapping,
    stored,
)
from sync_core.domain.fields import BY_NAME, Carried

SCHEMAS = [
    {"schemaName": "Employment", "fields": [{"fieldName": "CostCenter"}, {"fieldName": "Nickname"},
                                            {"fieldName": "Languages"}]},
    {"schemaName": "Badges", "fields": [{"fieldName": "Number"},
                                        {"fieldName": "Salary", "readAccessType": "ADMINS_AND_SELF"}]},
]
USER: dict[str, Any] = {
    "id": "1",
    "primaryEmail": "bob@example.com",
    "externalIds": [{"value": "E1001", "type": "organization"}, {"value": "X-7", "type": "custom"}],
    "locations": [{"type": "desk", "buildingId": "HQ", "floorName": "2", "deskCode": "D1001"}],
    "organizations": [{"primary": True, "costCenter": "CC-Sales", "department": "Sales"}],
    "customSchemas": {"Employment": {"CostCenter": "4711", "Nickname": "Bobby",
                                     "Languages": [{"value": "en"}, {"value": "fr"}]}},
}

# Names a mapping may hold: keys of a userDefined target, schema and field names (no separators in them).
names = st.text(st.characters(whitelist_categories=("Lu", "Ll", "Nd")), min_size=1, max_size=12)
sources = st.one_of(st.sampled_from(sorted(USER_SOURCES)), st.builds(lambda s, f: f"{s}.{f}", names, names))
targets = st.one_of(st.sampled_from(sorted(TARGETS)), names.map(lambda k: f"userDefined:{k}"))
rule_texts = st.lists(st.builds(lambda s, t: f"{s}={t}", sources, targets), max_size=6)


def test_the_issue_example_parses() -> None:
    rules = parse_mapping("Employment.CostCenter=userDefined:Cost center,Employment.Nickname=nicknames")
    assert rules == (FieldRule("Employment.CostCenter", "userDefined", "Cost center"),
                     FieldRule("Employment.Nickname", "nicknames"))
    assert stored(rules) == ["Employment.CostCenter=userDefined:Cost center", "Employment.Nickname=nicknames"]
    assert custom_schemas(rules) == ["Employment"]


@given(rule_texts)
def test_stored_rules_parse_back_to_themselves(texts: list[str]) -> None:
    """What a job keeps (`stored`) is read back by every run: it must mean exactly the same rules."""
    rules = parse_mapping(",".join(texts))
    assert parse_mapping(stored(rules)) == rules
    assert len(set(rules)) == len(rules), "each rule once"


@given(rule_texts)
def test_every_target_is_a_synced_body_field(texts: list[str]) -> None:
    """Entries a mapping makes are in body fields the card's hash covers and the update mask writes."""
    for rule in parse_mapping(",".join(texts)):
        assert BY_NAME[rule.target].carried is Carried.body


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("costCenter", "is not SOURCE=TARGET"),
        ("=nicknames", "is not SOURCE=TARGET"),
        ("shoeSize=nicknames", "choose from externalIds"),
        ("costCenter=names", "choose from nicknames"),
        ("costCenter=userDefined:", "needs a key"),
        ("Employment.=nicknames", "Schema.Field"),
        ("costCenter=nicknames:x", "choose from nicknames"),
    ],
)
def test_a_malformed_or_unknown_rule_is_refused_naming_the_choices(text: str, says: str) -> None:
    with pytest.raises(MappingError, match=says):
        parse_mapping(text)


def test_unknown_schema_or_field_names_the_valid_ones() -> None:
    with pytest.raises(MappingError, match="the schemas are Badges, Employment"):
        check_schemas(parse_mapping("Payroll.Grade=nicknames"), SCHEMAS)
    with pytest.raises(MappingError, match="Employment.CostCenter, Employment.Nickname"):
        check_schemas(parse_mapping("Employment.Grade=nicknames"), SCHEMAS)
    check_schemas(parse_mapping("Employment.CostCenter=nicknames,costCenter=urls"), SCHEMAS)  # all known


def test_a_field_colleagues_may_not_read_is_never_copied_to_them() -> None:
    with pytest.raises(MappingError, match="readable only by admins and the user"):
        check_schemas(parse_mapping("Badges.Salary=userDefined:Salary"), SCHEMAS)


def test_a_user_becomes_the_mapped_entries() -> None:
    rules = parse_mapping(
        "Employment.CostCenter=userDefined:Cost center,Employment.Nickname=nicknames,externalIds=userDefined:Ids,"
        "employeeId=userDefined:Employee id,locations=userDefined:Desk,costCenter=userDefined:CC,"
        "Employment.Languages=userDefined:Languages"
    )
    fields = mapped_fields(USER, rules)
    assert fields["nicknames"] == [{"value": "Bobby"}]
    assert {e["key"]: e["value"] for e in fields["userDefined"]} == {
        "Cost center": "4711", "Ids": "E1001, X-7", "Employee id": "E1001", "Desk": "HQ, floor 2, desk D1001",
        "CC": "CC-Sales", "Languages": "en, fr",
    }


@given(rule_texts)
def test_a_value_that_goes_leaves_no_entry(texts: list[str]) -> None:
    """A user without the mapped values gets the standard card, unchanged: removals converge."""
    card = {"names": [{"givenName": "Bob"}]}
    bare = {"id": "1", "primaryEmail": "b@example.com", "customSchemas": {}}
    assert apply_mapping(card, bare, parse_mapping(",".join(texts))) == card


def test_a_changed_custom_value_changes_the_cards_hash() -> None:
    rules = parse_mapping("Employment.CostCenter=userDefined:Cost center")
    before = canonical_body(apply_mapping({}, USER, rules))
    moved = {**USER, "customSchemas": {"Employment": {"CostCenter": "9999"}}}
    after = canonical_body(apply_mapping({}, moved, rules))
    assert content_hash(before) != content_hash(after)
    assert after["userDefined"] == [{"key": "Cost center", "value": "9999"}]


def test_mapped_entries_come_after_the_cards_own_and_are_not_repeated() -> None:
    card = {"emailAddresses": [{"value": "bob@example.com", "type": "work"}]}
    user = {**USER, "customSchemas": {"Employment": {"Nickname": "bob@example.com"}}}
    body = apply_mapping(card, user, parse_mapping("Employment.Nickname=emails,externalIds=emails"))
    assert [e["value"] for e in body["emailAddresses"]] == ["bob@example.com", "E1001", "X-7"]


# --- People's externalIds and locations as targets -----------------------------------------------------------
ISSUE_22 = "Employment.CostCenter=userDefined:Cost center,Employment.Nickname=nicknames,externalIds=externalIds"


def test_the_issue_example_with_external_ids_parses_and_copies_its_targets() -> None:
    from types import SimpleNamespace

    from sync_core.domain.directory_fields import copied_targets, target_fields
    from sync_core.domain.field_rules import FieldRules, job_field_rules

    rules = parse_mapping(ISSUE_22 + ",locations=locations")
    assert rules[2:] == (FieldRule("externalIds", "externalIds"), FieldRule("locations", "locations"))
    assert target_fields(rules) == ("externalIds", "locations")
    assert copied_targets(rules) == ("userDefined", "nicknames", "externalIds", "locations")
    # A mapping target is copied implicitly: the default set plus the extra fields it fills.
    job = SimpleNamespace(copy_fields=None, keep_target_fields=[], match_existing=None, directory_fields=[ISSUE_22])
    found = job_field_rules(job)  # type: ignore[arg-type]
    assert found.extra == ("externalIds",) and set(found.fields) == {*FieldRules().fields, "externalIds"}
    narrow = SimpleNamespace(copy_fields=["names"], keep_target_fields=[], match_existing=None,
                             directory_fields=[ISSUE_22])
    assert job_field_rules(narrow).fields == (  # type: ignore[arg-type]
        "names", "nicknames", "userDefined", "externalIds")
    # A job without a mapping keeps its rules exactly (and a default job stays default).
    plain = SimpleNamespace(copy_fields=None, keep_target_fields=[], match_existing=None, directory_fields=[])
    assert job_field_rules(plain).is_default  # type: ignore[arg-type]


def test_external_ids_and_locations_keep_their_people_shape() -> None:
    fields = mapped_fields(USER, parse_mapping("externalIds=externalIds,locations=locations"))
    assert fields["externalIds"] == [{"value": "E1001", "type": "organization"}, {"value": "X-7"}]
    assert fields["locations"] == [{"buildingId": "HQ", "floor": "2", "deskCode": "D1001", "type": "desk"}]
    custom = {**USER, "externalIds": [{"value": "A-1", "type": "custom", "customType": "badge"}],
              "locations": [{"type": "custom", "customType": "lab", "area": "Springfield HQ"}]}
    fields = mapped_fields(custom, parse_mapping("externalIds=externalIds,locations=locations"))
    assert fields["externalIds"] == [{"value": "A-1", "type": "badge"}]
    assert fields["locations"] == [{"value": "Springfield HQ", "type": "lab"}]
    # Another source into them: one plain entry per value.
    assert mapped_fields(USER, parse_mapping("Employment.CostCenter=externalIds"))["externalIds"] == [
        {"value": "4711"}]


def test_a_card_keeps_the_mapped_extra_fields_only_when_mapped() -> None:
    from sync_core.domain.directory_fields import target_fields

    rules = parse_mapping("externalIds=externalIds")
    card = apply_mapping({"names": [{"givenName": "Bob"}]}, USER, rules)
    assert canonical_body(card, target_fields(rules))["externalIds"][0] == {"value": "E1001", "type": "organization"}
    assert "externalIds" not in canonical_body(card)
