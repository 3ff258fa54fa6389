"""After every run, whoever started it (the CLI, the schedule, Slack's Run now, a replica with Slack off):
the run's failures are compared with the job's active alerts (`alerts.decide`, pure) and the decision is
recorded in the store. What the decision means for Slack messages (alerts to post, messages whose alerts
changed) goes to the notifier as `AlertChanges`; posting and rendering them is the bot's part.

Without Slack (the CLI, a replica with Slack off), an alert is opened and left unposted (`message_ts` None):
the next run that still sees it, in a process with Slack, posts it (`decide` posts an open alert no message
shows yet), as after a post Slack refused. An alert such a run resolves is closed in the store; its message,
if it had one, shows it once a later change to that message re-renders it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import Engine as DbEngine

from sync_core import store
from sync_core.alerting.alerts import Cleared, Decision, Known, decide, observe
from sync_core.domain.models import Alert, AlertState, SelectorKind, SyncJob
from sync_core.domain.reports import RunReport

Message = tuple[str, str]  # (channel, ts) of the Slack message that shows some alerts


@dataclass(frozen=True)
class AlertChanges:
    """What one run's alert decision means for the job's messages. `to_post`: open alerts no message shows yet
    (new ones, or ones no Slack posted before), for `channel`; `touched`: messages whose alerts changed (to
    re-render); `resolved`: per message, the subjects the run found cleared (to say so in its thread)."""

    channel: str | None = None
    to_post: tuple[int, ...] = ()
    touched: tuple[Message, ...] = ()
    resolved: Mapping[Message, tuple[str, ...]] = field(default_factory=dict)


def record_run_alerts(db: DbEngine, job: SyncJob, report: RunReport, *, transient_after: int) -> AlertChanges | None:
    """Decide the run's alerts and record them; None when the run says nothing (a dry run, an abandoned run)
    or the job was deleted while it ran (its alerts went with it)."""
    if job.id is None:
        return None
    observation = observe(report, addresses=_email_targets(db, job.id))
    if observation is None:
        return None
    with store.session_scope(db) as session:
        rows = {a.id: a for a in store.active_alerts(session, job_id=job.id) if a.id is not None}
        fresh = store.get_job(session, job_id=job.id)
    if fresh is None:
        return None
    known = [Known(i, a.key, a.kind, a.state, a.streak, posted=a.message_ts is not None) for i, a in rows.items()]
    decision = decide(known, observation, transient_after=transient_after)
    return _record(db, job.id, report.run_id, fresh.alert_channel, rows, decision)


def _email_targets(db: DbEngine, job_id: int) -> dict[str, str]:
    """The job's `email:` targets by the user id they resolved to: user id -> listed address."""
    with store.session_scope(db) as session:
        return {s.resolved_user_id: s.value for s in store.list_selectors(session, job_id=job_id)
                if s.kind is SelectorKind.email and s.resolved_user_id}


def _record(
    db: DbEngine, job_id: int, run_id: int | None, channel: str | None, rows: dict[int, Alert], decision: Decision
) -> AlertChanges:
    touched: list[Message] = []
    resolved: dict[Message, list[str]] = {}

    def touch(alert: Alert) -> Message | None:
        if alert.channel and alert.message_ts:
            message = (alert.channel, alert.message_ts)
            if message not in touched:
                touched.append(message)
            return message
        return None

    to_post: list[int] = []
    with store.session_scope(db) as session:
        for count in decision.count:
            f = count.failure
            if count.alert_id is not None:
                store.update_alert(session, alert_id=count.alert_id, streak=count.streak, reason=f.reason[:500])
            else:
                store.add_alert(session, job_id=job_id, key=f.key, kind=f.kind, state=AlertState.pending,
                                subject=f.subject, user_id=f.user_id, new_email=f.new_email, reason=f.reason,
                                streak=count.streak, run_id=run_id)
        for alert_id in decision.forget:
            store.delete_alert(session, alert_id=alert_id)
        for alert_id in decision.superseded:
            if store.close_alert(session, alert_id=alert_id, state=AlertState.superseded,
                                 outcome="It now fails differently; see the newer alert."):
                touch(rows[alert_id])
        for alert_id, how in decision.resolved:
            alert = rows[alert_id]
            words = "it syncs again" if how is Cleared.ok else "it is no longer part of the sync"
            if store.close_alert(session, alert_id=alert_id, state=AlertState.resolved, outcome=words):
                message = touch(alert)
                if message is not None:
                    resolved.setdefault(message, []).append(f"{alert.subject}: {words}")
        for post in decision.post:
            f = post.failure
            if post.alert_id is not None:
                store.update_alert(session, alert_id=post.alert_id, state=AlertState.open, streak=post.streak,
                                   reason=f.reason[:500], new_email=f.new_email, channel=channel, run_id=run_id)
                to_post.append(post.alert_id)
            else:
                row = store.add_alert(session, job_id=job_id, key=f.key, kind=f.kind, state=AlertState.open,
                                      subject=f.subject, user_id=f.user_id, new_email=f.new_email,
                                      reason=f.reason, streak=post.streak, run_id=run_id, channel=channel)
                assert row.id is not None
                to_post.append(row.id)
    return AlertChanges(channel, tuple(to_post), tuple(touched), {m: tuple(s) for m, s in resolved.items()})
