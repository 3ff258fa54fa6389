"""Socket Mode, end to end: `contactsync serve` in its own process with SLACK_APP_TOKEN set connects to the
Slack double's websocket (through apps.connections.open), and the same admin actions as over HTTP arrive as
envelopes that it acknowledges and acts on."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from bot.app import build_app, context_of
from bot.settings import load_bot_settings
from bot.socket_guard import GuardedSocketModeHandler
from slack_double import Call, SlackDouble, SocketModeUser
from tests.conftest import Google
from tests.integration.test_contact_sync import make_runtime

from .conftest import ADMIN, CHANNEL, SECRET, TOKEN
from .logcheck import errors
from .test_serve import wait_until

APP_TOKEN = "xapp-1-A0CSYNC01-0000-test"
ROOT = Path(__file__).parents[2]


@dataclass
class SocketBot:
    double: SlackDouble
    google: Google
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def admin(self) -> SocketModeUser:
        return SocketModeUser(self.double, user_id=ADMIN, user_name="ada")

    def cli(self, *args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "contactsync.cli", *args], env=self.env, cwd=ROOT,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def wait_for(self, method: str, after: int, **kw: object) -> Call:
        return self.double.wait_for(lambda c: c.method == method and bool(c.answer.get("ok")), after=after,
                                    **kw)  # type: ignore[arg-type]


def serve_env(google: Google, double: SlackDouble, db_url: str) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": db_url, "SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET,
           "SLACK_APP_TOKEN": APP_TOKEN, "SLACK_API_URL": double.api_url, "CONTACTSYNC_ADMINS": ADMIN,
           "GOOGLE_APPLICATION_CREDENTIALS": str(google.handle.credentials_file),
           "CONTACTSYNC_ADMIN_EMAIL": google.seed.admin_email, "CONTACTSYNC_GOOGLE_API_ENDPOINT": google.handle.url,
           "CONTACTSYNC_RETRY_MAX_WAIT_SECONDS": "0.01", "CONTACTSYNC_SCHEDULER_RECONCILE_SECONDS": "0",
           "CONTACTSYNC_LOG_LEVEL": "DEBUG"}
    env.pop("PORT", None)
    return env


@pytest.fixture
def socket_bot(google: Google, tmp_path: Path) -> Iterator[SocketBot]:
    with SlackDouble() as double:
        env = serve_env(google, double, f"sqlite:///{tmp_path / 'socket.db'}")
        log = tmp_path / "serve.log"
        with log.open("wb") as out:
            process = subprocess.Popen([sys.executable, "-m", "contactsync.cli", "serve"], env=env, cwd=ROOT,
                                       stdout=out, stderr=subprocess.STDOUT)
        bot = SocketBot(double, google, env, process, log)
        try:
            double.socket_mode.wait_connected(timeout=60)
            # serve handles SIGTERM from this line on (the teardown's terminate must find it listening)
            wait_until(lambda: "connected to Slack (Socket Mode)" in log.read_text())
            yield bot
            process.terminate()
            assert process.wait(timeout=30) == 0, log.read_text()
        except BaseException:
            print(log.read_text())  # what serve said, for the failure's report
            raise
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()


def test_commands_modals_actions_and_home_arrive_as_envelopes_and_are_acted_on(socket_bot: SocketBot) -> None:
    double, admin, seed = socket_bot.double, socket_bot.admin, socket_bot.google.seed
    # serve asked for its websocket URL with the app token, not the bot token
    opened = double.calls_to("apps.connections.open")
    assert [(c.token, c.answer["ok"]) for c in opened] == [(APP_TOKEN, True)]
    assert opened[0].answer["url"].startswith("ws://127.0.0.1:") and double.socket_mode.connected == 1

    # a slash command: acked at once, the answer through its response_url
    mark = double.mark()
    assert admin.command("help").status == 200
    usage = double.wait_for(lambda c: c.method == "response_url", after=mark)
    assert usage.args["text"] == "ContactSync usage" and "create" in json.dumps(usage.args["blocks"])

    # the create modal: opened by the command, its selects answered with views.update (block_actions)
    mark = double.mark()
    admin.command("create")
    socket_bot.wait_for("views.open", mark)
    assert admin.modal()["callback_id"] == "cs_details"
    admin.enter("name", "Partners over sockets")
    for action_id, value in (("source_user", seed.source_email), ("group_select", seed.source_group_name)):
        mark = double.mark()
        assert admin.choose(action_id, (value, value)).status == 200
        socket_bot.wait_for("views.update", mark)
    admin.enter("schedule", "every 2h")
    admin.enter("alert_channel", CHANNEL)

    # view_submission: the ack carries the response_action, as Slack reads it from the ack's payload
    answer = admin.submit()
    assert answer.json()["response_action"] == "push", answer.text
    assert admin.modal()["callback_id"] == "cs_targets"
    admin.enter("pick_users", [("email:dave@example.com", "Dave Developer")])
    mark = double.mark()
    admin.click("targets_add")
    socket_bot.wait_for("views.update", mark)
    mark = double.mark()
    assert admin.submit().json() == {"response_action": "clear"}
    created = double.wait_for(lambda c: c.method == "chat.postMessage" and "created" in c.args["text"], after=mark)
    assert created.args["channel"] == CHANNEL
    double.wait_for(lambda c: c.method == "chat.postMessage" and c.args.get("thread_ts") == created.answer["ts"],
                    after=mark, timeout=60)  # the first run's report

    # the job is in the database, as the CLI sees it
    jobs = json.loads(socket_bot.cli("jobs", "list", "--json"))
    assert [(j["name"], j["schedule"]) for j in jobs] == [("Partners over sockets", "every 2h")], jobs

    # App Home opened (events_api): published; its Run now button (block_actions) starts a run
    mark = double.mark()
    assert admin.open_home().status == 200
    socket_bot.wait_for("views.publish", mark)
    mark = double.mark()
    assert admin.click_home("home_run", "Partners over sockets").status == 200
    notice = socket_bot.wait_for("views.publish", mark)
    assert "Running *Partners over sockets*" in json.dumps(notice.args["view"])
    double.wait_for(lambda c: c.method == "chat.postMessage" and c.args.get("channel") == CHANNEL
                    and "Partners over sockets" in c.args["text"], after=mark, timeout=60)

    # every envelope was acknowledged once, and nothing else came back on the socket
    sockets = double.socket_mode
    assert len(sockets.envelopes) == 9 and set(sockets.acks) == {e.envelope_id for e in sockets.envelopes}
    assert {e.type for e in sockets.envelopes} == {"slash_commands", "interactive", "events_api"}
    assert sockets.unexpected == []


def test_a_refresh_request_moves_the_bot_to_a_new_connection(socket_bot: SocketBot) -> None:
    double = socket_bot.double
    double.socket_mode.request_refresh()
    double.socket_mode.wait_connected(opened=2, timeout=30)
    assert [c.token for c in double.calls_to("apps.connections.open")] == [APP_TOKEN, APP_TOKEN]
    mark = double.mark()
    assert socket_bot.admin.command("list").status == 200
    assert double.wait_for(lambda c: c.method == "response_url", after=mark).args["text"] == "0 syncs"


def test_connections_open_wants_an_app_token_and_its_url_is_good_once() -> None:
    with SlackDouble() as double:
        with pytest.raises(SlackApiError) as refused:
            WebClient(token=TOKEN, base_url=double.api_url).apps_connections_open(app_token=TOKEN)
        assert refused.value.response["error"] == "not_allowed_token_type"
        with pytest.raises(SlackApiError) as refused:
            WebClient(token=APP_TOKEN, base_url=double.api_url).chat_postMessage(channel=CHANNEL, text="hi")
        assert refused.value.response["error"] == "not_allowed_token_type"

        url = WebClient(base_url=double.api_url).apps_connections_open(app_token=APP_TOKEN)["url"]
        with connect(url) as websocket:
            hello = json.loads(websocket.recv(timeout=5))
            assert hello["type"] == "hello" and hello["connection_info"]["app_id"] == "A0CSYNC01"
            with pytest.raises(InvalidStatus):
                connect(url)


def test_a_malformed_envelope_is_acknowledged_unanswered_in_one_info_line(
        google: Google, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Socket Mode's door (`bot.socket_guard`), in this process: envelopes whose payload Bolt or a listener
    would fail on are acknowledged without an answer (Slack does not resend them) and logged in one INFO line
    each, never an ERROR; a good envelope after them is served."""
    caplog.set_level(logging.INFO)
    with SlackDouble() as double:
        runtime = make_runtime(google, f"sqlite:///{tmp_path / 'socket.db'}")
        settings = load_bot_settings(SLACK_BOT_TOKEN=TOKEN, SLACK_SIGNING_SECRET=SECRET, SLACK_APP_TOKEN=APP_TOKEN,
                                     SLACK_API_URL=double.api_url, CONTACTSYNC_ADMINS=ADMIN)
        app = build_app(runtime, bot_settings=settings, start_cache=False)
        handler = GuardedSocketModeHandler(app, APP_TOKEN)
        try:
            handler.connect()
            double.socket_mode.wait_connected()
            admin = SocketModeUser(double, user_id=ADMIN)
            command = admin.command_fields("help")
            malformed = [
                ("events_api", {"type": "event_callback", "event": []}, "event is not an object"),
                ("slash_commands", {k: v for k, v in command.items() if k != "response_url"},
                 "slash command without response_url"),
                ("slash_commands", {k: v for k, v in command.items() if k != "user_id"},
                 "slash command without user_id"),
                ("interactive", {"type": "block_actions", "user": {"id": ADMIN}, "actions": [{"value": "x"}]},
                 "block_actions with an action that has no action_id"),
            ]
            caplog.clear()  # what start-up logged (migrations, the connection)
            for kind, payload, _reason in malformed:
                assert double.socket_mode.deliver(kind, payload).payload is None
            time.sleep(0.3)  # anything Bolt would have started in its threads
            assert errors(caplog.records) == []
            # (the socket client's own lines about its connection, which may come late, are left out)
            logged = [(r.name, r.levelname, r.getMessage()) for r in caplog.records
                      if r.levelno >= logging.INFO and r.name.startswith("bot.")]
            assert logged == [("bot.socket_guard", "INFO",
                               f"rejected a Socket Mode {kind} envelope: not a Slack payload ({reason})")
                              for kind, _payload, reason in malformed]
            mark = double.mark()
            assert double.socket_mode.deliver("slash_commands", command).payload is None
            assert double.wait_for(lambda c: c.method == "response_url", after=mark).args["text"] == "ContactSync usage"
        finally:
            handler.close()
            context_of(app).shutdown()
