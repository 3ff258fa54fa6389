"""Several replicas on one database post each alert once: the row is claimed (a conditional UPDATE) before
`chat.postMessage`, so a replica whose run sees the same open, not yet posted alert leaves it to the one
that claimed it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import Engine

from bot.notifier import SlackNotifier
from sync_core import store
from sync_core.domain.models import AlertKind, AlertState, RunStatus, RunTrigger, utcnow
from sync_core.domain.reports import RunReport
from sync_core.run.engine import SyncEngine
from sync_core.service import AlertBook
from sync_core.store.alerts import POST_CLAIM_SECONDS
from tests.scheduler.conftest import make_job as make_store_job

from .conftest import CHANNEL, Bot
from .helpers import make_job
from .test_alerts import alerts_posted, failing, job_id


class _PostingSlowly:
    """Replica A's Slack client: while its alert post is on its way, `meanwhile` runs (replica B's run ends)."""

    def __init__(self, client: Any, meanwhile: Any) -> None:
        self._client, self._meanwhile = client, meanwhile

    def chat_postMessage(self, **args: Any) -> Any:  # noqa: N802 - slack_sdk's name
        self._meanwhile()
        return self._client.chat_postMessage(**args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def _report(bot: Bot) -> RunReport:
    with store.session_scope(bot.runtime.db) as session:
        job = store.get_job(session, job_id=job_id(bot))
        assert job is not None and job.id is not None
        run = store.start_run(session, job_id=job.id, trigger=RunTrigger.schedule)
    report = RunReport(job.id, job.name, False, run_id=run.id, status=RunStatus.partial, source_email=job.source_email)
    report.targets.extend(failing(2))
    return report


def test_an_alert_two_replicas_would_post_is_posted_once(bot: Bot) -> None:
    make_job(bot, "Partners", "email:bob@example.com")
    rt = bot.runtime
    replica_b = SyncEngine(db=rt.db, clients=rt.clients, settings=rt.settings,
                           notifier=SlackNotifier(bot.ctx.client, AlertBook(rt.db)))
    with store.session_scope(rt.db) as session:
        row = store.get_job(session, job_id=job_id(bot))
    assert row is not None
    second = _report(bot)
    replica_a = bot.ctx.notifier.alerts
    replica_a.client = _PostingSlowly(bot.ctx.client, lambda: replica_b.after_run(row, second))  # type: ignore[assignment]

    rt.engine.after_run(row, _report(bot))

    [alert] = alerts_posted(bot)
    assert alert.args["channel"] == CHANNEL
    with store.session_scope(bot.runtime.db) as session:
        rows = store.active_alerts(session, job_id=job_id(bot))
    assert [(a.state, a.message_ts) for a in rows] == [(AlertState.open, alert.answer["ts"])] * 2


def test_alerts_a_run_without_slack_recorded_are_posted_by_the_next_run_in_a_slack_process(bot: Bot) -> None:
    """The CLI (or a replica with Slack off) records the alerts its run opens; Slack posts them once a run in a
    process with Slack still sees them, in one message, as it would have."""
    make_job(bot, "Partners", "email:bob@example.com")
    rt = bot.runtime
    cli = SyncEngine(db=rt.db, clients=rt.clients, settings=rt.settings)  # no notifier: a process without Slack
    with store.session_scope(rt.db) as session:
        row = store.get_job(session, job_id=job_id(bot))
    assert row is not None
    mark = bot.double.mark()

    cli.after_run(row, _report(bot))
    assert alerts_posted(bot, mark) == []
    with store.session_scope(rt.db) as session:
        rows = store.active_alerts(session, job_id=job_id(bot))
    assert [(a.state, a.channel, a.message_ts) for a in rows] == [(AlertState.open, CHANNEL, None)] * 2

    rt.engine.after_run(row, _report(bot))  # the next run, in the bot's process, still sees both

    [alert] = alerts_posted(bot, mark)
    with store.session_scope(rt.db) as session:
        rows = store.active_alerts(session, job_id=job_id(bot))
    assert [(a.state, a.message_ts) for a in rows] == [(AlertState.open, alert.answer["ts"])] * 2


def test_a_claim_goes_to_one_caller_and_a_stale_one_can_be_taken_again(engine: Engine) -> None:
    job = make_store_job(engine, "A")
    with store.session_scope(engine) as session:
        alert = store.add_alert(session, job_id=job, key="user:1", kind=AlertKind.target_missing,
                                state=AlertState.open, subject="bob@example.com")
        assert alert.id is not None
        alert_id = alert.id
    book = AlertBook(engine)
    assert book.claim_for_posting([alert_id]) == [alert_id]
    assert AlertBook(engine).claim_for_posting([alert_id]) == []
    book.release([alert_id])  # Slack refused: the next run may post it
    assert AlertBook(engine).claim_for_posting([alert_id]) == [alert_id]
    with store.session_scope(engine) as session:  # a poster that died: its claim lapses
        stale_later = utcnow() + timedelta(seconds=POST_CLAIM_SECONDS + 1)
        assert store.claim_alerts_for_posting(session, alert_ids=[alert_id], now=stale_later) == [alert_id]
    book.set_message([alert_id], (CHANNEL, "1.0"))
    with store.session_scope(engine) as session:  # posted: never claimed again
        never = utcnow() + timedelta(days=1)
        assert store.claim_alerts_for_posting(session, alert_ids=[alert_id], now=never) == []
