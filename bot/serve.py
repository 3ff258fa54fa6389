"""`serve`: the Slack bot in Socket Mode (SLACK_APP_TOKEN set) or over HTTP at /slack/events (waitress).

SIGTERM and SIGINT stop it gracefully: no new requests, the runs in flight finish, then it exits.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from waitress.server import create_server

from sync_core.runtime import Runtime

from .app import build_app, context_of

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"


def wsgi_app(app: App) -> SlackRequestHandler:
    """Commands, interactivity and options all arrive at EVENTS_PATH."""
    return SlackRequestHandler(app, path=EVENTS_PATH)


@contextmanager
def http_server(app: App, *, host: str = "0.0.0.0", port: int = 3000, threads: int = 8) -> Iterator[str]:
    """Serve `app` over HTTP on a background thread; yields the events URL. Stops on exit."""
    server = create_server(wsgi_app(app), host=host, port=port, threads=threads, ident="contactsync")
    bound = server.effective_port  # type: ignore[union-attr]
    stop = threading.Event()

    def loop() -> None:
        # waitress's own run() loops forever; this loop checks `stop` between polls, then closes the
        # sockets on its own thread (closing them from another thread races the poll).
        while not stop.is_set():
            server.asyncore.loop(timeout=0.2, map=server._map, use_poll=True, count=1)  # type: ignore[union-attr]
        server.task_dispatcher.shutdown()  # lets requests in flight finish
        server.close()

    thread = threading.Thread(target=loop, name="contactsync-http", daemon=True)
    thread.start()
    try:
        yield f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{bound}{EVENTS_PATH}"
    finally:
        stop.set()
        thread.join(timeout=10)


def _wait_for_signal() -> None:
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s; shutting down", signal.Signals(signum).name)
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, on_signal)
    stop.wait()


def serve(runtime: Runtime, *, port: int | None = None, host: str = "0.0.0.0") -> None:
    """Run the bot until SIGTERM/SIGINT. Raises `SettingsError` (one line) if Slack settings are missing."""
    app = build_app(runtime)
    ctx = context_of(app)
    app_token = runtime.settings.slack_app_token
    try:
        if app_token is not None:
            from slack_bolt.adapter.socket_mode import SocketModeHandler

            handler = SocketModeHandler(app, app_token.get_secret_value())
            handler.connect()
            log.info("ContactSync is connected to Slack (Socket Mode)")
            _wait_for_signal()
            handler.close()
        else:
            with http_server(app, host=host, port=port or runtime.settings.port) as url:
                log.info("ContactSync listens at %s", url)
                _wait_for_signal()
    finally:
        ctx.shutdown()
