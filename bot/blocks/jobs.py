"""Job listings and the job detail: `/contactsync list`, `/contactsync show NAME` (ephemeral messages)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    DividerBlock,
    HeaderBlock,
    SectionBlock,
)

from sync_core.domain.status import SETTLED_STATUSES
from sync_core.service import (
    AuditEvent,
    ConflictView,
    EditorSelector,
    EditorsView,
    JobDetail,
    JobRow,
    Run,
    SourceChange,
    SyncJob,
    TargetSelector,
    history_words,
)

from .common import (
    MAX_MESSAGE_BLOCKS,
    STATUS_EMOJI,
    check_count,
    clip,
    context,
    escape,
    mrkdwn,
    page_bounds,
    plain,
    plural,
    when,
)

JOBS_PER_PAGE = 20
DETAIL_RUNS = 5
DETAIL_HISTORY = 8
DETAIL_TARGET_LINES = 25
DETAIL_FAILURE_LINES = 15
DETAIL_CONFLICT_LINES = 5


def next_run_text(job: SyncJob, at: datetime | None) -> str:
    """When the job runs next, as mrkdwn: the scheduler's time, else the schedule itself."""
    if not job.enabled:
        return "paused"
    schedule = escape(job.schedule)
    return f"{when(at)} ({schedule})" if at is not None else schedule


def source_text(job: SyncJob) -> str:
    if job.kind.value == "directory":
        return f"directory of {', '.join(job.directory_domains) or '?'}"
    return f"{job.source_email}'s “{job.source_group_name}”"


def run_text(run: Run | None) -> str:
    if run is None:
        return "never run"
    emoji = STATUS_EMOJI[run.status]
    counts = f"+{run.created} ~{run.updated} −{run.deleted} ={run.unchanged}"
    failed = f", {plural(run.targets_failed, 'target')} failed" if run.targets_failed else ""
    return f"{emoji} {run.status.value} {when(run.started_at)} ({counts}{failed})"


def job_line(row: JobRow) -> str:
    job = row.job
    if job.deleting:
        state = " · :wastebasket: *being deleted* (some accounts still hold its contacts: delete it again to retry)"
    else:
        state = "" if job.enabled else " · :double_vertical_bar: *paused*"
    alerts = f" · :rotating_light: {plural(row.open_alerts, 'open alert')}" if row.open_alerts else ""
    return clip(
        f"*{escape(job.name)}*{state}{alerts}\n{escape(source_text(job))} → “{escape(job.target_group_name)}”\n"
        f"Last run: {run_text(row.last_run)} · Next: {next_run_text(job, row.next_run_at)}",
        3000,
    )


def recent_runs_text(runs: Sequence[Run], change: SourceChange | None = None) -> str:
    """The latest runs on one line, newest first, and how fast the source's last change spread (App Home)."""
    if not runs:
        return "No runs yet."
    return clip("Recent runs: " + " · ".join(run_text(r) for r in runs) + source_change_text(change), 2000)


def source_change_text(change: SourceChange | None) -> str:
    if change is None:
        return ""
    if change.took is None:
        return f"\nSource changed {when(change.changed_at)}, not at every target yet"
    return f"\nSource changed {when(change.changed_at)}, at every target {duration_text(change.took)} later"


def duration_text(took: timedelta) -> str:
    seconds = max(0, round(took.total_seconds()))
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 2 * 3600:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


def job_list_blocks(rows: Sequence[JobRow], *, page: int = 0) -> list[Block]:
    if not rows:
        return [SectionBlock(text=mrkdwn("No syncs yet. Create one with `/contactsync create`."))]
    page, first, end = page_bounds(len(rows), page, JOBS_PER_PAGE)
    blocks: list[Block] = [HeaderBlock(text=plain(f"ContactSync · {plural(len(rows), 'sync')}", 150))]
    blocks += [SectionBlock(text=mrkdwn(job_line(r))) for r in rows[first:end]]
    if len(rows) > JOBS_PER_PAGE:
        blocks.append(context(f"Showing {first + 1}–{end} of {len(rows)}"))
        nav = []
        if page > 0:
            nav.append(ButtonElement(text=plain("◀ Previous", 75), action_id="list_page", value=str(page - 1)))
        if end < len(rows):
            nav.append(ButtonElement(text=plain("Next ▶", 75), action_id="list_page", value=str(page + 1)))
        blocks.append(ActionsBlock(block_id="list_nav", elements=nav))
    return check_count(blocks, MAX_MESSAGE_BLOCKS)


def _selector_label(s: TargetSelector | EditorSelector) -> str:
    label = f"{s.kind.value}:{s.value}"
    if s.resolved_email and s.resolved_email != s.value:
        label += f" (now {s.resolved_email})"
    return label


def editors_text(editors: Sequence[EditorSelector], can_delete: bool, open_conflicts: int,
                 users: Sequence[str] | None = None) -> str:
    """Who may edit a job's label (issue 21), as mrkdwn: the selectors (and whom they name now: `users` when
    resolved just now, else each selector's last resolution), whether they may delete, the open conflicts."""
    if not editors:
        return ""
    named = ", ".join(escape(_selector_label(s)) for s in editors)
    now = f" · now: {escape(', '.join(users))}" if users else ""
    conflicts = f" · :twisted_rightwards_arrows: {plural(open_conflicts, 'open conflict')}" if open_conflicts else ""
    return clip(f"Editors: {named}{now} · Editors may delete: {'yes' if can_delete else 'no'}{conflicts}", 2000)


def conflict_line(conflict: ConflictView) -> str:
    lost = "; ".join(conflict.losers)
    return clip(f"{escape(conflict.field)} of {escape(conflict.contact)}: kept {escape(conflict.kept)} "
                f"({escape(conflict.why)}); lost {escape(lost)}", 300)


def _lines(items: Sequence[str], limit: int, what: str) -> str:
    shown = list(items[:limit])
    if len(items) > limit:
        shown.append(f"…and {len(items) - limit} more {what}")
    return "\n".join(shown) or "none"


def _audit_line(event: AuditEvent) -> str:
    detail = history_words(event.detail)
    actor = f"<@{event.actor}>" if event.actor.startswith(("U", "W")) else escape(event.actor)
    return clip(f"{when(event.at)} {actor} *{escape(event.action)}*" + (f" · {escape(detail)}" if detail else ""), 280)


def job_detail_blocks(detail: JobDetail, editors: EditorsView | None = None,
                      conflicts: Sequence[ConflictView] = ()) -> list[Block]:
    """`editors`, `conflicts`: whom the editors name now and the open conflicts (read when the job has editors)."""
    job = detail.job
    status = "being deleted: delete it again to retry" if job.deleting else ("enabled" if job.enabled else "paused")
    blocks: list[Block] = [
        HeaderBlock(text=plain(job.name, 150)),
        SectionBlock(fields=[
            mrkdwn(f"*Source*\n{escape(source_text(job))}", 2000),
            mrkdwn(f"*Target group*\n{escape(job.target_group_name)}", 2000),
            mrkdwn(f"*Schedule*\n{escape(job.schedule)} ({status})", 2000),
            mrkdwn(f"*Alert channel*\n{f'<#{job.alert_channel}>' if job.alert_channel else 'none'}", 2000),
            mrkdwn(f"*Add to My Contacts*\n{'yes' if job.add_to_my_contacts else 'no'}", 2000),
            mrkdwn(f"*Next run*\n{next_run_text(job, detail.next_run_at)}", 2000),
            mrkdwn(f"*Fields*\n{escape(detail.field_rules)}"
                   + (f" · {detail.adopted} adopted" if detail.adopted else ""), 2000),
        ]),
    ]
    if job.description:
        blocks.append(context(escape(clip(job.description, 2000))))
    if detail.source_change is not None:
        blocks.append(context(source_change_text(detail.source_change).strip()))
    selectors = [escape(_selector_label(s)) for s in detail.selectors]
    blocks.append(SectionBlock(text=mrkdwn(f"*Targets ({len(selectors)})*\n" + _lines(selectors, DETAIL_TARGET_LINES,
                                                                                       "targets"))))
    if detail.editors:
        users = editors.users if editors is not None else None
        lines = [editors_text(detail.editors, job.editors_can_delete, detail.open_conflicts, users)]
        lines += [f"• {conflict_line(c)}" for c in conflicts[:DETAIL_CONFLICT_LINES]]
        if detail.open_conflicts > min(len(conflicts), DETAIL_CONFLICT_LINES):
            lines.append(f"…and {detail.open_conflicts - min(len(conflicts), DETAIL_CONFLICT_LINES)} more conflicts")
        blocks.append(SectionBlock(text=mrkdwn(clip("\n".join(lines), 3000))))
    failing = [s for s in detail.states if s.last_status is not None and s.last_status not in SETTLED_STATUSES]
    if failing:
        lines = [f"{escape(s.target_email)}: {s.last_status.value if s.last_status else ''} {escape(s.last_reason)}"
                 for s in failing]
        blocks.append(SectionBlock(text=mrkdwn(f"*Failing targets ({len(failing)})*\n"
                                               + _lines(lines, DETAIL_TARGET_LINES, "failing targets"))))
    if detail.alerts:
        lines = [f"{escape(a.subject)}: {a.kind.value.replace('_', ' ')} ({a.state.value})" for a in detail.alerts]
        blocks.append(SectionBlock(text=mrkdwn(f"*Open alerts ({len(lines)})*\n"
                                               + _lines(lines, DETAIL_FAILURE_LINES, "alerts"))))
    blocks.append(DividerBlock())
    if detail.last_failures:
        lines = [f"{escape(r.target_email)}: {r.status.value}" + (f" → {escape(r.new_email)}" if r.new_email else "")
                 + (f" — {escape(clip(r.reason, 150))}" if r.reason else "") for r in detail.last_failures]
        blocks.append(SectionBlock(text=mrkdwn(f"*Failures in the last run ({len(lines)})*\n"
                                               + _lines(lines, DETAIL_FAILURE_LINES, "failures"))))
    runs = [run_text(r) + (f" — {escape(clip(r.error_reason, 200))}" if r.error_reason else "")
            for r in detail.runs[:DETAIL_RUNS]]
    blocks.append(SectionBlock(text=mrkdwn("*Last runs*\n" + _lines(runs, DETAIL_RUNS, "runs"))))
    history = [_audit_line(e) for e in detail.history[:DETAIL_HISTORY]]
    blocks.append(SectionBlock(text=mrkdwn("*History*\n" + _lines(history, DETAIL_HISTORY, "changes"))))
    return check_count(blocks, MAX_MESSAGE_BLOCKS)


def fallback_text(blocks_text: str) -> str:
    return clip(blocks_text, 3000)
