"""Editors of a shared label, as the surfaces see them (issue 21): who they are (selectors and whom they resolve
to now), the job's conflicts, putting a losing value back, and the job's history.

"Use the losing value instead" writes that value at the source and closes the conflict (audited); the next run
carries it to every copy (the base still holds the old value: the source changed the field, so the source's
value stands, and the targets follow as for any source edit).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine as DbEngine

from sync_core import store
from sync_core.domain.contacts import canonical_body
from sync_core.domain.fields import TAG_FIELD
from sync_core.domain.models import AuditEvent, ConflictState, JobKind, MergeConflict
from sync_core.google.directory import DirectoryClient
from sync_core.google.errors import NotFound
from sync_core.google.people import PeopleClient
from sync_core.kinds import typed
from sync_core.run.merge_phase import resolve_editors
from sync_core.service.changes import find_job
from sync_core.service.errors import JobInputError
from sync_core.sync.merge import CONTACT

HISTORY_LIMIT = 200


@dataclass(frozen=True)
class EditorsView:
    """Who may edit a job's label: its selectors as typed, and the addresses they name now (the source user
    first: always an editor)."""

    selectors: tuple[str, ...]
    users: tuple[str, ...]
    can_delete: bool


def editors_view(db: DbEngine, directory: Callable[[], DirectoryClient], name: str) -> EditorsView:
    job = find_job(db, name)
    assert job.id is not None
    with store.session_scope(db) as session:
        rows = store.list_editors(session, job_id=job.id)
    if job.kind is not JobKind.personal:
        return EditorsView((), (), False)
    resolved = resolve_editors(directory(), rows, source_user_id=job.source_user_id) if rows else {}
    users = [job.source_email or "", *sorted(u.email for u in resolved.values())]
    return EditorsView(tuple(typed(r.kind.value, r.value) for r in rows), tuple(u for u in users if u),
                       job.editors_can_delete)


@dataclass(frozen=True)
class ConflictView:
    """One conflict as a surface shows it; `losers[i]` is what `use_losing_value(..., loser=i)` puts back."""

    id: int
    found_at: str
    contact: str
    field: str
    why: str
    kept: str  # "who: value"
    losers: tuple[str, ...]
    state: str
    resolution: str
    resolved_by: str | None = None  # a Slack user id, or "cli"


def _claim_words(claim: dict[str, Any]) -> str:
    return f"{', '.join(claim.get('sides', []))}: {claim.get('value')!r}"


def conflict_view(row: MergeConflict) -> ConflictView:
    assert row.id is not None
    return ConflictView(
        id=row.id, found_at=row.found_at.isoformat(), contact=row.contact_key, field=row.contact_field,
        why=row.why, kept=_claim_words(row.winner), losers=tuple(_claim_words(c) for c in row.losers),
        state=row.state.value, resolution=row.resolution, resolved_by=row.resolved_by,
    )


def conflicts(db: DbEngine, name: str, *, open_only: bool = True, limit: int | None = 50) -> list[ConflictView]:
    """The job's conflicts, newest first (open ones; or every one, resolved too)."""
    job = find_job(db, name)
    assert job.id is not None
    with store.session_scope(db) as session:
        rows = store.list_conflicts(session, job_id=job.id, state=ConflictState.open if open_only else None,
                                    limit=limit)
        return [conflict_view(r) for r in rows]


def use_losing_value(
    db: DbEngine,
    people_for: Callable[[str], PeopleClient],
    name: str,
    conflict_id: int,
    *,
    actor: str,
    loser: int = 0,
) -> ConflictView:
    """Put a conflict's losing value back: written at the source (the contact's other fields as they are now),
    the conflict resolved, the history told; the next run carries it everywhere. Refused (a `JobInputError`)
    for a conflict of another job, one resolved already, or a contact the source no longer has."""
    job = find_job(db, name)
    assert job.id is not None
    with store.session_scope(db) as session:
        row = store.get_conflict(session, conflict_id=conflict_id)
        if row is None or row.job_id != job.id:
            raise JobInputError("conflict", f"sync {job.name!r} has no conflict {conflict_id}")
        if row.state is not ConflictState.open:
            raise JobInputError("conflict", f"conflict {conflict_id} was resolved already ({row.resolution})")
        if not 0 <= loser < len(row.losers):
            raise JobInputError("conflict", f"conflict {conflict_id} has {len(row.losers)} losing value(s)")
        if row.contact_field == CONTACT:
            raise JobInputError("conflict", "a deleted contact cannot be put back from here; add it again in the "
                                            "source user's label")
        key, field, chosen = row.contact_key, row.contact_field, row.losers[loser]
    people = people_for(job.source_email or "")
    try:
        found = people.get_people([key])
    except NotFound:
        found = []
    if not found:
        raise JobInputError("conflict", f"the source no longer has the contact {key}")
    person = found[0]
    body = dict(canonical_body(person))
    value = chosen.get("value")
    if value:
        body[field] = value
    else:
        body.pop(field, None)
    body["etag"] = person.get("etag", "")
    body[TAG_FIELD] = person.get(TAG_FIELD, []) or []
    people.batch_update({key: body}, with_memberships=False)
    sides = ", ".join(chosen.get("sides", []))
    resolution = f"put back {sides}'s value"
    with store.session_scope(db) as session:
        if not store.resolve_conflict(session, conflict_id=conflict_id, by=actor, resolution=resolution):
            raise JobInputError("conflict", f"conflict {conflict_id} was resolved already")
        store.record_audit(session, actor=actor, action="use losing value", job_id=job.id, job_name=job.name,
                           detail={"contact": key, "field": field, "to": repr(value), "from": sides})
        fresh = store.get_conflict(session, conflict_id=conflict_id)
        assert fresh is not None
        return conflict_view(fresh)


def history(db: DbEngine, name: str, *, limit: int = HISTORY_LIMIT) -> Sequence[AuditEvent]:
    """The job's history, newest first: its edits, runs' editor changes and conflicts, members' actions."""
    job = find_job(db, name)
    assert job.id is not None
    with store.session_scope(db) as session:
        return store.audit_events(session, job_id=job.id, limit=limit)
