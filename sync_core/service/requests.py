"""Requests: changes that wait for an admin's decision, and the rules of deciding them.

Two kinds of change wait as a request instead of being made:
- a member's request for a sync of their own (`/contactsync request`): their own Google account is the source,
  whatever the form said (the caller hands the `Member` the server found, never an address from the payload);
- an admin's change that the two-person rule (`CONTACTSYNC_APPROVAL_ABOVE`, `sync_core.domain.approval`) holds
  for a second admin.
Until a request is approved nothing of it exists: no job, no write at any target. It holds the change as the
spec the service validates (checked when asked, and checked again when approved).

Deciding (here, for Slack and the CLI alike):
- the id is random and unguessable (it is what the buttons carry); an unknown id and a decided one are refused;
- nobody approves their own request (the same Slack user, or the CLI a request the CLI made: a change the CLI
  asked for needs an admin in Slack; the CLI counts as the second admin for a request made in Slack);
- a decision is one conditional UPDATE from `pending` (and not yet expired), so of two admins (or replicas)
  pressing Approve at the same moment exactly one carries the change out, once; an approval whose change no
  longer passes the checks goes back to `pending`, with the reason;
- an edit that deletes contacts keeps what the requester confirmed (`CONSENT`, the preview's `Consent`): it is
  approved only if it deletes no more than that; if more accounts left the targets since (a group emptied), or
  the source changes unseen, it goes back to `pending` naming what grew;
- a request not decided within `CONTACTSYNC_REQUEST_EXPIRY_DAYS` expires, and is told like a decision (to the
  requester, and on the admins' message) once, by whoever claims it first (`expired_to_tell`);
- everything is in the audit trail (who, what, when), and in the job's history once the job exists.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine as DbEngine

from sync_core import store
from sync_core.domain.models import ChangeRequest, OptOut, RequestState, SyncJob, utcnow
from sync_core.service.errors import JobInputError
from sync_core.service.members import Member
from sync_core.service.specs import DirectoryJobSpec, JobEdit, PersonalJobSpec

CREATE_PERSONAL = "create_personal"
CREATE_DIRECTORY = "create_directory"
EDIT = "edit"
DELETE = "delete"
CHANGES = (CREATE_PERSONAL, CREATE_DIRECTORY, EDIT, DELETE)
MEMBER_REQUEST = "a member's request"
CLI = "cli"
REASON_MAX = 500
CONSENT = "consent"  # an edit's spec: what its deletions were when the requester confirmed them (`Consent`)

Spec = PersonalJobSpec | DirectoryJobSpec | JobEdit


class RequestRefused(JobInputError):
    """A decision that cannot be taken: an unknown, decided or expired request, or one's own."""

    def __init__(self, message: str) -> None:
        super().__init__("request", message)


@dataclass(frozen=True)
class RequestView:
    """One request as the surfaces show it."""

    id: str
    change: str
    job_name: str
    spec: Mapping[str, Any]
    reach: int | None
    why: str
    requested_by: str
    requester_email: str | None
    state: RequestState
    decided_by: str | None
    reason: str
    created_at: datetime
    expires_at: datetime
    decided_at: datetime | None
    job_id: int | None
    channel: str | None
    message_ts: str | None

    @property
    def from_member(self) -> bool:
        return self.requester_email is not None


class ApprovalNeeded(JobInputError):
    """The change was not made: it waits for a second admin as `request` (filed already)."""

    def __init__(self, request: RequestView, reasons: Sequence[str]) -> None:
        super().__init__("approval", f"this change needs a second admin ({'; '.join(reasons)}): it waits as "
                                     f"request {request.id}, which another admin may approve")
        self.request = request
        self.reasons = tuple(reasons)


def _view(row: ChangeRequest) -> RequestView:
    return RequestView(
        id=row.id, change=row.change, job_name=row.job_name, spec=dict(row.spec), reach=row.reach, why=row.why,
        requested_by=row.requested_by, requester_email=row.requester_email, state=RequestState(row.state),
        decided_by=row.decided_by, reason=row.reason, created_at=row.created_at, expires_at=row.expires_at,
        decided_at=row.decided_at, job_id=row.job_id, channel=row.channel, message_ts=row.message_ts,
    )


# --- the spec, kept as JSON -------------------------------------------------------------------------
def spec_to_json(spec: Spec | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(spec, Mapping):
        return dict(spec)
    out: dict[str, Any] = {}
    for f in dataclasses.fields(spec):
        value = getattr(spec, f.name)
        if isinstance(value, OptOut):
            value = value.value
        elif isinstance(value, (list, tuple)):
            value = list(value)
        elif isinstance(value, dict):
            value = dict(value)
        out[f.name] = value
    return out


def spec_from_json(change: str, data: Mapping[str, Any]) -> Spec:
    cls: type[Spec] = {CREATE_PERSONAL: PersonalJobSpec, CREATE_DIRECTORY: DirectoryJobSpec, EDIT: JobEdit}[change]
    known = {f.name for f in dataclasses.fields(cls)}
    values = {k: v for k, v in data.items() if k in known}
    if values.get("opt_out") is not None:
        values["opt_out"] = OptOut(values["opt_out"])
    return cls(**values)


# --- filing -----------------------------------------------------------------------------------------
def new_request_id() -> str:
    """Random and unguessable (144 bits): the buttons carry it, so it must not be guessed from another."""
    return "R" + secrets.token_urlsafe(18)


def file_request(
    db: DbEngine,
    *,
    change: str,
    job_name: str,
    spec: Spec | Mapping[str, Any],
    reach: int | None,
    why: str,
    actor: str,
    member: Member | None,
    expiry_days: float,
    job_id: int | None = None,
) -> RequestView:
    assert change in CHANGES
    now = utcnow()
    with store.session_scope(db) as session:
        row = store.add_request(session, ChangeRequest(
            id=new_request_id(), change=change, job_name=job_name, spec=spec_to_json(spec), reach=reach, why=why,
            requested_by=actor, requester_email=member.email if member else None,
            requester_user_id=member.user_id if member else None, state=RequestState.pending,
            created_at=now, expires_at=now + timedelta(days=expiry_days), job_id=job_id,
        ))
        store.record_audit(session, actor=actor, action="request", job_id=job_id, job_name=job_name,
                           detail=_audit_detail(row, {"why": why}))
        return _view(row)


def _audit_detail(row: ChangeRequest, extra: Mapping[str, object]) -> dict[str, object]:
    detail: dict[str, object] = {"request": row.id, "change": row.change}
    if row.reach is not None:
        detail["accounts"] = row.reach
    if row.requester_email:
        detail["member"] = row.requester_email
    detail.update(extra)
    return detail


# --- reading ----------------------------------------------------------------------------------------
def expire(db: DbEngine) -> list[str]:
    """Expire what waited too long (recorded in the audit trail); their ids."""
    now = utcnow()
    with store.session_scope(db) as session:
        ids = store.expire_requests(session, now=now)
        for request_id in ids:
            row = store.get_request(session, request_id=request_id)
            if row is not None:
                store.record_audit(session, actor="contactsync", action="request expired", job_id=row.job_id,
                                   job_name=row.job_name, detail=_audit_detail(row, {}))
    return ids


def expired_to_tell(db: DbEngine) -> list[RequestView]:
    """The requests that expired undecided and whose requester nobody has told yet, each claimed for this
    caller alone (of several replicas asking at once, one gets each): the caller tells them."""
    expire(db)
    with store.session_scope(db) as session:
        ids = store.claim_expired_to_tell(session, now=utcnow())
        rows = [store.get_request(session, request_id=request_id) for request_id in ids]
        return [_view(row) for row in rows if row is not None]


def list_requests(db: DbEngine, *, pending_only: bool = True) -> list[RequestView]:
    expire(db)
    with store.session_scope(db) as session:
        states = (RequestState.pending,) if pending_only else None
        return [_view(r) for r in store.list_requests(session, states=states)]


def get_request(db: DbEngine, request_id: str) -> RequestView | None:
    expire(db)
    with store.session_scope(db) as session:
        row = store.get_request(session, request_id=request_id.strip())
        return _view(row) if row is not None else None


def set_message(db: DbEngine, request_id: str, *, channel: str, ts: str) -> None:
    """Where the admins' message about the request is (so a decision can update it)."""
    with store.session_scope(db) as session:
        store.set_request_fields(session, request_id=request_id, channel=channel, message_ts=ts)


# --- deciding ---------------------------------------------------------------------------------------
def _pending(db: DbEngine, request_id: str) -> RequestView:
    found = get_request(db, request_id) if request_id else None
    if found is None:
        raise RequestRefused("There is no such request. Nothing was changed.")
    if found.state is not RequestState.pending:
        raise RequestRefused(closed_text(found))
    return found


def closed_text(request: RequestView) -> str:
    if request.state is RequestState.expired:
        return f"Request {request.id} ({request.job_name}) expired undecided. Nothing was changed."
    return (f"Request {request.id} ({request.job_name}) was already {request.state.value} by "
            f"{request.decided_by}. Nothing was changed.")


def grown_text(request: RequestView, grown: Sequence[str]) -> str:
    """Why an edit cannot be approved now: it deletes more than was confirmed when it was asked for."""
    return (f"Request {request.id} ({request.job_name}) cannot be approved now: the edit deletes more than was "
            f"confirmed when it was asked for: {'; '.join(grown)}. Nothing was changed and it is still pending: "
            "deny it, or ask for the edit again.")


def refuse_own(request: RequestView, actor: str) -> None:
    """Nobody approves their own request; the CLI approves none the CLI made."""
    if actor == request.requested_by:
        who = "the CLI asked for it: an admin in Slack" if actor == CLI else "you asked for it: another admin"
        raise RequestRefused(f"You cannot approve request {request.id}: {who} must. Nothing was changed.")


def approve(db: DbEngine, request_id: str, *, actor: str, carry_out: Callable[[RequestView], SyncJob]) -> tuple[
        RequestView, SyncJob]:
    """Approve and carry out a pending request, once. `carry_out` makes the change (with the same checks as
    making it directly); if it refuses, the request is pending again and the refusal is raised."""
    request = _pending(db, request_id)
    refuse_own(request, actor)
    now = utcnow()
    with store.session_scope(db) as session:
        won = store.decide_request(session, request_id=request.id, state=RequestState.approved, decided_by=actor,
                                   now=now)
    if not won:  # decided (or expired) by someone else since we read it
        raise RequestRefused(closed_text(_decided(db, request.id)))
    try:
        job = carry_out(request)
    except BaseException:
        with store.session_scope(db) as session:
            store.reopen_request(session, request_id=request.id)
        raise
    with store.session_scope(db) as session:
        store.set_request_fields(session, request_id=request.id, job_id=job.id)
        row = store.get_request(session, request_id=request.id)
        assert row is not None
        # The job's history starts with who asked for it, and when, then who approved it.
        if request.change in (CREATE_PERSONAL, CREATE_DIRECTORY):
            store.record_audit(session, actor=request.requested_by, action="request", job_id=job.id,
                               job_name=job.name, detail=_audit_detail(row, {"why": request.why}),
                               now=request.created_at)
        store.record_audit(session, actor=actor, action="approve", job_id=job.id, job_name=job.name,
                           detail=_audit_detail(row, {"requested_by": request.requested_by}))
        return _view(row), job


def deny(db: DbEngine, request_id: str, *, actor: str, reason: str) -> RequestView:
    """Deny a pending request, with a reason for the requester. (Denying one's own withdraws it.)"""
    reason = " ".join((reason or "").split())
    if not reason:
        raise JobInputError("reason", "say why (the requester is told)")
    if len(reason) > REASON_MAX:
        raise JobInputError("reason", f"at most {REASON_MAX} characters")
    request = _pending(db, request_id)
    with store.session_scope(db) as session:
        won = store.decide_request(session, request_id=request.id, state=RequestState.denied, decided_by=actor,
                                   now=utcnow(), reason=reason)
        if won:
            row = store.get_request(session, request_id=request.id)
            assert row is not None
            store.record_audit(session, actor=actor, action="deny", job_id=row.job_id, job_name=row.job_name,
                               detail=_audit_detail(row, {"reason": reason, "requested_by": row.requested_by}))
            return _view(row)
    raise RequestRefused(closed_text(_decided(db, request.id)))


def _decided(db: DbEngine, request_id: str) -> RequestView:
    with store.session_scope(db) as session:
        row = store.get_request(session, request_id=request_id)
        assert row is not None
        return _view(row)
