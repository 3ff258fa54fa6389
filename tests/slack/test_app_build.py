"""The Bolt app as `build_app` makes it for `serve`: with SLACK_BOT_TOKEN in the environment (as under
`serve`), Bolt is built without warning that a token goes unused, and its own client (which every listener's
client copies) speaks to SLACK_API_URL, retrying a 429."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from tests.conftest import Google

from .conftest import TOKEN, start_bot


def test_the_app_is_built_without_bolt_warnings_and_its_client_speaks_to_slack_api_url(
        google: Google, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)  # what made Bolt warn at every start
    for bot in start_bot(google, tmp_path):
        warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
        assert warnings == []
        assert bot.app is not None
        assert bot.app.client.base_url == bot.double.api_url.rstrip("/") + "/"
        assert any(isinstance(h, RateLimitErrorRetryHandler) for h in bot.app.client.retry_handlers)
        assert bot.ctx.client is bot.app.client
        mark = bot.double.mark()
        assert bot.admin.command("list").status == 200  # Bolt's auth.test, then the answer: all at the double
        assert bot.double.wait_for(lambda c: c.method == "response_url", after=mark).args["text"] == "0 syncs"
        assert "auth.test" in [c.method for c in bot.double.calls]
