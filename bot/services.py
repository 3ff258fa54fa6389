"""The Slack side of operations several listeners share: publish App Home, queue runs and deletes, and say
in Slack how they went. The operations themselves are `ctx.service`'s (`sync_core.service.JobService`).

Runs go through the service to `ctx.runs` (the scheduler's bounded pool under `serve`); a delete (with its
contact removal) goes to the bot's worker pool. Listeners have acked by then.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future

from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block

from sync_core.domain.text import clip as clip_value
from sync_core.service import (
    ApprovalNeeded,
    ContactsChoice,
    GoogleError,
    JobBusy,
    JobInputError,
    NotAMember,
    RunOutcome,
    RunRequest,
    RunResult,
    RunTrigger,
    SyncJob,
)

from .blocks.common import clip, context, escape, plural
from .blocks.delete import cleanup_lines
from .blocks.home import home_view
from .blocks.members import MINE_IN_HOME, my_sync_blocks
from .blocks.requests import filed_text
from .blocks.run import change_text, run_report_blocks, run_started_text, run_summary
from .context import BotContext
from .notifier import Thread
from .requests import RequestPoster

log = logging.getLogger(__name__)

THREAD_WAIT_SECONDS = 30.0  # how long a finished run waits for its announcement to be posted


# --- App Home ---------------------------------------------------------------------------------------
def publish_home(ctx: BotContext, user_id: str, *, page: int = 0, notice: str | None = None) -> None:
    is_admin = ctx.admins.is_admin(user_id)
    mine = None if is_admin else member_home_blocks(ctx, user_id)
    view = home_view(ctx.service.list_jobs(), is_admin=is_admin, page=page, notice=notice, mine=mine)
    ctx.client.views_publish(user_id=user_id, view=view)


def member_home_blocks(ctx: BotContext, user_id: str) -> list[Block]:
    """A non-admin's own syncs on App Home, with their buttons (or why there are none)."""
    try:
        rows = ctx.member_lookup().syncs(user_id)
    except NotAMember as exc:
        return [context(exc.message)]
    return my_sync_blocks(rows, shown_to=user_id, limit=MINE_IN_HOME)


def refresh_homes(ctx: BotContext) -> None:
    """Re-publish App Home for the admins (the people who act on it)."""
    rows = ctx.service.list_jobs()
    for user_id in ctx.admins.admin_ids():
        try:
            ctx.client.views_publish(user_id=user_id, view=home_view(rows, is_admin=True))
        except SlackApiError as exc:
            log.warning("cannot publish App Home for %s: %s", clip_value(user_id, 40), exc.response.get("error"))


# --- runs (through the scheduler) and deletes (worker pool) ------------------------------------------------
class ThreadSlot:
    """Where a run's report goes: set once the announcement is posted (the run may finish first)."""

    def __init__(self, thread: Thread | None = None, *, ready: bool = False) -> None:
        self._thread = thread
        self._ready = threading.Event()
        if ready:
            self._ready.set()

    def set(self, thread: Thread | None) -> None:
        self._thread = thread
        self._ready.set()

    def get(self) -> Thread | None:
        self._ready.wait(THREAD_WAIT_SECONDS)
        return self._thread


ALREADY_RUNNING = ":hourglass: *{name}* is already running; I did not start another run. Its report will " \
                  "appear when it finishes."
NOT_STARTED = {
    RunRequest.already_running: ALREADY_RUNNING,
    RunRequest.not_found: ":warning: There is no sync named “{name}” any more.",
    RunRequest.shutting_down: ":warning: ContactSync is restarting; run *{name}* again in a minute.",
}


def not_started_text(request: RunRequest, job_name: str) -> str:
    return NOT_STARTED[request].format(name=escape(job_name))


def queue_run(ctx: BotContext, job: SyncJob, *, user_id: str, channel: str | None) -> tuple[RunRequest, bool]:
    """Start a run now; if it started, announce it in `channel` (the report follows in that thread).

    Returns (what the scheduler answered, whether the announcement was posted).
    """
    assert job.id is not None
    slot = ThreadSlot()
    request = start_run(ctx, job, slot)
    if request is not RunRequest.queued:
        slot.set(None)
        return request, False
    ts = ctx.notifier.post(channel, run_started_text(job.name, user_id), []) if channel else None
    slot.set(Thread(channel, ts) if channel and ts else None)
    return request, ts is not None


def start_run(ctx: BotContext, job: SyncJob, slot: ThreadSlot | None = None) -> RunRequest:
    """Queue a run; its report goes to `slot`'s thread (or the alert channel when there is none)."""
    assert job.id is not None
    where = slot or ThreadSlot(ready=True)
    return ctx.service.run_now(job.id, trigger=RunTrigger.slack,
                               on_done=lambda result: _report(ctx, job, where, result))


def _report(ctx: BotContext, job: SyncJob, slot: ThreadSlot, result: RunResult) -> None:
    thread = slot.get()
    if result.outcome is RunOutcome.finished and result.report is not None:
        text, blocks = run_summary(result.report), run_report_blocks(result.report)
    elif result.outcome is RunOutcome.busy:
        text, blocks = f":hourglass: *{escape(job.name)}* is already running in another process.", []
    elif result.outcome is RunOutcome.not_found:
        text, blocks = f":warning: The sync *{escape(job.name)}* no longer exists.", []
    elif result.outcome is RunOutcome.cancelled:
        text, blocks = f":warning: ContactSync is restarting; the run of *{escape(job.name)}* did not start.", []
    else:
        text, blocks = (f":x: The run of *{escape(job.name)}* failed unexpectedly ({escape(result.message)}); "
                        "see the bot's log.", [])
    if thread is not None:
        ctx.notifier.post(thread.channel, text, blocks, thread_ts=thread.ts)
    elif job.alert_channel:
        ctx.notifier.post(job.alert_channel, text, blocks)


def job_changed(ctx: BotContext, job_id: int | None) -> None:
    """After a create, edit, pause, resume, delete or fix: the schedule follows at once; App Home too."""
    if job_id is not None:
        ctx.service.follow_schedule(job_id)
    refresh_homes(ctx)


def queue_delete(ctx: BotContext, name: str, *, user_id: str, contacts: ContactsChoice | None,
                 channel: str | None) -> None:
    ctx.pool.submit(_delete, ctx, name, user_id, contacts, channel).add_done_callback(_log_failure)


def _log_failure(future: Future[None]) -> None:
    """A pool task that raised: its traceback goes to the log (a Future would keep it to itself)."""
    error = future.exception()
    if error is not None:
        log.error("background task failed", exc_info=error)


def _delete(ctx: BotContext, name: str, user_id: str, contacts: ContactsChoice | None, channel: str | None) -> None:
    def closing(job_id: int) -> None:
        ctx.notifier.alerts.job_closing(job_id, outcome="deleted the sync", actor=user_id)

    try:
        deletion = ctx.service.delete(name, actor=user_id, contacts=contacts, closing=closing)
    except ApprovalNeeded as held:  # nothing deleted: it waits for a second admin
        RequestPoster(ctx.client, ctx.service, ctx.admin_channel).post(held.request)
        if channel:
            ctx.notifier.post(channel, filed_text(held.request), [])
        return
    except (JobBusy, JobInputError, GoogleError) as exc:  # JobNotFound is a JobInputError
        text = f":x: Could not delete *{escape(name)}*: {escape(getattr(exc, 'reason', None) or str(exc))}"
        if channel:
            ctx.notifier.post(channel, text, [])
        return
    extra = ""
    cleanup = deletion.cleanup
    if cleanup is not None:
        lines = cleanup_lines(cleanup)
        if not deletion.deleted:  # kept, so that deleting again finishes the job
            left = ", ".join(escape(a.email) for a in cleanup.failed)
            if channel:
                ctx.notifier.post(channel, clip(
                    f":x: Could not delete *{escape(name)}* yet: {plural(len(cleanup.failed), 'account')} could "
                    f"not be cleaned ({left}). The sync is kept, paused and marked as deleting: delete it again to "
                    f"retry.\n{lines}", 3000), [])
            job_changed(ctx, deletion.job.id)  # unscheduled; App Home shows it as deleting
            return
        extra = f"Its contacts:\n{lines}" if lines else ""
    job_changed(ctx, deletion.job.id)  # unscheduled at once
    if channel:
        ctx.notifier.post(channel, change_text("delete", name, user_id, extra), [])
