"""`python -m slack_double` as a developer runs it: it serves the Web API at the SLACK_API_URL it prints, its
`send` delivers a slash command to a running bot (signed over HTTP, or as an envelope once the bot is connected
in Socket Mode) and prints what the bot sent, and SIGTERM stops it."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk import WebClient

from bot.app import build_app, context_of
from bot.serve import http_server
from bot.settings import load_bot_settings
from tests.conftest import Google
from tests.integration.helpers import make_runtime

from .conftest import ADMIN, SECRET, TOKEN
from .test_serve import free_port

ROOT = Path(__file__).parents[2]


@pytest.fixture
def double_process() -> Iterator[tuple[subprocess.Popen[str], str, int]]:
    """The double by hand, told where a bot over HTTP will listen; (process, SLACK_API_URL, the bot's port)."""
    bot_port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "slack_double", "--port", "0", "--signing-secret", SECRET,
         "--bot-url", f"http://127.0.0.1:{bot_port}/slack/events"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        assert process.stdout is not None
        banner = [process.stdout.readline() for _ in range(2)]
        api_url = banner[1].strip().removeprefix("SLACK_API_URL=")
        assert api_url.startswith("http://127.0.0.1:") and api_url.endswith("/api/"), banner
        yield process, api_url, bot_port
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def send(api_url: str, text: str) -> subprocess.CompletedProcess[str]:
    double = api_url.removesuffix("/api/")
    return subprocess.run([sys.executable, "-m", "slack_double", "send", text, "--double", double, "--user", ADMIN,
                           "--wait", "5"], cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_it_serves_the_web_api_it_prints_and_stops_on_sigterm(double_process: tuple[subprocess.Popen[str], str,
                                                                                     int]) -> None:
    process, api_url, _bot_port = double_process
    assert WebClient(token="xoxb-anything", base_url=api_url).auth_test()["ok"]
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10) == 0
    assert process.stdout is not None and "auth.test" in process.stdout.read()


def test_send_reaches_the_bot_over_http_then_over_socket_mode(
        google: Google, tmp_path: Path, double_process: tuple[subprocess.Popen[str], str, int]) -> None:
    _process, api_url, bot_port = double_process
    runtime = make_runtime(google, f"sqlite:///{tmp_path / 'bot.db'}")
    bot_settings = load_bot_settings(SLACK_BOT_TOKEN=TOKEN, SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=api_url,
                                     CONTACTSYNC_ADMINS=ADMIN)
    app = build_app(runtime, bot_settings=bot_settings, start_cache=False)
    try:
        with http_server(app, host="127.0.0.1", port=bot_port):
            over_http = send(api_url, "/contactsync list")
            assert over_http.returncode == 0, over_http.stdout + over_http.stderr
            assert over_http.stdout.startswith("via HTTP") and "No syncs yet" in over_http.stdout

            sockets = SocketModeHandler(app, "xapp-1-anything")
            sockets.connect()
            try:
                over_socket = send(api_url, "/contactsync create")
            finally:
                sockets.close()
        assert over_socket.returncode == 0, over_socket.stdout + over_socket.stderr
        assert over_socket.stdout.startswith("via Socket Mode: acknowledged")
        assert "views.open" in over_socket.stdout and "New sync" in over_socket.stdout
    finally:
        context_of(app).shutdown()

    refused = send(api_url, "/contactsync list")  # the bot is gone: said so, exit 1
    assert refused.returncode == 1 and "the bot did not answer" in refused.stderr
