"""`email:ADDRESS`: one user, remembered by id so a rename is followed and reported."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from sync_core.domain.status import TargetStatus
from sync_core.kinds.base import Picker, Resolved, SelectorError, TargetUser, email_value, user_target

if TYPE_CHECKING:
    from sync_core.kinds.base import DirectoryChecker, Lookup, Selector
    from sync_core.service.directory_cache import DirectoryCache


class EmailKind:
    name = "email"
    aliases: tuple[str, ...] = ("user",)
    help = "email:ADDR"
    picker = Picker("pick_users", "Users (search by name or email)", min_query_length=1)

    def parse(self, value: str) -> str:
        return email_value(value)

    def validate(self, directory: DirectoryChecker, value: str) -> Resolved:
        user = directory.get_user(value)
        if user is None:
            raise SelectorError(f"no user has the address {value}")
        return Resolved(str(user["id"]), str(user["primaryEmail"]).lower())

    def resolve(self, lookup: Lookup, selector: Selector) -> Iterator[TargetUser]:
        value, known_id = selector.value, selector.resolved_user_id
        directory = lookup.directory
        user = directory.get_user(value)
        if user is not None and known_id and user["id"] != known_id:
            # The address now belongs to someone else: the person we meant is found by id.
            user = directory.get_user(known_id)
        elif user is None and known_id:
            user = directory.get_user(known_id)
        if user is None:
            yield TargetUser(known_id, value, TargetStatus.not_found, "no user has this address (deleted?)")
            return
        lookup.found_address(value, user["id"])
        target = user_target(user)
        if target.reach is TargetStatus.ok and target.email != value:
            target.reach = TargetStatus.renamed
            target.new_email = target.email
            target.reason = f"{value} was renamed to {target.email}"
        yield target

    def count_ids(self, cache: DirectoryCache, value: str) -> set[str]:
        user = cache.user(value)
        return {user.id} if user else set()

    def describe(self, value: str) -> str:
        return f"the user {value}"

    def label(self, cache: DirectoryCache, value: str) -> str:
        user = cache.user(value)
        return f"👤 {user.name} <{user.email}>" if user else f"👤 {value}"

    def options(self, cache: DirectoryCache, query: str) -> list[tuple[str, str]]:
        return [(f"{u.name} <{u.email}>", f"email:{u.email}") for u in cache.search_users(query)]


KIND = EmailKind()
