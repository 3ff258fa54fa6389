"""The one-click fixes behind alert buttons, as job and store operations (no Slack here).

Each is idempotent: applied twice, the second does nothing and says so (`FixResult.changed` False), and
each change is recorded in the job's audit log. A fix that no longer applies (the job is gone, the
address now belongs to someone else) raises `FixRefused` with a sentence for the admin.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sqlalchemy import Engine as DbEngine

from sync_core import store
from sync_core.alerting.alert_kinds import Fix
from sync_core.domain.models import Alert, AlertState, SelectorKind, SyncJob, TargetSelector
from sync_core.google.directory import DirectoryClient
from sync_core.google.people import PeopleClient
from sync_core.service.changes import edit_job, set_enabled
from sync_core.service.errors import JobInputError
from sync_core.service.specs import JobEdit
from sync_core.sync.deletion_guard import APPLY_AUDIT_ACTION, CONFIRM_EMPTY_AUDIT_ACTION


class FixRefused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class FixResult:
    changed: bool
    message: str  # what was done (or why nothing was), in words, without who did it


def _job(db: DbEngine, job_id: int) -> SyncJob:
    with store.session_scope(db) as session:
        job = store.get_job(session, job_id=job_id)
    if job is None:
        raise FixRefused("this sync no longer exists")
    return job


def replace_email_target(
    db: DbEngine,
    *,
    job_id: int,
    old: str,
    new: str,
    actor: str,
    directory: DirectoryClient,
    user_id: str | None = None,
) -> FixResult:
    """A renamed `email:` target (listed as `old`, or resolved to `user_id`): the selector takes the new
    address and keeps the user id it resolved to, so the same user keeps the same contacts (links are keyed
    by user id: nothing is re-created)."""
    old, new = old.strip().lower(), new.strip().lower()
    job = _job(db, job_id)
    with store.session_scope(db) as session:
        selectors = [s for s in store.list_selectors(session, job_id=job_id) if s.kind is SelectorKind.email]
    current = next((s for s in selectors if s.value == old), None) or next(
        (s for s in selectors if user_id and s.resolved_user_id == user_id and s.value != new), None
    )
    if current is None:
        if any(s.value == new for s in selectors):
            return FixResult(False, f"{new} is already a target")
        return FixResult(False, f"{old} is no longer a target")
    user = directory.get_user(new)
    if user is None or (current.resolved_user_id and user["id"] != current.resolved_user_id):
        raise FixRefused(f"{new} is no longer the address of the user {current.value} named; nothing was changed")
    duplicate = any(s.value == new for s in selectors)
    with store.session_scope(db) as session:
        row = session.get(TargetSelector, current.id)
        if row is None:
            return FixResult(False, f"{old} is no longer a target")
        if duplicate:  # the new address is already listed: drop the old one, never two of the same user
            session.delete(row)
        else:
            row.value, row.resolved_email = new, new
            row.resolved_user_id = row.resolved_user_id or str(user["id"])
            session.add(row)
        store.record_audit(
            session, actor=actor, action="fix", job_id=job_id, job_name=job.name,
            detail={"fix": "readd", "old": current.value, "new": new},
        )
    return FixResult(True, f"re-added {current.value} as {new}")


def _matches(selector: TargetSelector, subject: str, user_id: str | None) -> bool:
    if selector.kind is SelectorKind.email:
        return selector.value == subject or bool(user_id and selector.resolved_user_id == user_id)
    return selector.value.lower() == subject


def remove_target(db: DbEngine, *, job_id: int, subject: str, user_id: str | None, actor: str) -> FixResult:
    """Take a target out of the sync: the `email:` selectors naming the user (by address or id), or the
    group/role/unit selector naming `subject`. The next run removes what the job wrote to that user."""
    subject = subject.strip().lower()
    job = _job(db, job_id)
    with store.session_scope(db) as session:
        selectors = store.list_selectors(session, job_id=job_id)
        matching = [s for s in selectors if _matches(s, subject, user_id)]
        if not matching:
            return FixResult(False, f"{subject} is no longer a target")
        if len(matching) == len(selectors):
            raise FixRefused(f"{subject} is the sync's only target; pause or delete the sync instead")
        for row in matching:
            session.delete(row)
        labels = [f"{s.kind.value}:{s.value}" for s in matching]
        store.record_audit(
            session, actor=actor, action="fix", job_id=job_id, job_name=job.name,
            detail={"fix": "remove", "targets": labels},
        )
    return FixResult(True, f"removed {', '.join(labels)} from the sync")


def use_new_source(
    db: DbEngine,
    *,
    job_id: int,
    new_email: str,
    actor: str,
    directory: DirectoryClient,
    people_for: Callable[[str], PeopleClient],
) -> FixResult:
    """A renamed source user: the job takes the new address. Same user id, same group, same links and
    targets; nothing is re-created."""
    new_email = new_email.strip().lower()
    job = _job(db, job_id)
    if (job.source_email or "").lower() == new_email:
        return FixResult(False, f"{new_email} is already the source")
    user = directory.get_user(new_email)
    if user is None or user["id"] != job.source_user_id:
        raise FixRefused(f"{new_email} is no longer the address of this sync's source user; nothing was changed")
    try:
        edit_job(db, name=job.name, edit=JobEdit(source_email=new_email), actor=actor,
                 directory=directory, people_for=people_for)
    except JobInputError as exc:
        raise FixRefused(exc.message) from None
    return FixResult(True, f"made {new_email} the source (was {job.source_email})")


def pause(db: DbEngine, *, job_id: int, actor: str) -> FixResult:
    job = _job(db, job_id)
    if not job.enabled:
        return FixResult(False, "the sync is already paused")
    try:
        set_enabled(db, name=job.name, enabled=False, actor=actor)
    except JobInputError as exc:
        raise FixRefused(exc.message) from None
    return FixResult(True, "paused the sync")


def confirm_empty_source(db: DbEngine, *, job_id: int, actor: str) -> FixResult:
    """The admin says the source is meant to be empty: forget what it held, so the next run (which then
    finds nothing to compare with) empties the targets instead of stopping to protect them; the audit entry
    tells the mass-deletion guard to let that run's deletions through."""
    job = _job(db, job_id)
    assert job.id is not None
    with store.session_scope(db) as session:
        if not store.source_contacts(session, job_id=job.id):
            return FixResult(False, "the empty source was already confirmed")
        store.replace_source_contacts(session, job_id=job.id, contacts={})
        fresh = store.get_job(session, job_id=job.id)
        if fresh is not None:
            fresh.source_sync_token = None
            session.add(fresh)
        store.record_audit(session, actor=actor, action=CONFIRM_EMPTY_AUDIT_ACTION, job_id=job.id,
                           job_name=job.name)
    return FixResult(True, "confirmed the empty source; the next run removes the synced contacts from the targets")


def apply_deletions(db: DbEngine, *, job_id: int, actor: str) -> FixResult:
    """The admin says the shrink was meant: the next run makes the deletions the guard held (the engine
    reads this confirmation from the audit log: see `RunRecords.deletions_applied`)."""
    job = _job(db, job_id)
    assert job.id is not None
    with store.session_scope(db) as session:
        applied = store.last_audit_at(session, job_id=job.id, actions=(APPLY_AUDIT_ACTION,))
        if applied is not None and not store.runs_started_since(session, job_id=job.id, since=applied):
            return FixResult(False, "the held deletions were already applied; the next run makes them")
        store.record_audit(session, actor=actor, action=APPLY_AUDIT_ACTION, job_id=job.id, job_name=job.name)
    return FixResult(True, "applied the held deletions; the next run makes them")


KEEP_OUTCOME = "chose to keep it: every run retries it, and this message says when it works again."


@dataclass(frozen=True)
class FixRequest:
    """One press of an alert button, with what its fix may need."""

    db: DbEngine
    job_id: int
    alert: Alert
    actor: str
    directory: Callable[[], DirectoryClient]
    people_for: Callable[[str], PeopleClient]


Outcome = tuple[str, AlertState]  # what was done, in words; the alert's new state


def _done(result: FixResult) -> Outcome:
    return result.message + ".", AlertState.fixed


def _keep(r: FixRequest) -> Outcome:
    return KEEP_OUTCOME, AlertState.kept


def _readd(r: FixRequest) -> Outcome:
    return _done(replace_email_target(r.db, job_id=r.job_id, old=r.alert.subject, new=r.alert.new_email or "",
                                      actor=r.actor, directory=r.directory(), user_id=r.alert.user_id))


def _remove(r: FixRequest) -> Outcome:
    return _done(remove_target(r.db, job_id=r.job_id, subject=r.alert.subject, user_id=r.alert.user_id, actor=r.actor))


def _use_source(r: FixRequest) -> Outcome:
    return _done(use_new_source(r.db, job_id=r.job_id, new_email=r.alert.new_email or "", actor=r.actor,
                                directory=r.directory(), people_for=r.people_for))


def _pause(r: FixRequest) -> Outcome:
    return _done(pause(r.db, job_id=r.job_id, actor=r.actor))


def _confirm_empty(r: FixRequest) -> Outcome:
    return _done(confirm_empty_source(r.db, job_id=r.job_id, actor=r.actor))


def _apply_deletions(r: FixRequest) -> Outcome:
    return _done(apply_deletions(r.db, job_id=r.job_id, actor=r.actor))


# The fixes applied at one click, one operation each. The others (`Button.form`) are finished in the edit or
# delete form the surface opens; `tests/unit/test_alert_kinds.py` checks every button is one or the other.
FIX_OPERATIONS: Mapping[Fix, Callable[[FixRequest], Outcome]] = {
    Fix.keep: _keep,
    Fix.readd: _readd,
    Fix.remove: _remove,
    Fix.use_source: _use_source,
    Fix.pause: _pause,
    Fix.confirm_empty: _confirm_empty,
    Fix.apply_deletions: _apply_deletions,
}


def apply_fix(
    db: DbEngine,
    fix: Fix,
    *,
    job: SyncJob,
    alert: Alert,
    actor: str,
    directory: Callable[[], DirectoryClient],
    people_for: Callable[[str], PeopleClient],
) -> Outcome:
    """Apply one alert button's fix: (what was done, in words; the alert's new state)."""
    assert job.id is not None
    if _job(db, job.id).deleting:
        raise FixRefused("this sync is being deleted (some accounts still hold its contacts); delete it again")
    operation = FIX_OPERATIONS.get(fix)
    if operation is None:
        raise ValueError(f"{fix} is finished in a form, not at one click")
    return operation(FixRequest(db, job.id, alert, actor, directory, people_for))
