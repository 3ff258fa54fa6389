"""Wiring: settings -> database (migrated) -> Google clients -> engine and source watch. Used by the CLI and the
bot."""

from __future__ import annotations

import gc
from dataclasses import dataclass
from functools import cached_property

from sqlalchemy import Engine as DbEngine

from sync_core import store
from sync_core.alerting.notify import Notifier
from sync_core.google import cooperative
from sync_core.google.auth import GoogleAuth
from sync_core.google.directory import DirectoryClient
from sync_core.google.factory import GoogleClients, load_credentials
from sync_core.google.people import PeopleClient
from sync_core.leases.processes import lease_holder
from sync_core.observability.metrics import Metrics
from sync_core.run.engine import SyncEngine
from sync_core.scheduling.watch import SourceWatcher
from sync_core.settings import Settings

# A sync makes millions of short-lived dicts and tuples (Google's answers, bodies, plans) that never form
# reference cycles: reference counting frees them. At CPython's default (a collection every 700 net
# allocations) the cycle collector kept walking the source and every live plan, and took a third of a
# sync's CPU (measured: 65 -> 47 us per contact written, and the run after a first sync 0.70 -> 0.28 s).
GC_THRESHOLDS = (50_000, 50, 100)


def tune_garbage_collector() -> None:
    """Collect cycles far less often (process-wide, once: whoever runs syncs)."""
    if gc.get_threshold()[0] < GC_THRESHOLDS[0]:
        gc.set_threshold(*GC_THRESHOLDS)


@dataclass
class Runtime:
    settings: Settings
    notifier: Notifier | None = None

    @cached_property
    def metrics(self) -> Metrics:
        """This process's metrics (its own registry: never prometheus_client's global one)."""
        return Metrics()

    @cached_property
    def db(self) -> DbEngine:
        return store.open_database(self.settings.database_url)

    @cached_property
    def google(self) -> GoogleAuth:
        """The service account (its key file read once)."""
        self.settings.require_google()  # a partial Google configuration is one line naming what is missing
        return load_credentials(self.settings)

    @cached_property
    def clients(self) -> GoogleClients:
        """Every Google client of this process: the engine's, the source watch's and the service's checks'."""
        return GoogleClients.from_settings(self.settings, self.db, auth=self.google, metrics=self.metrics)

    @cached_property
    def holder(self) -> str:
        """This process's name on the job leases it takes (its runs', and its source watch's)."""
        return lease_holder()

    @cached_property
    def engine(self) -> SyncEngine:
        """Built once a process, when it first runs syncs (or at `serve`'s start): the process is then made
        ready for them (its collector tuned, the cooperative transport loaded)."""
        tune_garbage_collector()
        cooperative.prepare()
        return SyncEngine(db=self.db, clients=self.clients, settings=self.settings, notifier=self.notifier,
                          holder=self.holder, metrics=self.metrics)

    def watcher(self, *, every_seconds: float | None = None) -> SourceWatcher:
        """The source watch over this process's clients (see sync_core.scheduling.watch)."""
        return SourceWatcher(self.clients, self.db, holder=self.holder,
                             max_contacts=self.settings.max_contacts_per_account, every_seconds=every_seconds)

    def directory(self) -> DirectoryClient:
        return self.clients.directory()

    def people(self, subject: str) -> PeopleClient:
        return self.clients.people(subject)
