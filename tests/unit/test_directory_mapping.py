"""The pure mapping from a Directory user to a contact, and the OU rules."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from sync_core.run.directory_source import is_listed, under, user_contact

USER = {
    "id": "1",
    "primaryEmail": "Ann@Example.com",
    "aliases": ["ann.lee@example.com"],
    "name": {"givenName": "Ann", "familyName": "Lee", "fullName": "Ann Lee"},
    "phones": [
        {"value": "+1 555 0100", "type": "home"},
        {"value": "+1 555 0101", "type": "work"},
        {"value": "+1 555 0102", "type": "mobile", "primary": True},
    ],
    "organizations": [
        {"name": "Old Co", "title": "Intern"},
        {"name": "Example", "title": "CTO", "department": "Eng", "costCenter": "42", "location": "HQ", "primary": True},
    ],
    "addresses": [
        {"type": "home", "formatted": "secret"},
        {"type": "work", "streetAddress": "1 Main St", "locality": "Oslo", "country": "Norway", "countryCode": "NO"},
    ],
    "relations": [{"value": "boss@example.com", "type": "manager"}, {"value": "x", "type": "friend"}],
    "orgUnitPath": "/Sales/EMEA",
}


def test_user_contact_maps_the_documented_fields() -> None:
    body = user_contact(USER, manager_names={"boss@example.com": "The Boss"}, include_aliases=True)
    assert body["names"] == [{"givenName": "Ann", "familyName": "Lee"}]
    assert body["emailAddresses"] == [
        {"value": "ann@example.com", "type": "work"},
        {"value": "ann.lee@example.com", "type": "work"},
    ]
    assert body["phoneNumbers"] == [
        {"value": "+1 555 0102", "type": "mobile"},
        {"value": "+1 555 0101", "type": "work"},
    ], "primary first; home numbers stay private"
    assert body["organizations"] == [
        {"type": "work", "name": "Example", "title": "CTO", "department": "Eng", "costCenter": "42", "location": "HQ"}
    ]
    assert body["addresses"] == [
        {"type": "work", "streetAddress": "1 Main St", "city": "Oslo", "country": "Norway", "countryCode": "NO"}
    ]
    assert body["relations"] == [{"person": "The Boss", "type": "manager"}]


def test_aliases_only_when_asked_and_full_name_fallback() -> None:
    body = user_contact(
        {"id": "2", "primaryEmail": "x@example.com", "aliases": ["y@example.com"], "name": {"fullName": "Xavier"}},
        manager_names={},
        include_aliases=False,
    )
    assert body == {
        "names": [{"unstructuredName": "Xavier"}],
        "emailAddresses": [{"value": "x@example.com", "type": "work"}],
    }


def test_who_is_listed() -> None:
    assert is_listed(USER, include_ous=[], exclude_ous=[])
    assert is_listed(USER, include_ous=["/Sales"], exclude_ous=[])
    assert not is_listed(USER, include_ous=["/Sales"], exclude_ous=["/Sales/EMEA"])
    assert not is_listed(USER, include_ous=["/Engineering"], exclude_ous=[])
    for flag in ({"suspended": True}, {"archived": True}, {"includeInGlobalAddressList": False}):
        assert not is_listed({**USER, **flag}, include_ous=[], exclude_ous=[])


paths = st.lists(st.sampled_from(["Sales", "EMEA", "Eng", "Sales2"]), max_size=3).map(lambda p: "/" + "/".join(p))


@given(paths, paths)
def test_under_is_prefix_on_whole_units(path: str, root: str) -> None:
    expected = root == "/" or path == root or path.startswith(root.rstrip("/") + "/")
    assert under(path, [root]) == expected
    assert not under("/Sales2", ["/Sales"])
