"""Create/edit modal drafts, kept server-side between the modal's steps.

A draft can hold hundreds of targets, more than a view's 3,000-character `private_metadata`, so the view
carries only the draft's id. Drafts live in this process's memory and expire after `ttl_seconds`
(Slack closes an idle modal long before that).
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Literal

from sync_core.schedule import DEFAULT_SCHEDULE

Kind = Literal["personal", "directory"]


@dataclass
class Draft:
    id: str
    user_id: str
    mode: Literal["create", "edit"] = "create"
    original_name: str | None = None  # the job being edited
    channel_id: str | None = None  # where the command came from
    kind: Kind = "personal"
    name: str = ""
    source_email: str | None = None
    source_label: str | None = None
    groups: list[str] | None = None  # the source's contact groups; None = not loaded yet
    groups_error: str | None = None  # why they could not be loaded
    group_name: str | None = None
    target_group_name: str = ""
    add_to_my_contacts: bool = False
    description: str = ""
    alert_channel: str | None = None
    schedule: str = DEFAULT_SCHEDULE
    domains: list[str] = field(default_factory=list)
    include_ous: list[str] = field(default_factory=list)
    exclude_ous: list[str] = field(default_factory=list)
    include_self: bool = False
    include_aliases: bool = False
    targets: list[str] = field(default_factory=list)  # selector texts, e.g. "group:sales@example.com"
    target_page: int = 0
    error: str | None = None  # a refusal that arrived after the form was answered (shown at the top)
    rev: int = 0  # bumped to make Slack re-apply initial values (block ids carry it)

    def add_targets(self, texts: list[str]) -> int:
        added = 0
        for text in texts:
            if text not in self.targets:
                self.targets.append(text)
                added += 1
        return added


class DraftStore:
    def __init__(self, ttl_seconds: float = 6 * 3600) -> None:
        self.ttl_seconds = ttl_seconds
        self._drafts: dict[str, tuple[float, Draft]] = {}
        self._lock = threading.Lock()

    def new(self, user_id: str, **values: object) -> Draft:
        draft = Draft(id=secrets.token_urlsafe(12), user_id=user_id, **values)  # type: ignore[arg-type]
        self.put(draft)
        return draft

    def put(self, draft: Draft) -> None:
        now = time.monotonic()
        with self._lock:
            self._drafts = {k: v for k, v in self._drafts.items() if now - v[0] < self.ttl_seconds}
            self._drafts[draft.id] = (now, draft)

    def get(self, draft_id: str) -> Draft | None:
        with self._lock:
            found = self._drafts.get(draft_id)
            if found is None or time.monotonic() - found[0] >= self.ttl_seconds:
                return None
            self._drafts[draft_id] = (time.monotonic(), found[1])
            return found[1]

    def drop(self, draft_id: str) -> None:
        with self._lock:
            self._drafts.pop(draft_id, None)
