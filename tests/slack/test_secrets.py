"""No secret in any log line, Slack message or CLI output, through a whole life: create a sync in the modal,
its first run, a renamed target, the alert, the fix button, commands, a forged request, a listener that
fails, and the CLI on the same database. Every logger runs at DEBUG (slack_bolt, slack_sdk, urllib3,
googleapiclient, google.auth, waitress, ours)."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from typer.testing import CliRunner

from contactsync.cli import app as cli
from contactsync.logs import QUIET, redact
from sync_core.domain.models import RunStatus, RunTrigger
from tests.conftest import Google

from .conftest import ADMIN, Bot, start_bot
from .flows import add_targets, fill_details
from .logcheck import formatted, leaks

BOT_TOKEN = "xoxb-7342098123-7342099456789-Zq3RkT9vLmN2pXwY8aBcDeFg"
SIGNING_SECRET = "a3f9c2e17b5d4068a1e2f3b4c5d6e7f8"
APP_TOKEN = "xapp-1-A0CSYNC01-7342100123456-0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a6978"
VERIFICATION_TOKEN = "legacy-verification-token"
LOGGERS = ("", "slack_bolt", "slack_sdk", "urllib3", "googleapiclient", "google", "waitress", "apscheduler",
           "contactsync", "bot", "sync_core", *QUIET)
DOUBLES = ("emulator", "slack_double")  # the test's stand-ins for Google and Slack, not the product


class Secrets:
    def __init__(self, google: Google) -> None:
        key = json.loads(Path(google.handle.credentials_file).read_text())
        pem_lines = [line for line in key["private_key"].splitlines() if line and not line.startswith("-----")]
        self.fixed = [BOT_TOKEN, SIGNING_SECRET, APP_TOKEN, VERIFICATION_TOKEN, key["private_key_id"], *pem_lines]
        self.access_tokens: list[str] = []
        self.response_urls: list[str] = []

    def all(self) -> list[str]:
        # a response_url's random part: the whole URL is never needed to abuse it once it is known
        ids = [u.rsplit("/", 1)[1] for u in self.response_urls]
        return [*self.fixed, *self.access_tokens, *self.response_urls, *ids]


@pytest.fixture
def secrets_bot(google: Google, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
                ) -> Iterator[tuple[Bot, Secrets]]:
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    secrets = Secrets(google)
    issuer = google.handle.server.tokens
    issue = issuer.token_request

    def recording(*args: Any, **kwargs: Any) -> dict[str, Any]:
        answer = issue(*args, **kwargs)
        secrets.access_tokens.append(answer["access_token"])
        return answer

    monkeypatch.setattr(issuer, "token_request", recording)
    for bot in start_bot(google, tmp_path, with_scheduler=True, token=BOT_TOKEN, secret=SIGNING_SECRET,
                         SLACK_APP_TOKEN=APP_TOKEN):
        monkeypatch.setattr(bot.double, "response_url", recorded(bot.double.response_url, secrets.response_urls))
        yield bot, secrets


def recorded(new_url: Any, issued: list[str]) -> Any:
    def response_url() -> str:
        url = str(new_url())
        issued.append(url)
        return url

    return response_url


def life(bot: Bot) -> None:
    """Create in the modal, first run, a renamed target, its alert, the fix button, commands, bad requests."""
    admin = bot.admin
    fill_details(bot, admin, name="Partners")
    assert admin.submit().json()["response_action"] == "push"
    add_targets(bot, admin, pick_users=[("email:bob@example.com", "Bob")])
    mark = bot.double.mark()
    assert admin.submit().json() == {"response_action": "clear"}
    created = bot.double.wait_for(lambda c: c.method == "chat.postMessage" and "created" in c.args["text"], after=mark)
    bot.double.wait_for(lambda c: c.method == "chat.postMessage" and c.args.get("thread_ts") == created.answer["ts"],
                        after=mark, timeout=30)

    bot.google.handle.control.rename_user("bob@example.com", "robert@example.com")
    mark = bot.double.mark()
    assert bot.runtime.engine.run("Partners", trigger=RunTrigger.schedule).status is RunStatus.ok
    alert = bot.double.wait_for(lambda c: c.method == "chat.postMessage" and "needs attention" in str(c.args["text"]),
                                after=mark)
    mark = bot.double.mark()
    assert admin.click_message(alert.args["blocks"], "alert_readd").status == 200
    bot.double.wait_for(lambda c: c.method == "chat.update" and c.args["ts"] == alert.answer["ts"], after=mark)

    for text in ("list", "show Partners", "run Partners", "help", "delete Nope"):
        mark = bot.double.mark()
        assert admin.command(text).status == 200
        bot.double.wait_for(lambda c: c.method == "response_url", after=mark, timeout=30)
    mark = bot.double.mark()
    admin.open_home()
    bot.double.wait_for(lambda c: c.method == "views.publish", after=mark)
    # a forged signature, a stale one, and a listener that fails (a delete form whose metadata is not JSON)
    body = admin.command_body("pause Partners")
    assert admin.post(body, "application/x-www-form-urlencoded", signature="v0=" + "0" * 64).status == 401
    assert admin.post(body, "application/x-www-form-urlencoded", timestamp=int(time.time()) - 600).status == 401
    broken = {"type": "view_submission", "user": {"id": ADMIN}, "team": {"id": "T0CSYNC01"},
              "token": VERIFICATION_TOKEN,
              "view": {"id": "V0X", "type": "modal", "callback_id": "cs_delete", "private_metadata": "{",
                       "state": {"values": {}}},
              "response_urls": [{"response_url": bot.double.response_url()}]}
    answer = admin.post(urlencode({"payload": json.dumps(broken)}).encode(), "application/x-www-form-urlencoded")
    assert answer.status == 200 and answer.json()["response_action"] == "update"


def test_no_secret_in_logs_slack_messages_or_cli_output(
    secrets_bot: tuple[Bot, Secrets], caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot, secrets = secrets_bot
    life(bot)
    time.sleep(0.5)
    runner = CliRunner()
    for key, value in {"DATABASE_URL": bot.runtime.settings.database_url,
                       "GOOGLE_APPLICATION_CREDENTIALS": str(bot.google.handle.credentials_file),
                       "CONTACTSYNC_ADMIN_EMAIL": bot.google.seed.admin_email,
                       "CONTACTSYNC_GOOGLE_API_ENDPOINT": bot.google.handle.url, "SLACK_BOT_TOKEN": BOT_TOKEN,
                       "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_APP_TOKEN": APP_TOKEN}.items():
        monkeypatch.setenv(key, value)
    outputs = [runner.invoke(cli, args).output for args in (
        ["jobs", "list", "--json"], ["jobs", "show", "Partners", "--json"], ["run", "Partners", "--dry-run"],
        ["jobs", "show", "Nope"], ["jobs", "create", "--name", "X", "--source", "nobody@example.com", "--group", "G",
                                   "--target", "bogus"])]

    found = secrets.all()
    assert secrets.access_tokens and len(secrets.response_urls) >= 8 and len(found) >= 30
    records = [*caplog.get_records("setup"), *caplog.get_records("call")]
    product = [r for r in records if not r.name.startswith(DOUBLES)]
    # the test would see a leak: slack_sdk logs each response_url at DEBUG, which the product keeps quiet
    assert leaks([r for r in product if r.name.startswith("slack_sdk.webhook")], secrets.response_urls)
    # 1. as the product configures logging (googleapiclient, urllib3, slack_sdk.webhook at WARNING): no secret
    #    is ever logged, redaction or not
    as_configured = [r for r in product if r.levelno >= logging.WARNING or not r.name.startswith(QUIET)]
    assert leaks(as_configured, found) == []
    # 2. everything at DEBUG, through the handler's redaction: still none
    assert [r.name for r in product if any(s in redact(formatted(r)) for s in found)] == []
    # 3. what Slack received (messages, views, response_url replies), and the CLI's output
    sent = [json.dumps({k: v for k, v in c.args.items() if k != "response_id"}) for c in bot.double.calls]
    assert [s[:80] for s in sent if any(secret in s for secret in found)] == []
    assert [o[:80] for o in outputs if any(secret in o for secret in found)] == []
    assert any("Partners" in o for o in outputs)
    print(f"secrets searched: {len(found)}; log records: {len(product)} "
          f"({sum(1 for r in product if r.levelno < logging.INFO)} at DEBUG); Slack calls: {len(sent)}; "
          f"CLI outputs: {len(outputs)}")
    assert len(product) > 200  # the capture works: every layer logged at DEBUG
