"""Operations several listeners share: read jobs for display, publish App Home, queue runs and deletes.

Everything slow (runs, contact removal) goes to the bot's worker pool; listeners have acked by then.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from slack_sdk.errors import SlackApiError

from sync_core import jobs, store
from sync_core.engine import JobBusy, JobNotFound, RunReport
from sync_core.google.errors import GoogleError
from sync_core.models import RunTrigger, SyncJob
from sync_core.targets import Selector, SelectorError, parse_selector

from .blocks.common import plural
from .blocks.home import home_view
from .blocks.jobs import JobDetail, JobRow
from .blocks.modal import TargetRow
from .blocks.run import change_text, run_started_text
from .context import BotContext
from .notifier import Thread

log = logging.getLogger(__name__)


def next_run_text(job: SyncJob) -> str:
    # No scheduler yet (issue 7): the schedule itself is the best answer to "when next".
    return job.schedule


def job_rows(ctx: BotContext) -> list[JobRow]:
    with store.session_scope(ctx.runtime.db) as session:
        rows = []
        for job in store.list_jobs(session):
            assert job.id is not None
            last = store.last_runs(session, job_id=job.id, limit=1)
            rows.append(JobRow(job, last[0] if last else None, next_run_text(job)))
        return rows


def job_detail(ctx: BotContext, name: str) -> JobDetail:
    job = jobs.find_job(ctx.runtime.db, name)
    assert job.id is not None
    with store.session_scope(ctx.runtime.db) as session:
        return JobDetail(
            job=job,
            selectors=store.list_selectors(session, job_id=job.id),
            runs=store.last_runs(session, job_id=job.id, limit=5),
            states=sorted(store.target_states_for_job(session, job_id=job.id).values(), key=lambda s: s.target_email),
            history=store.audit_events(session, job_id=job.id, limit=8),
            next_run=next_run_text(job),
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


def target_rows(ctx: BotContext, texts: Sequence[str]) -> list[TargetRow]:
    rows = []
    for text in texts:
        selector = _parse(text)
        if selector is None:
            rows.append(TargetRow(text, text, None))
            continue
        rows.append(TargetRow(text, target_label(ctx, selector), ctx.cache.count_users([selector])))
    return rows


def count_targets(ctx: BotContext, texts: Sequence[str]) -> int:
    return ctx.cache.count_users([s for s in (_parse(t) for t in texts) if s is not None])


# --- runs and deletes (worker pool) ------------------------------------------------------------------
def queue_run(ctx: BotContext, job: SyncJob, *, user_id: str, channel: str | None) -> bool:
    """Announce the run in `channel` (the report follows in its thread) and run it on the worker pool.

    False when the announcement could not be posted (the report then goes to the alert channel only).
    """
    assert job.id is not None
    ts = ctx.notifier.post(channel, run_started_text(job.name, user_id), []) if channel else None
    if channel and ts:
        ctx.notifier.expect_thread(job.id, Thread(channel, ts))
    start_run(ctx, job)
    return ts is not None


def start_run(ctx: BotContext, job: SyncJob) -> None:
    ctx.pool.submit(_run, ctx, job)


def _run(ctx: BotContext, job: SyncJob) -> RunReport | None:
    assert job.id is not None
    try:
        # The engine calls the notifier (thread reply / alert channel / App Home) when it finishes.
        return ctx.runtime.engine.run(job.id, trigger=RunTrigger.slack)
    except (JobBusy, JobNotFound) as exc:
        _tell_thread(ctx, job, f":hourglass: {exc}")
    except GoogleError as exc:
        _tell_thread(ctx, job, f":x: The run of *{job.name}* could not start: {exc.reason}")
    except Exception as exc:  # the worker's boundary: log it with the traceback, and tell Slack it failed
        log.exception("run of job %s failed", job.name)
        _tell_thread(ctx, job, f":x: The run of *{job.name}* failed unexpectedly ({type(exc).__name__}); "
                               "see the bot's log.")
    return None


def _tell_thread(ctx: BotContext, job: SyncJob, text: str) -> None:
    thread = ctx.notifier.take_thread(job.id) if job.id is not None else None
    channel = thread.channel if thread else job.alert_channel
    if channel:
        ctx.notifier.post(channel, text, [], thread_ts=thread.ts if thread else None)


def queue_delete(ctx: BotContext, name: str, *, user_id: str, remove_contacts: bool, channel: str | None) -> None:
    ctx.pool.submit(_delete, ctx, name, user_id, remove_contacts, channel)


def _delete(ctx: BotContext, name: str, user_id: str, remove_contacts: bool, channel: str | None) -> None:
    extra = ""
    try:
        if remove_contacts:
            report = ctx.runtime.engine.remove_all(name)
            removed = report.total("deleted")
            failed = len(report.failed_targets)
            extra = f"{plural(removed, 'synced contact')} removed from {plural(len(report.targets), 'account')}"
            extra += f" ({failed} could not be cleaned)." if failed else "."
        jobs.delete_job(ctx.runtime.db, name=name, actor=user_id)
    except (JobBusy, JobNotFound, jobs.JobInputError, GoogleError) as exc:
        text = f":x: Could not delete *{name}*: {getattr(exc, 'reason', None) or exc}"
        if channel:
            ctx.notifier.post(channel, text, [])
        return
    if channel:
        ctx.notifier.post(channel, change_text("delete", name, user_id, extra), [])
    refresh_homes(ctx)
