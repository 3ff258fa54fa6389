"""The README's run command on a machine with no settings: the demos run the real product end to end."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from contactsync.cli import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def no_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for var in ("GOOGLE_APPLICATION_CREDENTIALS", "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "DATABASE_URL"):
        monkeypatch.delenv(var, raising=False)


def test_slack_demo_walks_from_create_to_the_renamed_target() -> None:
    result = runner.invoke(app, ["demo"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "CONTACTSYNC DEMO MODE" in out
    assert "┌─ New sync" in out and "┌─ Targets" in out
    assert "created the sync *Partners for Sales*" in out
    assert "Sync *Partners for Sales* ok" in out
    assert "dave@example.com was renamed to david@example.com" in out
    assert "[Re-add as david@example.com]  [Remove from sync]" in out
    assert "re-added dave@example.com as david@example.com" in out
    assert out.rstrip().endswith("its data is gone now.")


def test_slack_demo_shows_what_slack_would_show() -> None:
    out = runner.invoke(app, ["demo"]).output
    # The modal with what ada typed (the sync is created "every 2h", so the modal must say so).
    assert "Schedule: ‹every 2h›" in out and "every 60m" not in out
    assert "*Schedule:* every 2h" in out
    # Mentions and channels by name, as Slack draws them, never as raw ids.
    assert "@ada created the sync" in out and "<@U" not in out and "#C0CONTACTS" not in out
    # The fixed alert is the same message edited (chat.update), not a new post.
    edited = out.index("✎ #contacts: the message above, edited in place")
    assert "re-added dave@example.com as david@example.com" in out[edited:]


def test_engine_demo() -> None:
    result = runner.invoke(app, ["demo", "--engine-only"])
    assert result.exit_code == 0, result.output
    assert "renamed" in result.output and "+0 ~0 -0 =300" in result.output


def test_serve_with_google_but_no_slack_settings_is_one_clear_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = tmp_path / "sa.json"
    key.write_text('{"type": "service_account", "client_email": "x@y", "private_key": "k", "token_uri": "http://t"}')
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key))
    result = runner.invoke(app, ["serve"])
    assert result.exit_code == 2
    assert result.output.startswith(
        "error: CONTACTSYNC_ADMIN_EMAIL and SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET: not set; "
        "with GOOGLE_APPLICATION_CREDENTIALS set, the bot needs them too"
    )
    assert result.output.count("\n") == 1
