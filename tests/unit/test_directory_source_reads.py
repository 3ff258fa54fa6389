"""How a Directory Sync reads its source: users with the custom schemas only a mapping names, and the domain's
shared contacts with their sync token (fake clients: what is asked, and what is made of the answers)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from sync_core.domain.directory_fields import parse_mapping
from sync_core.google.domain_contacts import DirectoryPeopleRead
from sync_core.google.errors import SyncTokenExpired
from sync_core.run.directory_source import read_directory_source, read_shared_contacts, shared_contact_body
from sync_core.sync.plan import SourceItem

JSON = dict[str, Any]
USER = {"id": "1", "primaryEmail": "ann@example.com", "name": {"givenName": "Ann"},
        "customSchemas": {"Employment": {"Division": "Eng"}}}


class Directory:
    def __init__(self) -> None:
        self.asked: list[JSON] = []

    def iter_users(self, **kwargs: Any) -> Iterator[JSON]:
        self.asked.append(kwargs)
        yield USER


def read(rules: str) -> tuple[Directory, dict[str, SourceItem]]:
    directory = Directory()
    items = read_directory_source(directory, domains=["example.com"], include_ous=[], exclude_ous=[],
                                  include_aliases=False, max_contacts=10, rules=parse_mapping(rules)).items
    return directory, items


def test_a_job_without_custom_schema_fields_reads_users_as_before() -> None:
    for rules in ("", "externalIds=userDefined:Ids,costCenter=nicknames"):
        directory, _ = read(rules)
        assert directory.asked == [{"domain": "example.com"}], "basic projection, no customFieldMask"


def test_custom_schema_fields_ask_for_their_schemas_only() -> None:
    directory, items = read("Employment.Division=userDefined:Division,Badges.Number=nicknames")
    assert directory.asked == [{"domain": "example.com", "custom_schemas": ["Badges", "Employment"]}]
    assert items["1"].body["userDefined"] == [{"key": "Division", "value": "Eng"}]


def person(n: int, **fields: Any) -> JSON:
    return {"resourceName": f"people/c{n}", "metadata": {"sources": [{"type": "DOMAIN_CONTACT"}]},
            "names": [{"givenName": f"N{n}", "metadata": {"source": {"type": "DOMAIN_CONTACT"}}}], **fields}


class Shared:
    def __init__(self, full: list[JSON], delta: list[JSON] | None = None, *, expired: bool = False) -> None:
        self.full, self.delta, self.expired = full, delta or [], expired
        self.tokens: list[str | None] = []

    def read(self, *, sync_token: str | None = None) -> DirectoryPeopleRead:
        self.tokens.append(sync_token)
        if sync_token is not None:
            if self.expired:
                raise SyncTokenExpired("400 EXPIRED_SYNC_TOKEN")
            return DirectoryPeopleRead(self.delta, "t2", incremental=True)
        return DirectoryPeopleRead(self.full, "t1")


def items_of(people: list[JSON]) -> dict[str, SourceItem]:
    from sync_core.domain.contacts import content_hash

    return {p["resourceName"]: SourceItem(p["resourceName"], b, content_hash(b), None)
            for p in people if (b := shared_contact_body(p)) is not None}


def test_a_shared_contacts_fields_count_as_its_own() -> None:
    assert shared_contact_body(person(1)) == {"names": [{"givenName": "N1"}]}


numbers = st.sets(st.integers(0, 20))


@given(numbers, numbers, numbers)
def test_changes_since_the_token_make_what_a_full_read_would(
    before: set[int], edited: set[int], gone: set[int]
) -> None:
    """Cached contacts plus the delta (edits, additions, deletions) equal the contacts as they are now."""
    old = [person(n) for n in sorted(before)]
    def as_now(n: int) -> JSON:
        return person(n, nicknames=[{"value": "x"}]) if n in edited else person(n)

    now = [as_now(n) for n in sorted((before | edited) - gone)]
    delta = [person(n, nicknames=[{"value": "x"}]) for n in sorted(edited - gone)]
    delta += [{"resourceName": f"people/c{n}", "metadata": {"deleted": True}} for n in sorted(gone & (before | edited))]
    users = {"42": SourceItem("42", {}, "h", None)}  # a user's item is never touched by the shared read
    client = Shared(now, delta)
    read_ = read_shared_contacts(client, cached={**users, **items_of(old)}, sync_token="t1")  # type: ignore[arg-type]
    assert client.tokens == ["t1"] and not read_.full and read_.sync_token == "t2"
    assert read_.items == items_of(now)


def test_an_expired_token_or_none_reads_every_shared_contact() -> None:
    now = [person(1), person(2)]
    for client, token in ((Shared(now, expired=True), "old"), (Shared(now), None)):
        read_ = read_shared_contacts(client, cached=items_of([person(3)]), sync_token=token)  # type: ignore[arg-type]
        assert read_.full and read_.items == items_of(now) and read_.sync_token == "t1"
