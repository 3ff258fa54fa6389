"""What a target kind is: the small protocol every kind module implements, and the values they share.

A kind turns the text after `kind:` into users. It is defined once, in its own module, and found through
the registry in `__init__.py`: the CLI's help, the modal's pickers, the live count, the checks at create
and edit, and the resolution on every run all ask the kind instead of testing its name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from sync_core.domain.status import TargetStatus
from sync_core.domain.text import echo, first_unprintable

if TYPE_CHECKING:  # the cache imports this module; kinds only read it
    from sync_core.service.directory_cache import DirectoryCache

JSON = dict[str, Any]

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class SelectorError(ValueError):
    """A selector that can't mean anything (bad email, unknown kind, a query Google refuses...). One line."""


@dataclass(frozen=True)
class Selector:
    kind: str  # a registered kind's name (the stored `SelectorKind` value)
    value: str
    resolved_user_id: str | None = None

    @property
    def label(self) -> str:
        """The selector as people type it: `ou:/Sales` (its stored kind is `orgunit`)."""
        from sync_core.kinds import typed  # the registry, which imports this module

        return typed(self.kind, self.value)


@dataclass
class TargetUser:
    user_id: str | None
    email: str  # the current primary address (or the selector's address when unknown)
    reach: TargetStatus  # ok, renamed (the selector names an old address), suspended or not_found
    reason: str = ""
    new_email: str | None = None  # for renamed: the address to offer the admin
    selected_by: list[str] = field(default_factory=list)


class DirectoryReader(Protocol):
    def get_user(self, user_key: str) -> JSON | None: ...
    def iter_users(self, *, domain: str | None = None, query: str | None = None) -> Iterator[JSON]: ...
    def iter_group_members(self, group_key: str) -> Iterator[JSON]: ...
    def get_group(self, group_key: str) -> JSON | None: ...
    def list_roles(self) -> list[JSON]: ...
    def iter_role_assignments(self, role_id: str) -> Iterator[JSON]: ...


class DirectoryChecker(DirectoryReader, Protocol):
    """What create/edit checks read: the resolver's reads plus the tenant's units and domains."""

    def list_orgunits(self) -> list[JSON]: ...
    def list_domains(self) -> list[JSON]: ...


class Lookup(Protocol):
    """One run's view of the directory while resolving: reads, and a cache of users by id."""

    @property
    def directory(self) -> DirectoryReader: ...
    def user_by_id(self, user_id: str) -> JSON | None: ...
    def found_address(self, address: str, user_id: str) -> None:
        """An address selector was found to be this user (the store learns renames from it)."""


@dataclass(frozen=True)
class Picker:
    """How the create/edit modal offers a kind: a searchable multi-select, or a typed value."""

    field: str  # the modal's block and action id
    label: str
    min_query_length: int = 0
    typed: bool = False  # a plain-text input (its text is the value) instead of a search
    placeholder: str = "Search or browse"


@dataclass(frozen=True)
class Resolved:
    """What a check learnt about a selector: for address selectors, whose address it is now."""

    user_id: str | None = None
    email: str | None = None


class TargetKind(Protocol):
    name: str  # stored in `target_selector.kind`; also the prefix of `kind:value`
    aliases: tuple[str, ...]  # other prefixes accepted when parsing (`ou:` for `orgunit:`)
    help: str  # the CLI's `--target` help for this kind, e.g. "ou:/PATH"
    picker: Picker

    def parse(self, value: str) -> str:
        """The normalized value, or SelectorError naming what is wrong."""

    def validate(self, directory: DirectoryChecker, value: str) -> Resolved:
        """At create/edit: it must name something that exists now (SelectorError otherwise)."""

    def resolve(self, lookup: Lookup, selector: Selector) -> Iterable[TargetUser]:
        """On every run: the users it reaches now (suspended ones too, marked so)."""

    def count_ids(self, cache: DirectoryCache, value: str) -> set[str]:
        """Ids of the users it names in the directory snapshot (for the modal's live count)."""

    def describe(self, value: str) -> str:
        """For humans, in a sentence: "the members of sales@example.com"."""

    def label(self, cache: DirectoryCache, value: str) -> str:
        """A short label with an icon for the modal's list of targets."""

    def options(self, cache: DirectoryCache, query: str) -> list[tuple[str, str]]:
        """(label, selector text) for the picker, searched in the snapshot."""


def user_target(user: JSON) -> TargetUser:
    """A directory user as a target: suspended and archived users are kept, but unreachable."""
    email = str(user["primaryEmail"]).lower()
    if user.get("suspended"):
        return TargetUser(user["id"], email, TargetStatus.suspended, "the user is suspended")
    if user.get("archived"):
        return TargetUser(user["id"], email, TargetStatus.suspended, "the user is archived")
    return TargetUser(user["id"], email, TargetStatus.ok)


def users_of_members(lookup: Lookup, members: Iterable[JSON]) -> Iterator[TargetUser]:
    """The user members of a group (derived membership), found by id."""
    for member in members:
        if member.get("type") != "USER" or not member.get("id"):
            continue
        user = lookup.user_by_id(member["id"])
        if user is not None:
            yield user_target(user)


def printable_value(value: str) -> str:
    """Every kind's value is shown on one line (`jobs show`, Slack): no control or invisible characters."""
    bad = first_unprintable(value)
    if bad is not None:
        raise SelectorError(f"a target may not contain control or invisible characters (found {bad!r})")
    return value


def email_value(value: str) -> str:
    value = value.strip()
    if not EMAIL_RE.match(value):
        raise SelectorError(f"{echo(value)} is not an email address")
    return value.lower()  # addresses are case-insensitive at Google
