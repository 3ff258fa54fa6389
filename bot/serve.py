"""`serve`: the Slack bot in Socket Mode (SLACK_APP_TOKEN set) or over HTTP at /slack/events (waitress), with
the scheduler running every enabled job on its schedule. /healthz, /readyz and /metrics are served on PORT
too: beside /slack/events over HTTP; in Socket Mode by a small server of their own, when PORT (or --port)
is set.

SIGTERM and SIGINT stop it gracefully: no new requests; the scheduler stops scheduling, drops queued runs
and lets the runs in flight finish their current targets (up to CONTACTSYNC_SCHEDULER_SHUTDOWN_TIMEOUT_SECONDS);
then it exits. A second signal exits at once.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from types import FrameType
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from slack_bolt import App
from slack_sdk.errors import SlackApiError
from waitress.server import create_server

from sync_core.runtime import Runtime
from sync_core.scheduling.scheduler import SyncScheduler, build_scheduler
from sync_core.service import JobService
from sync_core.settings import SettingsError

from .app import build_app, context_of
from .health import Readiness, database_check, slack_check
from .http_guard import MAX_BODY_BYTES, SlackGuard
from .ops_http import OpsRoutes
from .settings import BotSettings, load_bot_settings
from .slack_check import check_slack

if TYPE_CHECKING:
    from wsgiref.types import WSGIApplication

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"


def wsgi_app(app: App) -> SlackGuard:
    """Commands, interactivity and options all arrive at EVENTS_PATH, screened (size, encoding, signature,
    shape) before Bolt parses them; anything else gets a 4xx."""
    return SlackGuard(app, signing_secret=context_of(app).signing_secret, path=EVENTS_PATH)


def ops_routes(service: JobService, scheduler: SyncScheduler, settings: BotSettings,
               fallback: WSGIApplication | None = None) -> OpsRoutes:
    """/healthz, /readyz (database, scheduler, Slack) and /metrics; other paths to `fallback`."""
    readiness = Readiness({
        "database": database_check(service.database_problem),
        "scheduler": lambda: None if scheduler.running else "the scheduler is not running",
        "slack": slack_check(settings),
    })
    return OpsRoutes(readiness, service.metrics_text, fallback)


@contextmanager
def http_server(app: App, *, host: str = "0.0.0.0", port: int = 3000, threads: int = 8,
                ops: OpsRoutes | None = None) -> Iterator[str]:
    """Serve `app` over HTTP on a background thread (behind `ops`'s paths, if given); yields the events URL.
    Stops on exit."""
    front: WSGIApplication = wsgi_app(app) if ops is None else ops
    with wsgi_server(front, host=host, port=port, threads=threads) as base:
        yield base + EVENTS_PATH


def ops_server(ops: OpsRoutes, *, host: str, port: int) -> AbstractContextManager[str]:
    """Socket Mode's HTTP server: the operations paths only (`ops` without a fallback)."""
    return wsgi_server(ops, host=host, port=port, threads=2)


@contextmanager
def wsgi_server(wsgi: WSGIApplication, *, host: str, port: int, threads: int) -> Iterator[str]:
    """Serve `wsgi` with waitress on a background thread; yields its base URL. Stops on exit."""
    # waitress refuses a larger body itself (413) before reading it; the guard checks again.
    try:
        server = create_server(wsgi, host=host, port=port, threads=threads, ident="contactsync",
                               max_request_body_size=MAX_BODY_BYTES + 1)  # waitress refuses at >=
    except OSError as exc:  # the port is taken, or the address is not this host's
        raise SettingsError(f"CONTACTSYNC_HOST, PORT: cannot listen on {host}:{port} ({exc.strerror or exc})") from None
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
        yield f"http://{local_host(host)}:{bound}"
    finally:
        stop.set()
        thread.join(timeout=10)


def _wait_for_signal() -> None:
    """Block until SIGTERM/SIGINT; a second one (while shutting down) exits at once."""
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if stop.is_set():
            log.warning("received %s again; exiting without waiting for runs in flight", name)
            raise SystemExit(128 + signum)
        log.info("received %s; shutting down", name)
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, on_signal)
    stop.wait()


EVERY_INTERFACE = ("0.0.0.0", "::", "")


def local_host(host: str) -> str:
    """The address a client on this host reaches a server bound to `host` at, as a URL writes it."""
    if host in EVERY_INTERFACE:
        return "[::1]" if host == "::" else "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def bound_address(host: str, url: str) -> str:
    """Where the server really listens: every interface when bound to 0.0.0.0 or :: (its URL says the
    loopback address a local client uses), else that address."""
    port = urlsplit(url).port
    shown = f"[{host}]" if ":" in host else host
    if host in EVERY_INTERFACE:
        return f"{shown or '0.0.0.0'}:{port} (every interface)"
    return f"{shown}:{port}"


def serve(runtime: Runtime, *, port: int | None = None, host: str | None = None) -> None:
    """Run the bot and the scheduler until SIGTERM/SIGINT, listening on `host` (else CONTACTSYNC_HOST) and
    `port` (else PORT). Raises `SettingsError` (one line) if a Slack or scheduler setting is missing or
    malformed, when the address cannot be bound, or when Slack is unreachable or refuses the bot token (or
    the app token, in Socket Mode)."""
    bot_settings = load_bot_settings()
    host = host if host is not None else bot_settings.host
    check_slack(bot_settings)
    scheduler = build_scheduler(runtime)
    app = build_app(runtime, scheduler=scheduler, bot_settings=bot_settings)
    ctx = context_of(app)
    app_token = bot_settings.slack_app_token
    try:
        scheduler.start()
        if app_token is not None:
            from .socket_guard import GuardedSocketModeHandler  # only in Socket Mode

            handler = GuardedSocketModeHandler(app, app_token.get_secret_value())
            try:
                handler.connect()
            except SlackApiError as exc:  # apps.connections.open refused the app-level token
                reason = exc.response.get("error", "refused") if exc.response is not None else "refused"
                raise SettingsError(
                    f"SLACK_APP_TOKEN: Slack refused it ({reason}); check the app-level token"
                ) from None
            log.info("ContactSync is connected to Slack (Socket Mode)")
            # No inbound port is needed in Socket Mode: the operations paths are served only where asked.
            ops_port = port or (bot_settings.port if "port" in bot_settings.model_fields_set else None)
            with (ops_server(ops_routes(ctx.service, scheduler, bot_settings), host=host, port=ops_port)
                  if ops_port else nullcontext("")) as base:
                if base:
                    log.info("ContactSync serves /healthz, /readyz and /metrics on %s", bound_address(host, base))
                _wait_for_signal()
            handler.close()
        else:
            ops = ops_routes(ctx.service, scheduler, bot_settings, fallback=wsgi_app(app))
            with http_server(app, host=host, port=port or bot_settings.port, ops=ops) as url:
                log.info("ContactSync listens on %s; Slack's requests go to %s", bound_address(host, url), EVENTS_PATH)
                _wait_for_signal()
    finally:
        # The HTTP server has stopped taking requests; now the runs, then the bot's own threads.
        scheduler.shutdown()
        ctx.shutdown()
