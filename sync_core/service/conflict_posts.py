"""Conflicts as Slack posts them (issue 21): each open conflict once to its job's alert channel, named for a
reader (the contact by its name, each side by its address), and found again when its button is pressed.

Several replicas may finish runs of one job: a conflict is claimed (one conditional UPDATE) before it is
posted, so it is posted once whichever gets there first; a post Slack refused gives the claim back, and the
next run's poster posts it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from sqlalchemy import Engine as DbEngine

from sync_core import store
from sync_core.domain.models import ConflictState, MergeConflict, SyncJob
from sync_core.google.directory import DirectoryClient
from sync_core.google.errors import GoogleError
from sync_core.run.merge_phase import contact_label
from sync_core.service.editors import ConflictView, conflict_view

_EDITOR = re.compile(r"editor:([^\s,:]+)")


@dataclass(frozen=True)
class ConflictNotice:
    """One conflict with its job and its message (None until posted)."""

    job: SyncJob
    conflict: ConflictView
    channel: str | None
    message_ts: str | None

    @property
    def is_open(self) -> bool:
        return self.conflict.state == ConflictState.open.value


def _email(directory: DirectoryClient, user_id: str, known: dict[str, str]) -> str:
    if user_id not in known:
        try:
            user = directory.get_user(user_id)
        except GoogleError:  # the directory unreachable: the id still names them
            user = None
        known[user_id] = str((user or {}).get("primaryEmail") or f"editor {user_id}")
    return known[user_id]


def _named(db: DbEngine, directory: DirectoryClient, job: SyncJob, row: MergeConflict,
           known: dict[str, str]) -> ConflictView:
    """The stored conflict with its sides named by address and its contact by name."""
    view = conflict_view(row)

    def who(text: str) -> str:
        text = _EDITOR.sub(lambda m: _email(directory, m.group(1), known), text)
        return re.sub(r"\bsource\b", f"{job.source_email} (source)", text, count=1)

    with store.session_scope(db) as session:
        base = store.base_content(session, job_id=row.job_id, key=row.contact_key)
    return replace(view, contact=contact_label(row.contact_key, base), kept=who(view.kept),
                   losers=tuple(who(loser) for loser in view.losers))


def claim_for_posting(db: DbEngine, directory: DirectoryClient, job: SyncJob) -> list[ConflictView]:
    """The job's open conflicts not posted yet, claimed by this process (oldest first), named for a reader."""
    assert job.id is not None
    with store.session_scope(db) as session:
        ids = store.claim_conflicts_for_posting(session, job_id=job.id)
        rows = [row for row in (store.get_conflict(session, conflict_id=i) for i in ids) if row is not None]
    known: dict[str, str] = {}
    return [_named(db, directory, job, row, known) for row in rows]


def posted(db: DbEngine, conflict_id: int, *, channel: str, message_ts: str) -> None:
    with store.session_scope(db) as session:
        store.set_conflict_message(session, conflict_id=conflict_id, channel=channel, message_ts=message_ts)


def release(db: DbEngine, conflict_id: int) -> None:
    with store.session_scope(db) as session:
        store.release_conflict_claim(session, conflict_id=conflict_id)


def notice(db: DbEngine, directory: DirectoryClient, job_id: int, conflict_id: int) -> ConflictNotice | None:
    """A conflict of that job (None if the job or the conflict is gone, or the conflict is another job's)."""
    with store.session_scope(db) as session:
        job = store.get_job(session, job_id=job_id)
        row = store.get_conflict(session, conflict_id=conflict_id)
    if job is None or row is None or row.job_id != job_id:
        return None
    return ConflictNotice(job, _named(db, directory, job, row, {}), row.channel, row.message_ts)
