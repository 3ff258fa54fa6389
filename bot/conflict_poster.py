"""Conflicts in Slack (issue 21): after each run this process makes, every open conflict of the job not posted
yet gets one message in the job's alert channel (`bot.blocks.conflicts`), with its buttons; after a button,
the message is re-rendered in place to say who chose what.

A conflict is claimed before it is posted (`JobService.conflicts_to_post`), so of several replicas finishing
runs of one job exactly one posts it; a post Slack refused gives the claim back and the next run posts it.
"""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from sync_core.domain.reports import RunReport
from sync_core.service import ConflictNotice, JobService, SyncJob

from .blocks.conflicts import conflict_fallback, conflict_message

log = logging.getLogger(__name__)


class ConflictPoster:
    def __init__(self, client: WebClient, service: JobService) -> None:
        self.client = client
        self.service = service

    def after_run(self, job: SyncJob, report: RunReport) -> None:
        channel = job.alert_channel
        if report.dry_run or not channel or job.id is None or job.kind.value != "personal":
            return
        for conflict in self.service.conflicts_to_post(job):
            try:
                answer = self.client.chat_postMessage(channel=channel, text=conflict_fallback(job.name, conflict),
                                                      blocks=conflict_message(job.name, job.id, conflict))
                ts = str(answer.get("ts") or "")
            except (SlackApiError, OSError) as exc:  # the run is recorded; the next run posts it
                log.warning("cannot post a conflict of %r to %s: %s (the next run posts it)", job.name, channel,
                            exc.response.get("error") if isinstance(exc, SlackApiError) else type(exc).__name__)
                ts = ""
            if ts:
                self.service.conflict_posted(conflict.id, channel=channel, message_ts=ts)
            else:
                self.service.conflict_not_posted(conflict.id)

    def render(self, notice: ConflictNotice) -> None:
        """Re-render a posted conflict's message from its row (chat.update)."""
        if not notice.channel or not notice.message_ts or notice.job.id is None:
            return
        try:
            self.client.chat_update(channel=notice.channel, ts=notice.message_ts,
                                    text=conflict_fallback(notice.job.name, notice.conflict),
                                    blocks=conflict_message(notice.job.name, notice.job.id, notice.conflict))
        except (SlackApiError, OSError) as exc:
            log.warning("Slack refused to update a conflict message in %s: %s", notice.channel,
                        exc.response.get("error") if isinstance(exc, SlackApiError) else type(exc).__name__)
