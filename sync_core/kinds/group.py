"""`group:ADDRESS`: the user members of a Google Group (derived membership, nested groups included)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from sync_core.domain.status import TargetStatus
from sync_core.kinds.base import Picker, Resolved, SelectorError, TargetUser, email_value, users_of_members

if TYPE_CHECKING:
    from sync_core.kinds.base import DirectoryChecker, Lookup, Selector
    from sync_core.service.directory_cache import DirectoryCache


class GroupKind:
    name = "group"
    aliases: tuple[str, ...] = ()
    help = "group:ADDR"
    picker = Picker("pick_groups", "Google Groups")

    def parse(self, value: str) -> str:
        return email_value(value)

    def validate(self, directory: DirectoryChecker, value: str) -> Resolved:
        if directory.get_group(value) is None:
            raise SelectorError(f"no Google Group has the address {value}")
        return Resolved()

    def resolve(self, lookup: Lookup, selector: Selector) -> Iterator[TargetUser]:
        if lookup.directory.get_group(selector.value) is None:
            yield TargetUser(None, selector.value, TargetStatus.not_found, f"no Google Group {selector.value}")
            return
        yield from users_of_members(lookup, lookup.directory.iter_group_members(selector.value))

    def count_ids(self, cache: DirectoryCache, value: str) -> set[str]:
        group = next((g for g in cache.snapshot.groups if g.email == value), None)
        return set(group.member_ids) if group else set()

    def describe(self, value: str) -> str:
        return f"the members of the Google Group {value}"

    def label(self, cache: DirectoryCache, value: str) -> str:
        group = next((g for g in cache.snapshot.groups if g.email == value), None)
        return f"👥 {group.name} <{group.email}>" if group else f"👥 {value}"

    def options(self, cache: DirectoryCache, query: str) -> list[tuple[str, str]]:
        return [(f"{g.name} <{g.email}> · {len(g.member_ids)} members", f"group:{g.email}")
                for g in cache.search_groups(query)]


KIND = GroupKind()
