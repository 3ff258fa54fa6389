"""Alerts in Slack: after each run, post and re-render what the run's alert decision needs (`sync_core` decides
and records it after every run, whoever started it: `report.alerts`); after a button, close the alert and
re-render its message.

Several replicas may share the database: an alert row is claimed (one conditional UPDATE) before its message
is posted, so it is posted once whichever process gets there first.

One message per run carries every alert the run opened (`chat.postMessage`, once); a later change to any
of them (fixed by a button, resolved or superseded by a run) re-renders that message from the rows
(`chat.update`), and a run that resolves alerts also says so in the message's thread. Nothing is posted
per target, so a job with 500 failing targets costs one message. A message Slack refused (the bot is not
in the channel) leaves its alerts open and unposted: the next run that still sees them posts them.
"""

from __future__ import annotations

import logging
import threading

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from sync_core.domain.reports import RunReport
from sync_core.service import AlertBook, AlertState, Message, SyncJob

from .blocks.alerts import ALERTS_WITH_BUTTONS, alert_fallback, alert_message
from .blocks.common import clip, escape

log = logging.getLogger(__name__)

RESOLVED_LINES = 10


class Alerter:
    def __init__(self, client: WebClient, book: AlertBook) -> None:
        self.client = client
        self.book = book
        # One writer of alert rows and messages at a time, so a message is never re-rendered from rows
        # older than the ones another thread just wrote (a button and a run finishing together).
        self._lock = threading.RLock()

    # --- after a run ----------------------------------------------------------------------------------
    def after_run(self, job: SyncJob, report: RunReport) -> None:
        """Post what the run's alert decision (made and recorded by `sync_core`, in `report.alerts`) needs
        posted, and re-render the messages whose alerts it changed."""
        changes = report.alerts
        if changes is None:
            return
        with self._lock:
            if changes.to_post and changes.channel:
                self._post_new(job.name, changes.channel, list(changes.to_post))
            for message in changes.touched:
                self.render(message)
                self._reply_resolved(message, list(changes.resolved.get(message, ())))

    def _post_new(self, job_name: str, channel: str, alert_ids: list[int]) -> None:
        # Claimed first: another replica (or a run of this job there) may be about to post the same rows.
        alert_ids = self.book.claim_for_posting(alert_ids)
        if not alert_ids:
            return
        alerts = self.book.alerts(alert_ids)
        try:
            # Posted first without the "show all" button (its value needs the ts), which the update adds.
            answer = self.client.chat_postMessage(channel=channel, text=alert_fallback(job_name, alerts),
                                                  blocks=alert_message(job_name, alerts))
        except (SlackApiError, OSError) as exc:  # refused, or Slack unreachable: the run itself is recorded
            log.warning("cannot post alerts of %r to %s: %s (they are posted by the next run that still sees them)",
                        job_name, channel, _slack_error(exc))
            self.book.release(alert_ids)
            return
        ts = str(answer.get("ts") or "")
        if not ts:
            self.book.release(alert_ids)
            return
        self.book.set_message(alert_ids, (channel, ts))
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
            job, alerts = self.book.of_message(message)
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
            done, alert = self.book.close(alert_id, state=state, outcome=outcome, actor=actor)
            if done and alert is not None and alert.channel and alert.message_ts:
                self.render((alert.channel, alert.message_ts))
            return done

    def job_closing(self, job_id: int, *, outcome: str, actor: str) -> None:
        """The job is about to go (deleted): close its alerts, saying so in their messages."""
        with self._lock:
            for message in self.book.close_all(job_id, outcome=outcome, actor=actor):
                self.render(message)


def _slack_error(exc: Exception) -> str:
    return str(exc.response.get("error")) if isinstance(exc, SlackApiError) else f"{type(exc).__name__}: {exc}"
