"""What every listener needs, built once by `build_app` and handed to each listener through Bolt's context
(`provide_context` puts it there; a listener takes Bolt's `context` and calls `bot_context(context)`)."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from re import Pattern
from typing import Any

from slack_bolt import BoltContext
from slack_sdk import WebClient

from sync_core.runtime import Runtime
from sync_core.service import JobService, Runs
from sync_core.service.directory_cache import DirectoryCache

from .auth import AdminCheck
from .drafts import DraftBook
from .members import SlackMembers
from .notifier import SlackNotifier


@dataclass
class BotContext:
    runtime: Runtime
    client: WebClient
    admins: AdminCheck
    cache: DirectoryCache
    notifier: SlackNotifier
    pool: ThreadPoolExecutor
    runs: Runs  # the scheduler under `serve`; else a runner on `pool`
    service: JobService  # every job operation goes through it (its `runs` are the ones above)
    drafts: DraftBook  # the create/edit modals' drafts, in the database (any replica carries them on)
    # Saving a submitted modal asks Google (and, for a Directory Sync, lists the directory): it runs here,
    # and the submission waits for it only `submit_budget_seconds`, well within Slack's 3 seconds.
    submissions: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=4, thread_name_prefix="contactsync-submit")
    )
    submit_budget_seconds: float = 2.0
    signing_secret: str = ""  # what the HTTP door checks every request's signature with (SlackGuard)
    members: SlackMembers | None = None  # who a Slack user is in Google (users.info, then the directory)
    admin_channel: str | None = None  # where requests wait for an admin (CONTACTSYNC_ADMIN_CHANNEL)

    def member_lookup(self) -> SlackMembers:
        if self.members is None:
            self.members = SlackMembers(self.client, self.service,
                                        ttl_seconds=self.runtime.settings.member_cache_seconds)
        return self.members

    def shutdown(self) -> None:
        """Stop the bot's own threads. The scheduler (if any) is shut down by whoever started it."""
        self.cache.stop()
        self.submissions.shutdown(wait=True, cancel_futures=False)
        self.pool.shutdown(wait=True, cancel_futures=False)


CONTEXT_KEY = "contactsync"

# A listener module's registrations: (Bolt's decorator name, what it listens to, the listener).
Listeners = tuple[tuple[str, str | Pattern[str], Callable[..., Any]], ...]


def provide_context(ctx: BotContext) -> Callable[..., None]:
    """A global middleware that hands `ctx` to every listener in Bolt's context."""

    def provide(context: BoltContext, next: Callable[[], None]) -> None:
        context[CONTEXT_KEY] = ctx
        next()

    return provide


def bot_context(context: BoltContext) -> BotContext:
    ctx = context.get(CONTEXT_KEY)
    if not isinstance(ctx, BotContext):
        raise TypeError("no BotContext in Bolt's context: the app was not made by bot.app.build_app")
    return ctx
