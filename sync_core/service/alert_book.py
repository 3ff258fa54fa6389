"""The alert rows: what `bot.alerting` reads and writes around its Slack messages. The decisions are
`sync_core.alerts.decide`'s; this module only keeps them in the store."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Engine as DbEngine

from .. import store
from ..alerts import Cleared, Decision
from ..models import ACTIVE_ALERT_STATES, Alert, AlertState, SelectorKind, SyncJob

Message = tuple[str, str]  # (channel, ts) of the Slack message that shows some alerts


class AlertBook:
    def __init__(self, db: DbEngine) -> None:
        self.db = db

    def email_targets(self, job_id: int) -> dict[str, str]:
        """The job's `email:` targets by the user id they resolved to: user id -> listed address."""
        with store.session_scope(self.db) as session:
            return {s.resolved_user_id: s.value for s in store.list_selectors(session, job_id=job_id)
                    if s.kind is SelectorKind.email and s.resolved_user_id}

    def active(self, job_id: int) -> tuple[SyncJob | None, dict[int, Alert]]:
        """(the job, None if it was deleted; its active alerts by id), read together."""
        with store.session_scope(self.db) as session:
            rows = {a.id: a for a in store.active_alerts(session, job_id=job_id) if a.id is not None}
            return store.get_job(session, job_id=job_id), rows

    def record(
        self, job_id: int, run_id: int | None, channel: str | None, rows: dict[int, Alert], decision: Decision
    ) -> tuple[list[int], list[Message], dict[Message, list[str]]]:
        """Write the decision: (ids to post now, messages to re-render, resolved subjects per message)."""
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
        with store.session_scope(self.db) as session:
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
        return to_post, touched, resolved

    def get(self, alert_id: int) -> Alert | None:
        with store.session_scope(self.db) as session:
            return store.get_alert(session, alert_id=alert_id)

    def alerts(self, alert_ids: Iterable[int]) -> list[Alert]:
        with store.session_scope(self.db) as session:
            return [a for a in (store.get_alert(session, alert_id=i) for i in alert_ids) if a is not None]

    def claim_for_posting(self, alert_ids: Iterable[int]) -> list[int]:
        """The alerts this process may post now: each one claimed atomically, so that of several replicas
        (or two runs) about to post it, one does. Post them, then `set_message`, or `release` them."""
        with store.session_scope(self.db) as session:
            return store.claim_alerts_for_posting(session, alert_ids=alert_ids)

    def release(self, alert_ids: Iterable[int]) -> None:
        """Give back a claim whose post failed: the next run that still sees the alerts posts them."""
        with store.session_scope(self.db) as session:
            store.release_alert_claims(session, alert_ids=alert_ids)

    def set_message(self, alert_ids: list[int], message: Message) -> None:
        with store.session_scope(self.db) as session:
            store.set_alert_message(session, alert_ids=alert_ids, channel=message[0], message_ts=message[1])

    def of_message(self, message: Message) -> tuple[SyncJob | None, list[Alert]]:
        """The alerts one message shows, and their job (None when there are none, or the job is gone)."""
        with store.session_scope(self.db) as session:
            alerts = store.alerts_of_message(session, channel=message[0], message_ts=message[1])
            return (store.get_job(session, job_id=alerts[0].job_id) if alerts else None), alerts

    def close(self, alert_id: int, *, state: AlertState, outcome: str, actor: str) -> tuple[bool, Alert | None]:
        """Close (or, for an active `state` such as `kept`, acknowledge) one alert: (whether this call did it,
        the alert as it is now). False when it was no longer active: someone else, or a run, got there first."""
        with store.session_scope(self.db) as session:
            if state in ACTIVE_ALERT_STATES:
                done = store.update_alert(session, alert_id=alert_id, state=state, outcome=outcome[:500],
                                          closed_by=actor)
            else:
                done = store.close_alert(session, alert_id=alert_id, state=state, outcome=outcome, closed_by=actor)
            return done, store.get_alert(session, alert_id=alert_id)

    def close_all(self, job_id: int, *, outcome: str, actor: str) -> list[Message]:
        """Close every active alert of a job (it is being deleted); the messages that showed them."""
        with store.session_scope(self.db) as session:
            alerts = store.active_alerts(session, job_id=job_id)
            ids, messages = [a.id for a in alerts if a.id is not None], _messages(alerts)
            for alert_id in ids:
                store.close_alert(session, alert_id=alert_id, state=AlertState.fixed, outcome=outcome,
                                  closed_by=actor)
            return messages


def _messages(alerts: Iterable[Alert]) -> list[Message]:
    found: list[Message] = []
    for alert in alerts:
        if alert.channel and alert.message_ts and (alert.channel, alert.message_ts) not in found:
            found.append((alert.channel, alert.message_ts))
    return found
