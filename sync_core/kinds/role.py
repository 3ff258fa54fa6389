"""`role:NAME`: the users an admin role is assigned to, directly or through a group."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from sync_core.domain.status import TargetStatus
from sync_core.kinds.base import Picker, Resolved, SelectorError, TargetUser, echo, user_target, users_of_members

if TYPE_CHECKING:
    from sync_core.kinds.base import DirectoryChecker, Lookup, Selector
    from sync_core.service.directory_cache import DirectoryCache

MAX_VALUE = 150 - len("role:")  # a Slack option value holds 150 characters


class RoleKind:
    name = "role"
    aliases: tuple[str, ...] = ()
    help = "role:NAME"
    picker = Picker("pick_roles", "Admin roles")

    def parse(self, value: str) -> str:
        return value.strip()

    def validate(self, directory: DirectoryChecker, value: str) -> Resolved:
        roles = [str(r.get("roleName", "")) for r in directory.list_roles()]
        if value.lower() not in {r.lower() for r in roles}:
            raise SelectorError(f"no admin role named {echo(value)} (roles: {', '.join(sorted(roles))})")
        return Resolved()

    def resolve(self, lookup: Lookup, selector: Selector) -> Iterator[TargetUser]:
        name = selector.value
        role = next((r for r in lookup.directory.list_roles()
                     if str(r.get("roleName", "")).lower() == name.lower() or str(r.get("roleId")) == name), None)
        if role is None:
            yield TargetUser(None, name, TargetStatus.not_found, f"no admin role named {name!r}")
            return
        for assignment in lookup.directory.iter_role_assignments(str(role["roleId"])):
            assignee = assignment.get("assignedTo")
            if not assignee:
                continue
            if assignment.get("assigneeType") == "group":
                group = lookup.directory.get_group(assignee)
                if group is not None:
                    yield from users_of_members(lookup, lookup.directory.iter_group_members(group["email"]))
                continue
            user = lookup.user_by_id(assignee)
            if user is not None:
                yield user_target(user)

    def count_ids(self, cache: DirectoryCache, value: str) -> set[str]:
        role = next((r for r in cache.snapshot.roles if r.name.casefold() == value.casefold()), None)
        return set(role.user_ids) if role else set()

    def describe(self, value: str) -> str:
        return f"the holders of the admin role {value!r}"

    def label(self, cache: DirectoryCache, value: str) -> str:
        return f"🛡 role {value}"

    def options(self, cache: DirectoryCache, query: str) -> list[tuple[str, str]]:
        return [(f"{r.name} · {len(r.user_ids)} users", f"role:{r.name}") for r in cache.search_roles(query)
                if len(r.name) <= MAX_VALUE]


KIND = RoleKind()
