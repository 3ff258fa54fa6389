"""`ou:/PATH`: the users of an organizational unit and of every unit under it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from sync_core.kinds.base import (
    DirectoryChecker,
    Lookup,
    Picker,
    Resolved,
    Selector,
    SelectorError,
    TargetUser,
    user_target,
)

if TYPE_CHECKING:
    from sync_core.service.directory_cache import DirectoryCache

MAX_VALUE = 150 - len("ou:")  # a Slack option value holds 150 characters


class OrgUnitKind:
    name = "orgunit"  # stored name; `ou:` is what people type
    aliases: tuple[str, ...] = ("ou",)
    help = "ou:/PATH"
    picker = Picker("pick_ous", "Organizational units (and their sub-units)")

    def parse(self, value: str) -> str:
        value = value.strip()
        if not value.startswith("/"):
            raise SelectorError("an organizational unit path starts with /")
        return value

    def validate(self, directory: DirectoryChecker, value: str) -> Resolved:
        known = {"/"} | {str(o.get("orgUnitPath")) for o in directory.list_orgunits()}
        if value not in known:
            raise SelectorError(f"no organizational unit {value}")
        return Resolved()

    def resolve(self, lookup: Lookup, selector: Selector) -> Iterator[TargetUser]:
        # Google's orgUnitPath query matches the unit and every unit under it.
        query = "orgUnitPath='{}'".format(selector.value.replace("'", "\\'"))
        yield from (user_target(u) for u in lookup.directory.iter_users(query=query))

    def count_ids(self, cache: DirectoryCache, value: str) -> set[str]:
        root = value.rstrip("/")
        return {u.id for u in cache.snapshot.users
                if value == "/" or u.orgunit == root or u.orgunit.startswith(root + "/")}

    def describe(self, value: str) -> str:
        return f"the users of the organizational unit {value} and its sub-units"

    def label(self, cache: DirectoryCache, value: str) -> str:
        return f"🏢 unit {value}"

    def options(self, cache: DirectoryCache, query: str) -> list[tuple[str, str]]:
        return [(p, f"ou:{p}") for p in cache.search_orgunits(query) if len(p) <= MAX_VALUE]


KIND = OrgUnitKind()
