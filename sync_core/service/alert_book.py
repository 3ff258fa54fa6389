"""The alert rows as `bot.alerting` reads and writes them around its Slack messages: claims to post, the
message that shows them, closing them from a button. A run's decision about them (`sync_core.alerting.alerts.decide`)
is recorded by `sync_core.alerting.run_alerts` after every run, whoever started it."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Engine as DbEngine

from sync_core import store
from sync_core.alerting.run_alerts import Message
from sync_core.domain.models import ACTIVE_ALERT_STATES, Alert, AlertState, SyncJob


class AlertBook:
    def __init__(self, db: DbEngine) -> None:
        self.db = db

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
