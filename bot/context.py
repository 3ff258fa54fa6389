"""What every listener needs, built once by `build_app`."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from slack_sdk import WebClient

from sync_core.directory_cache import DirectoryCache
from sync_core.runtime import Runtime

from .auth import AdminCheck
from .drafts import DraftStore
from .notifier import SlackNotifier
from .runs import Runs


@dataclass
class BotContext:
    runtime: Runtime
    client: WebClient
    admins: AdminCheck
    cache: DirectoryCache
    notifier: SlackNotifier
    pool: ThreadPoolExecutor
    runs: Runs  # the scheduler under `serve`; else a runner on `pool`
    drafts: DraftStore = field(default_factory=DraftStore)

    def shutdown(self) -> None:
        """Stop the bot's own threads. The scheduler (if any) is shut down by whoever started it."""
        self.cache.stop()
        self.pool.shutdown(wait=True, cancel_futures=False)
