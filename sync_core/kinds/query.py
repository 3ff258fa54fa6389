"""`query:<users.list query>`: the users matching a Directory API search, e.g. `query:orgDepartment='Sales'`.

The query is Google's own language (https://developers.google.com/admin-sdk/directory/v1/guides/search-users):
we do not parse it, Google does. So a query is checked by asking Google at create/edit — a refused query
(400 "Invalid Input") is a field error there — and re-run on every run, so people who join the department
get the contacts and people who leave it lose them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from sync_core.domain.status import TargetStatus
from sync_core.kinds.base import Picker, Resolved, SelectorError, TargetUser, echo, user_target

if TYPE_CHECKING:
    from sync_core.google.errors import BadRequest
    from sync_core.kinds.base import DirectoryChecker, Lookup, Selector
    from sync_core.service.directory_cache import DirectoryCache

MAX_QUERY = 1000  # far beyond any real query; keeps a stored selector and a Slack button value sane


def refused(value: str, exc: BadRequest) -> str:
    return f"the directory refused the query {echo(value)} ({exc.reason})"


class QueryKind:
    name = "query"
    aliases: tuple[str, ...] = ()
    help = "query:QUERY (a Directory search, e.g. query:orgDepartment='Sales')"
    picker = Picker("pick_query", "Directory query (e.g. orgDepartment='Sales' or orgTitle:Manager)", typed=True,
                    placeholder="orgDepartment='Sales'")

    def parse(self, value: str) -> str:
        value = value.strip()  # inner blanks may be inside a quoted value: kept as typed
        if len(value) > MAX_QUERY:
            raise SelectorError(f"a directory query holds at most {MAX_QUERY} characters")
        return value

    def validate(self, directory: DirectoryChecker, value: str) -> Resolved:
        from sync_core.google.errors import (
            BadRequest,  # here, not above: the registry (the CLI's help) needs no Google client
        )

        try:
            next(iter(directory.iter_users(query=value)), None)
        except BadRequest as exc:
            raise SelectorError(refused(value, exc)) from None
        return Resolved()

    def resolve(self, lookup: Lookup, selector: Selector) -> Iterator[TargetUser]:
        from sync_core.google.errors import BadRequest

        try:
            users = list(lookup.directory.iter_users(query=selector.value))
        except BadRequest as exc:  # e.g. a unit it names was deleted: this selection reaches nobody
            yield TargetUser(None, selector.label, TargetStatus.not_found, refused(selector.value, exc))
            return
        yield from (user_target(u) for u in users)

    def count_ids(self, cache: DirectoryCache, value: str) -> set[str]:
        return cache.query_ids(value)

    def describe(self, value: str) -> str:
        return f"the users matching the directory query {value}"

    def label(self, cache: DirectoryCache, value: str) -> str:
        return f"🔎 query {value}"

    def options(self, cache: DirectoryCache, query: str) -> list[tuple[str, str]]:
        return []  # typed, not picked


KIND = QueryKind()
