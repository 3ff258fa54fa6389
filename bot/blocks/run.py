"""Messages about runs and changes: the run report (thread reply / alert), created/changed notices."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from slack_sdk.models.blocks import Block, SectionBlock

from sync_core.domain.reports import RunReport, TargetReport
from sync_core.domain.status import TargetStatus
from sync_core.service import RunStatus

from .common import MAX_MESSAGE_BLOCKS, STATUS_EMOJI, check_count, clip, context, escape, mrkdwn

FAILURE_LINES = 15


def _failure_line(t: TargetReport) -> str:
    extra = f" → {escape(t.new_email)}" if t.new_email and t.new_email != t.email else ""
    reason = f": {escape(clip(t.reason, 150))}" if t.reason else ""
    return f"• {escape(t.email)} — {t.status.value}{extra}{reason}"


def run_summary(report: RunReport) -> str:
    """One line, for notifications and the message's fallback text."""
    emoji = STATUS_EMOJI[report.status]
    name = escape(report.job_name)
    if report.status is RunStatus.no_targets:  # "across 0 targets" would read as success
        removed = report.total("deleted")
        tail = f" ({removed} contacts removed from accounts that left it)" if removed else ""
        return clip(f"{emoji} Sync *{name}* reached no one: its targets match no one, so nobody got the "
                    f"contacts{tail}.", 3000)
    counts = (f"{report.total('created')} created, {report.total('updated')} updated, "
              f"{report.total('deleted')} deleted, {report.total('unchanged')} unchanged")
    failed = len(report.failed_targets)
    targets = f"{len(report.targets)} target{'s' if len(report.targets) != 1 else ''}"
    tail = f", {failed} failed" if failed else ""
    return clip(f"{emoji} Sync *{name}* {report.status.value}: {counts} across {targets}{tail}.", 3000)


def run_report_blocks(report: RunReport) -> list[Block]:
    """The whole report in one message: summary, source-level error, failures summarised by kind."""
    blocks: list[Block] = [SectionBlock(text=mrkdwn(run_summary(report)))]
    if report.error_kind and (not report.targets or report.status is RunStatus.no_targets):
        blocks.append(SectionBlock(text=mrkdwn(
            f"*{escape(report.error_kind)}*: {escape(clip(report.error_reason, 2500))}")))
    if report.source_renamed_to:
        blocks.append(SectionBlock(text=mrkdwn(
            f":information_source: The source user is now *{escape(report.source_renamed_to)}*; "
            "the sync followed them (matched by Google's user id).")))
    failures: Sequence[TargetReport] = report.failed_targets
    renamed = [t for t in report.targets if t.status is TargetStatus.renamed]
    problems = list(failures) + renamed
    if problems:
        kinds = Counter(t.status.value for t in problems)
        lines = [_failure_line(t) for t in problems[:FAILURE_LINES]]
        if len(problems) > FAILURE_LINES:
            lines.append(f"…and {len(problems) - FAILURE_LINES} more")
        summary = ", ".join(f"{n} {k}" for k, n in kinds.most_common())
        blocks.append(SectionBlock(text=mrkdwn(f"*Needs attention ({summary})*\n" + "\n".join(lines))))
    blocks.append(context(f"Source contacts: {report.source_count} · Google API calls: {report.api_calls}"))
    return check_count(blocks, MAX_MESSAGE_BLOCKS)


def run_started_text(job_name: str, user_id: str) -> str:
    return f":arrow_forward: <@{user_id}> started a run of *{escape(job_name)}*. The report follows in this thread."


def change_text(action: str, job_name: str, user_id: str, extra: str = "") -> str:
    verbs = {"create": "created", "edit": "changed", "pause": "paused", "resume": "resumed", "delete": "deleted"}
    tail = f" {extra}" if extra else ""
    return clip(f"<@{user_id}> {verbs.get(action, action)} the sync *{escape(job_name)}*.{tail}", 3000)


def already_text(job_name: str, *, enabled: bool) -> str:
    """A pause of a paused sync (or a resume of an enabled one): said, and nothing done or recorded."""
    state = "enabled" if enabled else "paused"
    return f":information_source: The sync *{escape(job_name)}* is already {state}; nothing changed."


def created_blocks(*, job_name: str, user_id: str, source: str, target_group: str, targets: Sequence[str],
                   schedule: str) -> list[Block]:
    shown = ", ".join(f"`{escape(t)}`" for t in targets[:10])
    more = f" and {len(targets) - 10} more" if len(targets) > 10 else ""
    return [
        SectionBlock(text=mrkdwn(change_text("create", job_name, user_id))),
        SectionBlock(text=mrkdwn(clip(
            f"*Source:* {escape(source)}\n*Target group:* {escape(target_group)}\n"
            f"*Targets ({len(targets)}):* {shown}{more}\n*Schedule:* {escape(schedule)}", 3000))),
        context("The first run has been queued; its report will be posted here."),
    ]
