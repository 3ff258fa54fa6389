"""Operations several listeners share: read jobs for display, publish App Home, queue runs and deletes.

Runs go through `ctx.runs` (the scheduler's bounded pool under `serve`); contact removal before a delete
goes to the bot's worker pool. Listeners have acked by then.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from concurrent.futures import Future

from slack_sdk.errors import SlackApiError

from sync_core import jobs, store
from sync_core.engine import JobBusy, JobNotFound
from sync_core.google.errors import GoogleError
from sync_core.models import AlertState, RunTrigger, SyncJob
from sync_core.scheduler import RunOutcome, RunRequest, RunResult
from sync_core.targets import Selector, SelectorError, parse_selector

from .blocks.common import escape, plural, when
from .blocks.home import home_view
from .blocks.jobs import HOME_RUNS, JobDetail, JobRow
from .blocks.modal import TargetRow
from .blocks.run import change_text, run_report_blocks, run_started_text, run_summary
from .context import BotContext
from .notifier import Thread

log = logging.getLogger(__name__)

THREAD_WAIT_SECONDS = 30.0  # how long a finished run waits for its announcement to be posted


def next_run_text(ctx: BotContext, job: SyncJob) -> str:
    """When the job runs next, as mrkdwn: the scheduler's time, else the schedule itself."""
    if not job.enabled:
        return "paused"
    at = ctx.runs.next_run_at(job.id) if job.id is not None else None
    schedule = escape(job.schedule)
    return f"{when(at)} ({schedule})" if at is not None else schedule


def job_rows(ctx: BotContext) -> list[JobRow]:
    with store.session_scope(ctx.runtime.db) as session:
        rows = []
        for job in store.list_jobs(session):
            assert job.id is not None
            runs = store.last_runs(session, job_id=job.id, limit=HOME_RUNS)
            alerts = store.active_alerts(session, job_id=job.id)
            open_alerts = sum(1 for a in alerts if a.state is not AlertState.pending)
            rows.append(JobRow(job, runs[0] if runs else None, next_run_text(ctx, job), runs=runs,
                               open_alerts=open_alerts))
        return rows


def job_detail(ctx: BotContext, name: str) -> JobDetail:
    job = jobs.find_job(ctx.runtime.db, name)
    assert job.id is not None
    with store.session_scope(ctx.runtime.db) as session:
        runs = store.last_runs(session, job_id=job.id, limit=5)
        return JobDetail(
            job=job,
            selectors=store.list_selectors(session, job_id=job.id),
            runs=runs,
            states=sorted(store.target_states_for_job(session, job_id=job.id).values(), key=lambda s: s.target_email),
            history=store.audit_events(session, job_id=job.id, limit=8),
            next_run=next_run_text(ctx, job),
            last_failures=[r for r in store.results_for_run(session, run_id=runs[0].id)
                           if r.status.value not in ("ok", "removed")] if runs and runs[0].id is not None else [],
            alerts=[a for a in store.active_alerts(session, job_id=job.id) if a.state is not AlertState.pending],
        )


def selector_texts(job_id: int, ctx: BotContext) -> list[str]:
    with store.session_scope(ctx.runtime.db) as session:
        return [f"{'ou' if s.kind.value == 'orgunit' else s.kind.value}:{s.value}"
                for s in store.list_selectors(session, job_id=job_id)]


# --- App Home ---------------------------------------------------------------------------------------
def publish_home(ctx: BotContext, user_id: str, *, page: int = 0, notice: str | None = None) -> None:
    view = home_view(job_rows(ctx), is_admin=ctx.admins.is_admin(user_id), page=page, notice=notice)
    ctx.client.views_publish(user_id=user_id, view=view)


def refresh_homes(ctx: BotContext) -> None:
    """Re-publish App Home for the admins (the people who act on it)."""
    rows = job_rows(ctx)
    for user_id in ctx.admins.admin_ids():
        try:
            ctx.client.views_publish(user_id=user_id, view=home_view(rows, is_admin=True))
        except SlackApiError as exc:
            log.warning("cannot publish App Home for %s: %s", user_id, exc.response.get("error"))


# --- targets ----------------------------------------------------------------------------------------
def _parse(text: str) -> Selector | None:
    try:
        return parse_selector(text)
    except SelectorError:
        return None


def target_label(ctx: BotContext, selector: Selector) -> str:
    snap = ctx.cache.snapshot
    if selector.kind == "email":
        user = ctx.cache.user(selector.value)
        return f"👤 {user.name} <{user.email}>" if user else f"👤 {selector.value}"
    if selector.kind == "group":
        group = next((g for g in snap.groups if g.email == selector.value), None)
        return f"👥 {group.name} <{group.email}>" if group else f"👥 {selector.value}"
    icons = {"domain": "🌐 domain", "role": "🛡 role", "orgunit": "🏢 unit"}
    return f"{icons.get(selector.kind, selector.kind)} {selector.value}"


def target_rows(ctx: BotContext, texts: Sequence[str], *, source_email: str | None = None) -> list[TargetRow]:
    rows = []
    for text in texts:
        selector = _parse(text)
        if selector is None:
            rows.append(TargetRow(text, text, None))
            continue
        count = ctx.cache.count_users([selector], excluding=source_email)
        rows.append(TargetRow(text, target_label(ctx, selector), count))
    return rows


def count_targets(ctx: BotContext, texts: Sequence[str], *, source_email: str | None = None) -> int:
    """The users the selections resolve to; the source user is never their own target."""
    return ctx.cache.count_users([s for s in (_parse(t) for t in texts) if s is not None], excluding=source_email)


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
    return ctx.runs.run_now(job.id, trigger=RunTrigger.slack, on_done=lambda result: _report(ctx, job, where, result))


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


def has_open_alerts(ctx: BotContext, job: SyncJob) -> bool:
    if job.id is None:
        return False
    with store.session_scope(ctx.runtime.db) as session:
        return any(a.state is not AlertState.pending for a in store.active_alerts(session, job_id=job.id))


def job_changed(ctx: BotContext, job_id: int | None) -> None:
    """After a create, edit, pause, resume, delete or fix: the schedule follows at once; App Home too."""
    if job_id is not None:
        ctx.runs.sync(job_id)
    refresh_homes(ctx)


def queue_delete(ctx: BotContext, name: str, *, user_id: str, remove_contacts: bool, channel: str | None) -> None:
    ctx.pool.submit(_delete, ctx, name, user_id, remove_contacts, channel).add_done_callback(_log_failure)


def _log_failure(future: Future[None]) -> None:
    """A pool task that raised: its traceback goes to the log (a Future would keep it to itself)."""
    error = future.exception()
    if error is not None:
        log.error("background task failed", exc_info=error)


def _delete(ctx: BotContext, name: str, user_id: str, remove_contacts: bool, channel: str | None) -> None:
    extra = ""
    try:
        job = jobs.find_job(ctx.runtime.db, name)
        if remove_contacts:
            report = ctx.runtime.engine.remove_all(name)
            removed = report.total("deleted")
            failed = len(report.failed_targets)
            extra = f"{plural(removed, 'synced contact')} removed from {plural(len(report.targets), 'account')}"
            extra += f" ({failed} could not be cleaned)." if failed else "."
        assert job.id is not None
        ctx.notifier.alerts.job_closing(job.id, outcome="deleted the sync", actor=user_id)
        jobs.delete_job(ctx.runtime.db, name=name, actor=user_id)
    except (JobBusy, JobNotFound, jobs.JobInputError, GoogleError) as exc:
        text = f":x: Could not delete *{escape(name)}*: {escape(getattr(exc, 'reason', None) or str(exc))}"
        if channel:
            ctx.notifier.post(channel, text, [])
        return
    job_changed(ctx, job.id)  # unscheduled at once
    if channel:
        ctx.notifier.post(channel, change_text("delete", name, user_id, extra), [])
