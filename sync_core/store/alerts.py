"""Alerts: open problems per job and target, and the Slack message each is shown in."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete as sa_delete
from sqlalchemy import func, or_
from sqlalchemy import update as sa_update
from sqlmodel import Session, col, select

from sync_core.domain.models import ACTIVE_ALERT_STATES, Alert, AlertKind, AlertState, utcnow


def active_alerts(session: Session, *, job_id: int) -> list[Alert]:
    """The job's pending, open and kept alerts, oldest first."""
    query = (
        select(Alert).where(Alert.job_id == job_id, col(Alert.state).in_(ACTIVE_ALERT_STATES)).order_by(col(Alert.id))
    )
    return list(session.exec(query))


def get_alert(session: Session, *, alert_id: int) -> Alert | None:
    return session.get(Alert, alert_id)


def add_alert(
    session: Session,
    *,
    job_id: int,
    key: str,
    kind: AlertKind,
    state: AlertState,
    subject: str,
    user_id: str | None = None,
    new_email: str | None = None,
    reason: str = "",
    streak: int = 1,
    run_id: int | None = None,
    channel: str | None = None,
    now: datetime | None = None,
) -> Alert:
    alert = Alert(
        job_id=job_id,
        key=key,
        kind=kind,
        state=state,
        subject=subject,
        user_id=user_id,
        new_email=new_email,
        reason=reason[:500],
        streak=streak,
        run_id=run_id,
        channel=channel,
        opened_at=now or utcnow(),
    )
    session.add(alert)
    session.flush()
    return alert


def update_alert(session: Session, *, alert_id: int, **values: Any) -> bool:
    """Change an alert that is still active; False if it is gone or was closed meanwhile."""
    result = session.exec(
        sa_update(Alert).where(col(Alert.id) == alert_id, col(Alert.state).in_(ACTIVE_ALERT_STATES)).values(**values)
    )
    session.expire_all()
    return int(result.rowcount) == 1


def close_alert(
    session: Session,
    *,
    alert_id: int,
    state: AlertState,
    outcome: str,
    closed_by: str | None = None,
    now: datetime | None = None,
) -> bool:
    """Close an active alert (fixed, resolved, superseded). Atomic: of two people (or a person and a run)
    closing the same alert at once, exactly one gets True."""
    if state in ACTIVE_ALERT_STATES:
        raise ValueError(f"close_alert needs a closed state, not {state.value!r}")
    return update_alert(
        session,
        alert_id=alert_id,
        state=state,
        outcome=outcome[:500],
        closed_by=closed_by,
        closed_at=now or utcnow(),
    )


def delete_alert(session: Session, *, alert_id: int) -> None:
    session.exec(sa_delete(Alert).where(col(Alert.id) == alert_id))


def set_alert_message(session: Session, *, alert_ids: Iterable[int], channel: str, message_ts: str) -> None:
    ids = list(alert_ids)
    if ids:
        session.exec(sa_update(Alert).where(col(Alert.id).in_(ids)).values(channel=channel, message_ts=message_ts))
        session.expire_all()


# How long a claim to post an alert holds: a poster that died after claiming (before Slack answered) leaves
# its alerts to the next run that still sees them, once this has passed.
POST_CLAIM_SECONDS = 300.0


def claim_alerts_for_posting(session: Session, *, alert_ids: Iterable[int], now: datetime | None = None) -> list[int]:
    """Claim active, unposted alerts for this process to post: the ids it got. One conditional UPDATE per
    alert, so of two replicas claiming the same alert, exactly one gets it."""
    now = now or utcnow()
    stale = now - timedelta(seconds=POST_CLAIM_SECONDS)
    claimed = []
    for alert_id in alert_ids:
        result = session.exec(
            sa_update(Alert)
            .where(
                col(Alert.id) == alert_id,
                col(Alert.state).in_(ACTIVE_ALERT_STATES),
                col(Alert.message_ts).is_(None),
                or_(col(Alert.posting_since).is_(None), col(Alert.posting_since) <= stale),
            )
            .values(posting_since=now)
        )
        if int(result.rowcount) == 1:
            claimed.append(alert_id)
    session.expire_all()
    return claimed


def release_alert_claims(session: Session, *, alert_ids: Iterable[int]) -> None:
    """Give claims back (Slack refused the post): the next run that still sees the alerts posts them."""
    ids = list(alert_ids)
    if ids:
        session.exec(
            sa_update(Alert).where(col(Alert.id).in_(ids), col(Alert.message_ts).is_(None)).values(posting_since=None)
        )
        session.expire_all()


def alerts_of_message(session: Session, *, channel: str, message_ts: str) -> list[Alert]:
    """Every alert one message shows, in the order it shows them."""
    query = select(Alert).where(Alert.channel == channel, Alert.message_ts == message_ts).order_by(col(Alert.id))
    return list(session.exec(query))


def open_alert_counts(session: Session) -> dict[str, int]:
    """Alerts an admin has been shown and that are not closed (open or kept), by kind, across all jobs."""
    query = (
        select(Alert.kind, func.count())
        .where(col(Alert.state).in_((AlertState.open, AlertState.kept)))
        .group_by(col(Alert.kind))
    )
    return {str(kind): int(count) for kind, count in session.exec(query)}
