"""The one table of People fields: every field has a canonical form, the names an admin types resolve to it, an
unknown name is refused with the valid ones, and what reads the table (People client, directory mapping)
agrees with it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync_core.domain import fields
from sync_core.domain.fields import (
    BY_NAME,
    DEFAULT_FIELDS,
    FIELDS,
    SELECTABLE,
    SYNCED_FIELDS,
    Carried,
    UnknownField,
    canonical_body,
    parse_field_list,
)
from sync_core.google import people
from sync_core.run import directory_source

KNOWN = ("names", "nicknames", "emailAddresses", "phoneNumbers", "organizations", "addresses", "birthdays",
         "biographies", "urls", "relations", "userDefined", "externalIds", "locations", "photos", "memberships")


def test_the_table_holds_every_field_once_with_words() -> None:
    assert sorted(BY_NAME) == sorted(KNOWN)
    assert len(FIELDS) == len(BY_NAME)
    for f in FIELDS:
        assert f.words and f.words != "", f.name
    assert BY_NAME["phoneNumbers"].words == "phone numbers"
    assert [f.name for f in FIELDS if f.carried is Carried.photo] == ["photos"]
    assert [f.name for f in FIELDS if f.carried is Carried.membership] == ["memberships"]


def test_today_every_sync_copies_every_field_but_memberships_and_the_extra_ones() -> None:
    assert set(DEFAULT_FIELDS) == set(KNOWN) - {"memberships", "externalIds", "locations"}
    assert "memberships" not in {f.name for f in SELECTABLE}


@pytest.mark.parametrize("field", FIELDS, ids=lambda f: f.name)
def test_every_field_has_a_canonical_form(field: fields.PeopleField) -> None:
    """Empty when the person has none of it; the same value whatever Google adds on read."""
    assert not field.canonical({})
    plain = {
        Carried.body: {field.name: [{"value": "x", "type": "work"}]},
        Carried.photo: {field.name: [{"url": "https://photo/1"}]},
        Carried.membership: {field.name: [{"contactGroupMembership": {"contactGroupResourceName": "contactGroups/a"}}]},
    }[field.carried]
    decorated = {field.name: [{**e, "metadata": {"primary": True, "source": {"type": "CONTACT"}}}
                              for e in plain[field.name]]}
    assert field.canonical(plain)
    assert field.canonical(decorated) == field.canonical(plain)
    profile = {field.name: [{**e, "metadata": {"source": {"type": "PROFILE"}}} for e in plain[field.name]]}
    if field.carried is not Carried.membership:
        assert not field.canonical(profile), "a linked profile's entries are not the contact's"


def test_derived_keys_go_only_when_their_parts_are_there() -> None:
    names, addresses = BY_NAME["names"], BY_NAME["addresses"]
    assert names.canonical_entry({"givenName": "Ann", "unstructuredName": "Ann", "displayName": "Ann"}) == {
        "givenName": "Ann"
    }
    assert names.canonical_entry({"unstructuredName": "Ann"}) == {"unstructuredName": "Ann"}
    assert addresses.canonical_entry({"city": "Oslo", "formattedValue": "Oslo"}) == {"city": "Oslo"}
    assert addresses.canonical_entry({"formattedValue": "Oslo"}) == {"formattedValue": "Oslo"}
    # another field's key of the same name is not derived there
    url = {"value": "u", "formattedValue": "v"}
    assert BY_NAME["urls"].canonical_entry(url) == url


def test_canonical_body_is_the_body_fields_of_the_table() -> None:
    person = {f.name: [{"value": "x"}] for f in FIELDS}
    assert tuple(canonical_body(person)) == SYNCED_FIELDS
    assert "photos" not in SYNCED_FIELDS and "memberships" not in SYNCED_FIELDS


# --- what an admin types ------------------------------------------------------------------------------------
def test_names_and_aliases_resolve_to_people_names() -> None:
    assert parse_field_list("names,phones") == ("names", "phoneNumbers")
    assert parse_field_list(" Emails , NOTES ") == ("emailAddresses", "biographies")
    assert parse_field_list(["phoneNumbers", "names,photos"]) == ("names", "phoneNumbers", "photos")
    assert parse_field_list("phones,phoneNumbers") == ("phoneNumbers",)
    assert parse_field_list("") == ()


def test_an_unknown_name_is_refused_with_the_valid_choices() -> None:
    with pytest.raises(UnknownField) as caught:
        parse_field_list("names,fax")
    message = str(caught.value)
    assert caught.value.name == "fax"
    assert message.startswith("unknown field 'fax': choose from ")
    for f in SELECTABLE:
        assert f.name in message
    assert "phoneNumbers (phones)" in message and "biographies (notes)" in message
    with pytest.raises(UnknownField):
        parse_field_list("memberships")  # the job's label: not the admin's to choose


typed_names = st.sampled_from([t for f in SELECTABLE for t in (f.name, *f.aliases)])
cases = st.sampled_from([str.lower, str.upper, str.strip, lambda t: f"  {t} "])


@given(st.lists(st.tuples(typed_names, cases), max_size=8))
def test_any_list_of_known_names_parses_to_table_order_without_repeats(picks: list[tuple[str, object]]) -> None:
    typed = [case(name) for name, case in picks]  # type: ignore[operator]
    parsed = parse_field_list(",".join(typed))
    order = [f.name for f in SELECTABLE]
    assert list(parsed) == sorted(set(parsed), key=order.index)
    assert set(parsed) == {fields.field_named(t).name for t in typed}


@given(st.text(alphabet=st.characters(blacklist_characters=","), min_size=1, max_size=12))
def test_anything_else_is_refused(name: str) -> None:
    known = {t.casefold() for f in SELECTABLE for t in (f.name, *f.aliases)}
    if not name.strip() or name.strip().casefold() in known:
        return
    with pytest.raises(UnknownField):
        parse_field_list(f"names,{name}")


# --- what reads the table -----------------------------------------------------------------------------------
def test_the_people_client_asks_for_the_tables_fields() -> None:
    read = people.PERSON_FIELDS.split(",")
    assert set(read) == {f.name for f in FIELDS if f.name not in fields.EXTRA_FIELDS} | {"clientData", "metadata"}
    assert people.TARGET_READ_FIELDS.split(",") == ["clientData", "memberships", "metadata"]


def test_the_directory_fills_the_fields_the_table_says() -> None:
    from_directory = {f.name for f in FIELDS if f.from_directory and f.carried is Carried.body}
    assert set(directory_source.FROM_DIRECTORY) == from_directory
    assert BY_NAME["photos"].from_directory  # the thumbnail's etag, apart from the body


# --- fields a job copies only when it asks (externalIds, locations) ------------------------------------------
PERSON = {
    "resourceName": "people/c1", "etag": "e",
    "names": [{"givenName": "Ada", "familyName": "Lovelace", "displayName": "Ada Lovelace",
               "metadata": {"primary": True}}],
    "emailAddresses": [{"value": "ada@example.com", "type": "work", "formattedType": "Work"}],
    "userDefined": [{"key": "Cost center", "value": "CC-1"}],
    "externalIds": [{"value": "E1001", "type": "organization", "formattedType": "Organization",
                     "metadata": {"primary": True, "source": {"type": "CONTACT", "id": "1"}}}],
    "locations": [{"value": "Springfield HQ", "type": "desk", "buildingId": "HQ", "floor": "2", "floorSection": "",
                   "deskCode": "D1", "current": True, "metadata": {"source": {"type": "CONTACT"}}}],
}


def test_extra_fields_are_selectable_but_not_copied_by_default() -> None:
    assert fields.EXTRA_FIELDS == ("externalIds", "locations")
    assert not set(fields.EXTRA_FIELDS) & set(DEFAULT_FIELDS)
    assert not set(fields.EXTRA_FIELDS) & set(SYNCED_FIELDS)
    assert parse_field_list("locations, NAMES, externalids") == ("names", "externalIds", "locations")


def test_the_default_masks_and_a_default_contacts_hash_are_what_they_were() -> None:
    """Pinned from before the extra fields existed: a default job's People read mask (and so its sync tokens),
    its update mask and its contacts' content hashes must not move."""
    from sync_core.domain.contacts import content_hash
    from sync_core.domain.field_rules import DEFAULT_RULES

    before = ("names,nicknames,emailAddresses,phoneNumbers,organizations,addresses,urls,birthdays,biographies,"
              "relations,userDefined")
    assert people.PERSON_FIELDS.split(",") == [*before.split(","), "memberships", "clientData", "metadata", "photos"]
    assert ",".join(fields.read_fields(DEFAULT_RULES.extra)) == people.PERSON_FIELDS
    assert ",".join(SYNCED_FIELDS) == before  # the default update mask, less our tag
    assert content_hash(canonical_body(PERSON)) == (
        "8080049c213d68a9c88e9c18b3af49382a6496c1895710a1eef139c73cd8b272"
    )
    assert "externalIds" not in canonical_body(PERSON)


def test_extra_fields_canonical_forms_drop_what_google_adds() -> None:
    body = canonical_body(PERSON, ("externalIds", "locations"))
    assert body["externalIds"] == [{"value": "E1001", "type": "organization"}]
    assert body["locations"] == [
        {"value": "Springfield HQ", "type": "desk", "buildingId": "HQ", "floor": "2", "deskCode": "D1",
         "current": True}
    ]
    assert fields.read_fields(["locations"])[-1] == "locations"
