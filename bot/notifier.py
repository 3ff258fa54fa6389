"""`SlackNotifier`: the engine's `Notifier` for Slack. One message per run, never per target."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine as DbEngine

from sync_core.engine import RunReport
from sync_core.models import SyncJob

from .blocks.run import run_report_blocks, run_summary

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Thread:
    channel: str
    ts: str


class SlackNotifier:
    """Posts each finished run to the job's alert channel (or, for a "run now", as a reply in the thread
    that announced it), then refreshes App Home through `refresh_home`."""

    def __init__(self, client: WebClient, db: DbEngine, *, refresh_home: Callable[[], None] | None = None) -> None:
        self.client = client
        self.db = db
        self.refresh_home = refresh_home
        self._threads: dict[int, Thread] = {}
        self._lock = threading.Lock()

    def expect_thread(self, job_id: int, thread: Thread) -> None:
        """The next finished run of `job_id` is reported as a reply to `thread`."""
        with self._lock:
            self._threads[job_id] = thread

    def take_thread(self, job_id: int) -> Thread | None:
        with self._lock:
            return self._threads.pop(job_id, None)

    def run_finished(self, job: SyncJob, report: RunReport) -> None:
        thread = self.take_thread(job.id) if job.id is not None else None
        blocks = run_report_blocks(report)
        text = run_summary(report)
        if thread is not None:
            self.post(thread.channel, text, blocks, thread_ts=thread.ts)
        if job.alert_channel and (thread is None or thread.channel != job.alert_channel):
            self.post(job.alert_channel, text, blocks)
        if self.refresh_home is not None:
            self.refresh_home()

    def post(self, channel: str, text: str, blocks: list, *, thread_ts: str | None = None) -> str | None:
        """Post; a Slack refusal (e.g. the bot is not in a private channel) is logged, not raised."""
        try:
            answer = self.client.chat_postMessage(channel=channel, text=text, blocks=blocks, thread_ts=thread_ts)
        except SlackApiError as exc:
            log.warning("cannot post to %s: %s", channel, exc.response.get("error"))
            return None
        return str(answer.get("ts") or "") or None
