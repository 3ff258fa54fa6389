"""Target selectors -> the users a job writes to, re-resolved on every run, matched by immutable id.

What each kind means lives in `sync_core.kinds` (one module per kind); this module keeps the run's side:
resolving a job's selectors together, de-duplicated by user id, with one cache of users per run.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sync_core.domain.status import TargetStatus
from sync_core.kinds import KINDS, kind_of, parse_selector
from sync_core.kinds.base import EMAIL_RE, DirectoryReader, Selector, SelectorError, TargetUser

JSON = dict[str, Any]

SELECTOR_KINDS = tuple(KINDS)

__all__ = ["EMAIL_RE", "SELECTOR_KINDS", "DirectoryReader", "Resolution", "Selector", "SelectorError",
           "TargetResolver",
           "TargetUser", "parse_selector"]


@dataclass
class Resolution:
    reachable: dict[str, TargetUser] = field(default_factory=dict)  # by user id: ok or renamed
    unreachable: list[TargetUser] = field(default_factory=list)  # suspended, not_found
    email_ids: dict[str, str] = field(default_factory=dict)  # email selector value -> user id found

    def add(self, user: TargetUser, selector: Selector) -> None:
        if user.reach in (TargetStatus.ok, TargetStatus.renamed) and user.user_id:
            existing = self.reachable.get(user.user_id)
            if existing is None:
                self.reachable[user.user_id] = user
                existing = user
            elif user.reach is TargetStatus.renamed:  # an email selector's renamed status wins
                user.selected_by = existing.selected_by
                self.reachable[user.user_id] = existing = user
            existing.selected_by.append(selector.label)
            return
        if user.user_id and any(u.user_id == user.user_id for u in self.unreachable):
            return
        user.selected_by.append(selector.label)
        self.unreachable.append(user)


class TargetResolver:
    """Resolves selectors against the directory; one instance per run (it caches look-ups)."""

    def __init__(self, directory: DirectoryReader) -> None:
        self.directory = directory
        self._by_id: dict[str, JSON] | None = None
        self._result = Resolution()

    def user_by_id(self, user_id: str) -> JSON | None:
        if self._by_id is None:
            self._by_id = {u["id"]: u for u in self.directory.iter_users()}
        return self._by_id.get(user_id)

    def found_address(self, address: str, user_id: str) -> None:
        self._result.email_ids[address] = user_id

    def resolve(self, selectors: Iterable[Selector], *, exclude_ids: Iterable[str] = ()) -> Resolution:
        self._result = result = Resolution()
        excluded = set(exclude_ids)
        for selector in selectors:
            for user in kind_of(selector.kind).resolve(self, selector):
                if user.user_id in excluded:
                    continue
                result.add(user, selector)
        return result
