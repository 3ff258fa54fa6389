"""A Directory Sync builds again only the cards of users whose version moved (their etag, the job's mapping, their
managers' names): reading with what the store knew gives exactly what reading afresh gives."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync_core.domain.directory_fields import parse_mapping
from sync_core.run import directory_source
from sync_core.run.directory_source import (
    DirectoryRead,
    KnownUser,
    card_version,
    mapping_digest,
    read_directory_source,
    user_card,
)

JSON = dict[str, Any]


def with_etag(user: JSON) -> JSON:
    """A user as Google lists them: with an etag that changes exactly when the user does."""
    plain = {k: v for k, v in user.items() if k != "etag"}
    return {**plain, "etag": hashlib.sha1(json.dumps(plain, sort_keys=True).encode()).hexdigest()}


def user(n: int, *, title: str = "", manager: int | None = None, family: str = "") -> JSON:
    u: JSON = {"id": str(n), "primaryEmail": f"u{n}@example.com",
               "name": {"givenName": f"U{n}", "familyName": family, "fullName": f"U{n} {family}".strip()},
               "organizations": [{"title": title, "primary": True}] if title else [],
               "externalIds": [{"value": f"E{n}", "type": "organization"}]}
    if manager is not None:
        u["relations"] = [{"value": f"u{manager}@example.com", "type": "manager"}]
    return with_etag(u)


class Directory:
    def __init__(self, users: list[JSON]) -> None:
        self.users = users
        self.listings = 0

    def iter_users(self, **_: Any) -> Iterator[JSON]:
        self.listings += 1
        yield from self.users


def read(directory: Directory, known: dict[str, KnownUser] | None = None, *, rules: str = "",
         include_aliases: bool = False) -> DirectoryRead:
    return read_directory_source(directory, domains=["example.com"], include_ous=[], exclude_ous=[],
                                 include_aliases=include_aliases, max_contacts=1000, rules=parse_mapping(rules),
                                 known=known)


def same(a: DirectoryRead, b: DirectoryRead) -> bool:
    """The same contacts and versions (however many cards each read built)."""
    return (a.items, a.versions) == (b.items, b.versions)


def known_of(listing: DirectoryRead) -> dict[str, KnownUser]:
    """What the store keeps of a read: each contact with its version."""
    return {k: KnownUser(item, listing.versions[k]) for k, item in listing.items.items() if k in listing.versions}


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The primary address of each user whose card is built."""
    built: list[str] = []
    real = directory_source.user_contact

    def counting(user: Any, **kw: Any) -> JSON:
        built.append(str(user["primaryEmail"]))
        return real(user, **kw)

    monkeypatch.setattr(directory_source, "user_contact", counting)
    return built


# --- the pure parts ------------------------------------------------------------------------------------------
def test_a_users_card_version_moves_with_their_etag_and_with_the_mapping() -> None:
    mapping = mapping_digest((), include_aliases=False)
    ann = user(1)
    assert user_card(ann, mapping) == user_card(dict(ann), mapping)
    assert user_card({**ann, "etag": "other"}, mapping) != user_card(ann, mapping)
    assert user_card(ann, mapping_digest((), include_aliases=True)) != user_card(ann, mapping)
    assert user_card(ann, mapping_digest(parse_mapping("costCenter=nicknames"), include_aliases=False)) != \
        user_card(ann, mapping)
    assert user_card({k: v for k, v in ann.items() if k != "etag"}, mapping) is None, "no etag: never kept"


def test_every_rule_and_its_order_are_in_the_mapping_digest() -> None:
    one, two = parse_mapping("costCenter=nicknames"), parse_mapping("costCenter=nicknames,title=userDefined:T")
    mappings = ((), one, two, tuple(reversed(two)))
    digests = {mapping_digest(r, include_aliases=a) for r in mappings for a in (False, True)}
    assert len(digests) == 8


def test_a_card_naming_managers_has_their_names_in_its_version() -> None:
    assert card_version("c", (), {}) == "c"
    named = card_version("c", ("boss@example.com",), {"boss@example.com": "Boss One"})
    assert named.startswith("c.")
    assert card_version("c", ("BOSS@example.com",), {"boss@example.com": "Boss One"}) == named
    assert card_version("c", ("boss@example.com",), {"boss@example.com": "Boss Two"}) != named
    assert card_version("c", ("boss@example.com",), {}) != named, "an unknown manager is named by the address"


# --- reading with what the store knew ------------------------------------------------------------------------
def test_a_read_with_nothing_known_builds_every_card_and_gives_their_versions(builds: list[str]) -> None:
    listing = read(Directory([user(1), user(2, title="CTO")]))
    assert sorted(builds) == ["u1@example.com", "u2@example.com"]
    assert listing.built == 2
    assert set(listing.versions) == {"1", "2"}


def test_only_the_changed_users_cards_are_built_again(builds: list[str]) -> None:
    first = read(Directory([user(1), user(2), user(3)]))
    builds.clear()
    directory = Directory([user(1), user(2, title="CTO"), user(3)])
    again = read(directory, known_of(first))
    assert builds == ["u2@example.com"]
    assert again.built == 1
    assert again.items["2"].body["organizations"] == [{"title": "CTO", "type": "work"}]
    assert again.items["1"].body is first.items["1"].body, "the stored body, not a new one"
    assert same(again, read(Directory(directory.users))), "as a read without the store"


def test_the_stored_contact_is_taken_as_stored(builds: list[str]) -> None:
    """Were the stored card not taken as stored (but built again), the marker would be gone."""
    first = read(Directory([user(1)]))
    stored = first.items["1"]._replace(body={"names": [{"givenName": "as stored"}]}, hash="stored-hash")
    builds.clear()
    again = read(Directory([user(1)]), {"1": KnownUser(stored, first.versions["1"])})
    assert builds == []
    assert (again.items["1"].body, again.items["1"].hash) == (stored.body, "stored-hash")


def test_a_photo_is_read_from_the_listing_even_when_the_card_is_kept(builds: list[str]) -> None:
    first = read(Directory([user(1)]))
    builds.clear()
    again = read(Directory([{**user(1), "thumbnailPhotoEtag": "p2"}]), known_of(first))
    assert again.items["1"].photo == "p2"


@pytest.mark.parametrize(("rules", "aliases"), [("costCenter=nicknames", False), ("", True)])
def test_a_changed_mapping_builds_every_card_again(builds: list[str], rules: str, aliases: bool) -> None:
    users = [user(1), user(2)]
    first = read(Directory(users))
    builds.clear()
    again = read(Directory(users), known_of(first), rules=rules, include_aliases=aliases)
    assert sorted(builds) == ["u1@example.com", "u2@example.com"]
    assert not set(again.versions.values()) & set(first.versions.values())


def test_a_renamed_manager_gets_the_cards_naming_them_built_again(builds: list[str]) -> None:
    first = read(Directory([user(1, manager=2), user(2, family="Old")]))
    assert first.items["1"].body["relations"][0]["person"] == "U2 Old"
    builds.clear()
    directory = Directory([user(1, manager=2), user(2, family="New")])  # u1's etag has not moved
    again = read(directory, known_of(first))
    assert again.items["1"].body["relations"][0]["person"] == "U2 New"
    assert directory.listings == 2, "listed again, every card built"
    assert same(again, read(Directory(directory.users)))


def test_users_without_an_etag_are_always_built(builds: list[str]) -> None:
    bare = {k: v for k, v in user(1).items() if k != "etag"}
    first = read(Directory([bare]))
    assert first.versions == {}
    builds.clear()
    read(Directory([bare]), {"1": KnownUser(first.items["1"], "anything")})
    assert builds == ["u1@example.com"]


def test_a_user_gone_from_the_listing_is_gone_whatever_was_known() -> None:
    first = read(Directory([user(1), user(2)]))
    assert set(read(Directory([user(1)]), known_of(first)).items) == {"1"}


EDITS = st.sampled_from(["title", "family", "manager", "drop", "keep"])


@given(size=st.integers(1, 6), edits=st.lists(st.tuples(st.integers(0, 5), EDITS), max_size=8),
       rules=st.sampled_from(["", "title=nicknames", "externalIds=userDefined:Ids"]))
def test_reading_with_what_was_stored_gives_what_a_fresh_read_gives(
    size: int, edits: list[tuple[int, str]], rules: str
) -> None:
    specs: dict[int, JSON] = {n: {"title": "", "family": "", "manager": None} for n in range(size)}
    before = [user(n, **spec) for n, spec in specs.items()]
    for n, edit in edits:
        if n not in specs:
            continue
        if edit == "drop":
            del specs[n]
        elif edit == "title":
            specs[n]["title"] = specs[n]["title"] + "x"
        elif edit == "family":
            specs[n]["family"] = specs[n]["family"] + "y"
        elif edit == "manager":
            specs[n]["manager"] = (n + 1) % size
    after = [user(n, **spec) for n, spec in specs.items()]
    stored = known_of(read(Directory(before), rules=rules))
    assert same(read(Directory(after), stored, rules=rules), read(Directory(after), rules=rules))



# --- the card's format -----------------------------------------------------------------------------------------
RICH_USER: JSON = {
    "id": "7", "primaryEmail": "Rita@example.com", "aliases": ["rita.old@example.com"],
    "name": {"givenName": "Rita", "familyName": "Rich", "fullName": "Rita Rich"},
    "phones": [{"value": "+1 415 555 0101", "type": "home"}, {"value": "+1 415 555 0102", "type": "work_mobile"},
               {"value": "+1 415 555 0103", "type": "work", "primary": True}],
    "organizations": [{"title": "CFO", "department": "Finance", "costCenter": "CC-1", "primary": True}],
    "addresses": [{"type": "home", "locality": "Nowhere"},
                  {"type": "work", "streetAddress": "1 Main St", "locality": "Springfield", "countryCode": "US"}],
    "relations": [{"value": "boss@example.com", "type": "manager"}, {"value": "pal@example.com", "type": "friend"}],
    "externalIds": [{"value": "E-7", "type": "organization"}],
    "customSchemas": {"Employment": {"Division": "Money"}},
    "etag": "e7",
}
# The card RICH_USER makes under CARD_FORMAT: a change of the code that makes cards changes it, and must come
# with a new CARD_FORMAT (else the stored cards of users who did not change would never be made the new way).
CARD_HASHES = {"1": "50e868a32d25ac0b1bf931e78ced2e9c960e685e34a1bbc426cb29038e1b8713"}


def test_the_card_a_user_makes_is_the_one_its_format_says() -> None:
    boss = {"id": "8", "primaryEmail": "boss@example.com", "name": {"fullName": "Big Boss"}, "etag": "e8"}
    rules = "Employment.Division=userDefined:Division,externalIds=externalIds"
    listing = read(Directory([RICH_USER, boss]), rules=rules, include_aliases=True)
    assert listing.items["7"].hash == CARD_HASHES[directory_source.CARD_FORMAT], (
        "the code that makes cards changed what it makes: bump CARD_FORMAT and record the new hash here"
    )


def test_a_change_of_the_field_table_changes_every_cards_version(monkeypatch: pytest.MonkeyPatch) -> None:
    before = mapping_digest((), include_aliases=False)
    first, *rest = directory_source.BODY_FIELDS
    monkeypatch.setattr(directory_source, "BODY_FIELDS", (dataclasses.replace(first, default=not first.default), *rest))
    assert mapping_digest((), include_aliases=False) != before
