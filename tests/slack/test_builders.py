"""Builders alone (pure): large inputs stay valid Block Kit within Slack's limits."""

from __future__ import annotations

import pytest

from bot.app import slack_credentials
from bot.blocks.alerts import already_text, status_line
from bot.blocks.modal import details_view
from bot.blocks.run import run_report_blocks
from bot.drafts import Draft
from bot.settings import load_bot_settings
from slack_double import check_blocks, check_view
from sync_core.domain.models import Alert, AlertKind, AlertState, RunStatus, TargetStatus
from sync_core.domain.reports import RunReport, TargetReport
from sync_core.settings import SettingsError


def test_a_run_report_with_300_targets_is_one_summarised_message() -> None:
    report = RunReport(job_id=1, job_name="Big " + "n" * 70, dry_run=False, status=RunStatus.partial,
                       source_count=300, api_calls=1234)
    statuses = [TargetStatus.ok, TargetStatus.not_found, TargetStatus.renamed, TargetStatus.quota]
    for i in range(300):
        status = statuses[i % 4]
        report.targets.append(TargetReport(f"user{i:05d}@example.com", str(i), status, reason="r" * 400,
                                           new_email="new@example.com" if status is TargetStatus.renamed else None,
                                           created=3))
    blocks = [b.to_dict() for b in run_report_blocks(report)]
    assert check_blocks(blocks) == []
    text = str(blocks)
    assert "75 not_found" in text and "75 quota" in text and "75 renamed" in text and "…and 210 more" in text


def test_a_source_with_150_groups_shows_100_options() -> None:
    draft = Draft(id="d", user_id="U1", source_email="a@example.com", groups=[f"Group {i}" for i in range(150)])
    view = details_view(draft).to_dict()
    assert check_view(view) == []
    assert "Showing the first 100 of 150 groups" in str(view)


def test_missing_slack_settings_are_one_clear_line() -> None:
    settings = load_bot_settings(SLACK_SIGNING_SECRET="s")
    settings.slack_bot_token = None
    with pytest.raises(SettingsError, match=r"^SLACK_BOT_TOKEN: not set"):
        slack_credentials(settings)
    settings.slack_signing_secret = None
    with pytest.raises(SettingsError, match=r"^SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET: not set"):
        slack_credentials(settings)


@pytest.mark.parametrize(("state", "closed_by", "line", "already"), [
    (AlertState.fixed, "U1", ":white_check_mark: <@U1> Renamed &lt;x&gt;.",
     ":information_source: Already done: <@U1> Renamed &lt;x&gt;. Nothing was changed."),
    (AlertState.kept, "U1", ":eyes: <@U1> Renamed &lt;x&gt;.",
     ":information_source: Already kept by <@U1>. Nothing was changed."),
    (AlertState.kept, None, ":eyes: Renamed &lt;x&gt;.",
     ":information_source: Already kept by an admin. Nothing was changed."),
    (AlertState.resolved, None, ":white_check_mark: Resolved: Renamed &lt;x&gt;",
     ":information_source: Already resolved: Renamed &lt;x&gt;. Nothing was changed."),
    (AlertState.superseded, None, ":leftwards_arrow_with_hook: Renamed &lt;x&gt;.",
     ":information_source: This alert is out of date: Renamed &lt;x&gt;. Nothing was changed."),
    (AlertState.open, None, "",
     ":information_source: This alert is out of date: Renamed &lt;x&gt;. Nothing was changed."),
])
def test_a_closed_alert_reads_by_its_state(
    state: AlertState, closed_by: str | None, line: str, already: str
) -> None:
    alert = Alert(job_id=1, key="user:1", kind=AlertKind.target_renamed, state=state, subject="bob@example.com",
                  closed_by=closed_by, outcome="Renamed <x>.")
    if state is AlertState.resolved:
        alert.outcome = "Renamed <x>"  # a resolved alert's outcome is a clause ("it syncs again")
    assert status_line(alert) == line
    assert already_text(alert) == already
