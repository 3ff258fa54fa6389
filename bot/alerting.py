"""Alerts in Slack: after each run, apply `sync_core.alerts.decide` to the store and to the job's alert
channel; after a button, close the alert and re-render its message.

One message per run carries every alert the run opened (`chat.postMessage`, once); a later change to any
of them (fixed by a button, resolved or superseded by a run) re-renders that message from the rows
(`chat.update`), and a run that resolves alerts also says so in the message's thread. Nothing is posted
per target, so a job with 500 failing targets costs one message. A message Slack refused (the bot is not
in the channel) leaves its alerts open and unposted: the next run that still sees them posts them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine as DbEngine

from sync_core import store
from sync_core.alerts import Cleared, Decision, Known, decide, observe
from sync_core.models import ACTIVE_ALERT_STATES, Alert, AlertState, SelectorKind, SyncJob
from sync_core.reports import RunReport

from .blocks.alerts import ALERTS_WITH_BUTTONS, alert_fallback, alert_message
from .blocks.common import clip, escape

log = logging.getLogger(__name__)

Message = tuple[str, str]  # (channel, ts)
RESOLVED_LINES = 10


class Alerter:
    def __init__(self, client: WebClient, db: DbEngine, *, transient_after: int) -> None:
        self.client = client
        self.db = db
        self.transient_after = transient_after
        # One writer of alert rows and messages at a time, so a message is never re-rendered from rows
        # older than the ones another thread just wrote (a button and a run finishing together).
        self._lock = threading.RLock()

    # --- after a run ----------------------------------------------------------------------------------
    def after_run(self, job: SyncJob, report: RunReport) -> None:
        if job.id is None:
            return
        with store.session_scope(self.db) as session:
            addresses = {s.resolved_user_id: s.value for s in store.list_selectors(session, job_id=job.id)
                         if s.kind is SelectorKind.email and s.resolved_user_id}
        observation = observe(report, addresses=addresses)
        if observation is None:
            return
        with self._lock:
            with store.session_scope(self.db) as session:
                rows = {a.id: a for a in store.active_alerts(session, job_id=job.id) if a.id is not None}
                fresh = store.get_job(session, job_id=job.id)
            if fresh is None:  # deleted while it ran: its alerts went with it
                return
            channel = fresh.alert_channel
            known = [Known(i, a.key, a.kind, a.state, a.streak, posted=a.message_ts is not None)
                     for i, a in rows.items()]
            decision = decide(known, observation, transient_after=self.transient_after)
            to_post, touched, resolved = self._apply(job.id, report.run_id, channel, rows, decision)
            if to_post and channel:
                self._post_new(job.name, channel, to_post)
            for message in touched:
                self.render(message)
                self._reply_resolved(message, resolved.get(message, []))

    def _apply(
        self, job_id: int, run_id: int | None, channel: str | None, rows: dict[int, Alert], decision: Decision
    ) -> tuple[list[int], list[Message], dict[Message, list[str]]]:
        """Write the decision to the store: (ids to post now, messages to re-render, resolved subjects)."""
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

    def _post_new(self, job_name: str, channel: str, alert_ids: list[int]) -> None:
        with store.session_scope(self.db) as session:
            alerts = [a for a in (store.get_alert(session, alert_id=i) for i in alert_ids) if a is not None]
        try:
            # Posted first without the "show all" button (its value needs the ts), which the update adds.
            answer = self.client.chat_postMessage(channel=channel, text=alert_fallback(job_name, alerts),
                                                  blocks=alert_message(job_name, alerts))
        except (SlackApiError, OSError) as exc:  # refused, or Slack unreachable: the run itself is recorded
            log.warning("cannot post alerts of %r to %s: %s (they are posted by the next run that still sees them)",
                        job_name, channel, _slack_error(exc))
            return
        ts = str(answer.get("ts") or "")
        if not ts:
            return
        with store.session_scope(self.db) as session:
            store.set_alert_message(session, alert_ids=alert_ids, channel=channel, message_ts=ts)
        if len(alerts) > ALERTS_WITH_BUTTONS:  # the "show all" button needs the ts
            self.render((channel, ts))

    def _reply_resolved(self, message: Message, subjects: list[str]) -> None:
        if not subjects:
            return
        lines = [f"• {escape(s)}" for s in subjects[:RESOLVED_LINES]]
        if len(subjects) > RESOLVED_LINES:
            lines.append(f"…and {len(subjects) - RESOLVED_LINES} more")
        text = clip(":white_check_mark: Resolved by the latest run:\n" + "\n".join(lines), 3000)
        self._call("chat_postMessage", channel=message[0], thread_ts=message[1], text=text)

    # --- rendering ------------------------------------------------------------------------------------
    def render(self, message: Message) -> None:
        """Re-render a message from its alert rows (chat.update)."""
        channel, ts = message
        with self._lock:
            with store.session_scope(self.db) as session:
                alerts = store.alerts_of_message(session, channel=channel, message_ts=ts)
                job = store.get_job(session, job_id=alerts[0].job_id) if alerts else None
            if job is None:
                return
            self._call("chat_update", channel=channel, ts=ts, text=alert_fallback(job.name, alerts),
                       blocks=alert_message(job.name, alerts, channel=channel, ts=ts))

    def _call(self, method: str, **args: object) -> bool:
        try:
            getattr(self.client, method)(**args)
        except (SlackApiError, OSError) as exc:
            log.warning("Slack refused %s in %s: %s", method, args.get("channel"), _slack_error(exc))
            return False
        return True

    # --- after a button -------------------------------------------------------------------------------
    def close(self, alert_id: int, *, state: AlertState, outcome: str, actor: str) -> bool:
        """Close (or, for `kept`, acknowledge) one alert and re-render its message; False if it was no longer
        active (someone else, or a run, got there first)."""
        with self._lock:
            with store.session_scope(self.db) as session:
                if state in ACTIVE_ALERT_STATES:
                    done = store.update_alert(session, alert_id=alert_id, state=state, outcome=outcome[:500],
                                              closed_by=actor)
                else:
                    done = store.close_alert(session, alert_id=alert_id, state=state, outcome=outcome, closed_by=actor)
                alert = store.get_alert(session, alert_id=alert_id)
            if done and alert is not None and alert.channel and alert.message_ts:
                self.render((alert.channel, alert.message_ts))
            return done

    def job_closing(self, job_id: int, *, outcome: str, actor: str) -> None:
        """The job is about to go (deleted): close its alerts, saying so in their messages."""
        with self._lock:
            with store.session_scope(self.db) as session:
                alerts = store.active_alerts(session, job_id=job_id)
                ids, messages = [a.id for a in alerts if a.id is not None], _messages(alerts)
                for alert_id in ids:
                    store.close_alert(session, alert_id=alert_id, state=AlertState.fixed, outcome=outcome,
                                      closed_by=actor)
            for message in messages:
                self.render(message)


def _slack_error(exc: Exception) -> str:
    return str(exc.response.get("error")) if isinstance(exc, SlackApiError) else f"{type(exc).__name__}: {exc}"


def _messages(alerts: Iterable[Alert]) -> list[Message]:
    found: list[Message] = []
    for alert in alerts:
        if alert.channel and alert.message_ts and (alert.channel, alert.message_ts) not in found:
            found.append((alert.channel, alert.message_ts))
    return found
