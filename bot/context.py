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


@dataclass
class BotContext:
    runtime: Runtime
    client: WebClient
    admins: AdminCheck
    cache: DirectoryCache
    notifier: SlackNotifier
    pool: ThreadPoolExecutor
    drafts: DraftStore = field(default_factory=DraftStore)

    def shutdown(self) -> None:
        self.cache.stop()
        self.pool.shutdown(wait=True, cancel_futures=False)
