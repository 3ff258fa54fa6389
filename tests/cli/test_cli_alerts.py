"""Alerts are decided and recorded after every run, whoever started it: a `contactsync run` with no Slack
anywhere opens an alert row for a new failure (shown by `jobs show`), and a later one that finds it cleared
resolves it. Posting is Slack's part: an alert recorded here is posted by the next run, in a process with
Slack, that still sees it (tests/slack/test_alerts.py)."""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import col, select
from typer.testing import CliRunner

from contactsync.cli import app
from sync_core import store
from sync_core.domain.models import Alert, AlertKind, AlertState
from tests.conftest import Google

from .test_cli import create, env

__all__ = ["env"]  # a fixture, used by name

runner = CliRunner()


def alert_rows(db_url: str) -> list[tuple[AlertKind, str, AlertState, str | None, str]]:
    engine = store.make_engine(db_url)
    try:
        with store.session_scope(engine) as session:
            rows = session.exec(select(Alert).order_by(col(Alert.id)))
            return [(a.kind, a.subject, a.state, a.message_ts, a.outcome) for a in rows]
    finally:
        engine.dispose()


def show(name: str) -> dict[str, Any]:
    shown = runner.invoke(app, ["jobs", "show", name, "--json"])
    assert shown.exit_code == 0, shown.output
    return dict(json.loads(shown.output))


def test_a_cli_run_opens_an_alert_and_a_later_one_resolves_it(google: Google, env: dict[str, str]) -> None:
    made = runner.invoke(app, [*create(google, "email:bob@example.com", "email:carol@example.com"),
                               "--channel", "C0123ABCD"])
    assert made.exit_code == 0, made.output
    assert runner.invoke(app, ["run", "Partners"]).exit_code == 0
    assert alert_rows(env["DATABASE_URL"]) == []

    google.handle.control.suspend_user("carol@example.com")
    failed = runner.invoke(app, ["run", "Partners"])
    assert failed.exit_code == 1, failed.output
    # open, waiting for Slack to post it (no message yet)
    assert alert_rows(env["DATABASE_URL"]) == [
        (AlertKind.target_suspended, "carol@example.com", AlertState.open, None, "")]
    [shown] = show("Partners")["alerts"]
    assert (shown["kind"], shown["subject"], shown["state"], shown["posted"]) == (
        "target_suspended", "carol@example.com", "open", False)
    text = runner.invoke(app, ["jobs", "show", "Partners"]).output
    assert "alert: target_suspended carol@example.com (open, not posted yet)" in text, text

    assert runner.invoke(app, ["run", "Partners"]).exit_code == 1  # the same failure: the same alert
    assert len(alert_rows(env["DATABASE_URL"])) == 1

    google.handle.control.unsuspend_user("carol@example.com")
    assert runner.invoke(app, ["run", "Partners"]).exit_code == 0
    assert alert_rows(env["DATABASE_URL"]) == [
        (AlertKind.target_suspended, "carol@example.com", AlertState.resolved, None, "it syncs again")]
    assert show("Partners")["alerts"] == []
