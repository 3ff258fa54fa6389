"""Who may change ContactSync: the Slack users in CONTACTSYNC_ADMINS, plus the members of an optional
Slack user group (read with `usergroups.users.list`, cached for a few minutes)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)


class AdminCheck:
    def __init__(
        self, client: WebClient, admins: Iterable[str], *, usergroup: str | None = None, ttl_seconds: float = 300.0
    ) -> None:
        self.client = client
        self.admins = frozenset(a.strip() for a in admins if a.strip())
        self.usergroup = usergroup
        self.ttl_seconds = ttl_seconds
        self._members: frozenset[str] = frozenset()
        self._read_at: float | None = None
        self._lock = threading.Lock()

    def _group_members(self) -> frozenset[str]:
        if not self.usergroup:
            return frozenset()
        with self._lock:
            if self._read_at is not None and time.monotonic() - self._read_at < self.ttl_seconds:
                return self._members
            try:
                answer = self.client.usergroups_users_list(usergroup=self.usergroup)
                self._members = frozenset(answer.get("users") or ())
            except SlackApiError as exc:  # keep the last known members; the listed admins still work
                log.warning("cannot read user group %s: %s", self.usergroup, exc.response.get("error"))
            self._read_at = time.monotonic()
            return self._members

    def is_admin(self, user_id: str | None) -> bool:
        if not user_id:
            return False
        return user_id in self.admins or user_id in self._group_members()

    def admin_ids(self) -> list[str]:
        return sorted(self.admins | self._group_members())

    def refusal(self) -> str:
        who = ", ".join(f"<@{a}>" for a in sorted(self.admins)[:10]) or "nobody yet (set CONTACTSYNC_ADMINS)"
        group = f" or members of <!subteam^{self.usergroup}>" if self.usergroup else ""
        return (
            ":no_entry: Only ContactSync admins can create, change, run or delete syncs. "
            f"Admins: {who}{group}. Nothing was changed."
        )
