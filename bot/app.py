"""`build_app`: the Bolt app with every listener, the admin gate and the error handler, in one place."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from sync_core.runtime import Runtime
from sync_core.scheduling.scheduler import SyncScheduler
from sync_core.service import JobService, PoolRunner, Runs
from sync_core.service.directory_cache import DirectoryCache
from sync_core.settings import SettingsError

from . import bolt_logs
from .auth import AdminCheck
from .conflict_poster import ConflictPoster
from .context import BotContext, provide_context
from .drafts import DraftBook
from .errors import register_error_handler
from .guard import admin_guard
from .listeners import register_all
from .members import SlackMembers
from .notifier import SlackNotifier
from .requests import RequestPoster
from .services import refresh_homes
from .settings import BotSettings, load_bot_settings

log = logging.getLogger(__name__)


def slack_credentials(settings: BotSettings) -> tuple[str, str]:
    """(bot token, signing secret), or a one-line `SettingsError` naming what is missing."""
    missing = [name for name, value in (("SLACK_BOT_TOKEN", settings.slack_bot_token),
                                        ("SLACK_SIGNING_SECRET", settings.slack_signing_secret)) if value is None]
    if missing:
        raise SettingsError(f"{' and '.join(missing)}: not set (see manifest.yml and the README's Slack section)")
    assert settings.slack_bot_token is not None and settings.slack_signing_secret is not None
    return settings.slack_bot_token.get_secret_value(), settings.slack_signing_secret.get_secret_value()


def configure_client(client: WebClient, settings: BotSettings) -> WebClient:
    """`client` pointed at SLACK_API_URL (if set), retrying a 429 after its Retry-After."""
    if settings.slack_api_url:
        client.base_url = settings.slack_api_url.rstrip("/") + "/"
    # A 429 from Slack (e.g. chat.postMessage's ~1 message/second/channel) waits its Retry-After and retries.
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=2))
    return client


def build_context(runtime: Runtime, client: WebClient, bot_settings: BotSettings,
                  scheduler: SyncScheduler | None = None) -> BotContext:
    cache = DirectoryCache(runtime.directory, refresh_seconds=bot_settings.directory_refresh_seconds)
    admins = AdminCheck(client, bot_settings.admins, usergroup=bot_settings.admin_usergroup,
                        ttl_seconds=bot_settings.admin_cache_seconds)
    pool = ThreadPoolExecutor(max_workers=bot_settings.workers, thread_name_prefix="contactsync-run")
    runs: Runs = scheduler if scheduler is not None else PoolRunner(runtime, pool)
    service = JobService(runtime, runs=runs, cache=cache)
    notifier = SlackNotifier(client, service.alerts, conflicts=ConflictPoster(client, service))
    ctx = BotContext(runtime=runtime, client=client, admins=admins, cache=cache, notifier=notifier, pool=pool,
                     runs=runs, service=service, drafts=DraftBook(service.drafts),
                     submit_budget_seconds=bot_settings.submit_budget_seconds, admin_channel=bot_settings.admin_channel,
                     signing_secret=slack_credentials(bot_settings)[1],
                     members=SlackMembers(client, service, ttl_seconds=runtime.settings.member_cache_seconds))
    notifier.refresh_home = lambda: refresh_homes(ctx)
    if scheduler is not None:  # `serve`: a request that expires undecided is told, as a decision is
        poster = RequestPoster(client, service, bot_settings.admin_channel)
        scheduler.on_reconcile("telling the requests that expired", poster.tell_expired)
    # The engine reports finished runs (from Slack, the CLI's process or a scheduler) to Slack.
    runtime.notifier = notifier
    if "engine" in vars(runtime):  # already built: hand it the notifier too
        runtime.engine.notifier = notifier
    return ctx


def build_app(runtime: Runtime, *, bot_settings: BotSettings | None = None, start_cache: bool = True,
              scheduler: SyncScheduler | None = None) -> App:
    """The Bolt app. `app.contactsync` is its `BotContext` (cache, worker pool...) for `serve` and tests.

    With a `scheduler` (built over the same runtime), "run now" and every job change go through it: one
    bounded pool for every run, never two runs of a job at once, schedules changed as jobs change. Without
    one, runs go to the bot's worker pool (with the same "already running" answer) and nothing is scheduled.
    """
    bot_settings = bot_settings or load_bot_settings()
    token, signing_secret = slack_credentials(bot_settings)
    bolt_logger = logging.getLogger("contactsync.bolt")
    bolt_logs.install(bolt_logger)  # before App(): Bolt copies its filters onto each of its loggers
    app = App(
        signing_secret=signing_secret,
        # Bolt builds its client from the token (then pointed at SLACK_API_URL below). Handed a client of ours,
        # it would also read SLACK_BOT_TOKEN from the environment and warn, at every start, that the token
        # is unused. Its own auth.test at start is left out: it would go to slack.com before the client is
        # pointed elsewhere; `serve` has called auth.test already (check_slack), and Bolt calls it on the
        # first request instead.
        token=token,
        token_verification_enabled=False,
        request_verification_enabled=True,  # behind SlackGuard's check too: a second lock, not the only one
        process_before_response=False,
        logger=bolt_logger,
    )
    ctx = build_context(runtime, configure_client(app.client, bot_settings), bot_settings, scheduler)
    app.use(provide_context(ctx))
    app.use(admin_guard(ctx))
    register_all(app)
    register_error_handler(app)
    if start_cache:
        ctx.cache.start()
    app.contactsync = ctx  # type: ignore[attr-defined]
    return app


def context_of(app: App) -> BotContext:
    ctx = getattr(app, "contactsync", None)
    if not isinstance(ctx, BotContext):
        raise TypeError("not an app made by bot.app.build_app")
    return ctx
