"""`DraftBook`: forms half filled in, kept in the database so that a form opened through one replica can be
carried on and finished through another. The payload is opaque here (the bot's modal state, as JSON text):
sync_core stores it without knowing what it is.

Each save names the version it was based on and is refused when the draft has moved on since (optimistic
concurrency: one conditional UPDATE), so two requests racing on one draft cannot silently undo each other.
Drafts expire `DRAFT_TTL` after their last save (Slack closes an idle modal long before); expired rows are
deleted whenever a new draft is made.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import Engine as DbEngine

from sync_core import store
from sync_core.domain.models import StoredDraft, utcnow

DRAFT_TTL = timedelta(days=1)


class DraftBook:
    """Where drafts are kept: `StoredDraft` rows, read and written a whole draft at a time (callers get detached
    rows: nothing they do to one reaches the database but through `save`)."""

    def __init__(self, db: DbEngine, *, ttl: timedelta = DRAFT_TTL, clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.ttl = ttl
        self.clock = clock

    def new(self, owner: str, payload: str) -> StoredDraft:
        """A new draft at version 1 (and expired ones cleaned away)."""
        now = self.clock()
        draft_id = secrets.token_urlsafe(16)
        with store.session_scope(self.db) as session:
            store.delete_expired_drafts(session, now=now)
            return store.add_draft(session, draft_id=draft_id, owner=owner, payload=payload,
                                   expires_at=now + self.ttl)

    def get(self, draft_id: str) -> StoredDraft | None:
        """The draft as last saved; None if there is none (finished, cancelled) or it has expired."""
        if not draft_id:
            return None
        with store.session_scope(self.db) as session:
            return store.get_draft(session, draft_id=draft_id, now=self.clock())

    def save(self, draft_id: str, *, version: int, payload: str) -> int | None:
        """Replace the payload of the draft at `version`: its new version; None (nothing written) if it is at
        another version by now, or gone."""
        now = self.clock()
        with store.session_scope(self.db) as session:
            return store.save_draft(session, draft_id=draft_id, version=version, payload=payload,
                                    expires_at=now + self.ttl, now=now)

    def drop(self, draft_id: str) -> None:
        with store.session_scope(self.db) as session:
            store.delete_draft(session, draft_id=draft_id)
