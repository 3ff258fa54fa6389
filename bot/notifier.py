"""`SlackNotifier`: the engine's `Notifier` for Slack. After every run this process makes (scheduled, "run
now"): the alerts the run's recorded decision needs posted, in one message per run (see `bot.alerting`),
the job's new conflicts, one message each (`bot.conflict_poster`), then App Home refreshed.
The report of a "run now" goes to the thread that announced it (`bot.services`), not through here."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from sync_core.domain.reports import RunReport
from sync_core.service import AlertBook, SyncJob

from .alerting import Alerter
from .conflict_poster import ConflictPoster

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Thread:
    channel: str
    ts: str


class SlackNotifier:
    def __init__(
        self,
        client: WebClient,
        book: AlertBook,
        *,
        refresh_home: Callable[[], None] | None = None,
        conflicts: ConflictPoster | None = None,
    ) -> None:
        self.client = client
        self.refresh_home = refresh_home
        self.alerts = Alerter(client, book)
        self.conflicts = conflicts

    def run_finished(self, job: SyncJob, report: RunReport) -> None:
        self.alerts.after_run(job, report)
        if self.conflicts is not None:
            self.conflicts.after_run(job, report)
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
