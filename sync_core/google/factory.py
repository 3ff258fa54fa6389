"""`GoogleClients`: the one place ContactSync gets its Google clients from.

A run, the source watch and the service's checks (creating, editing, fixing a sync; the form's pickers) all
act through the same service account, impersonate users the same way and share one quota pacer, so they get
their clients here instead of each building (or borrowing) a sync engine for them:

- the credentials: the service-account key file (`GOOGLE_APPLICATION_CREDENTIALS`), read once;
- domain-wide delegation: a Directory client acts as the admin (`CONTACTSYNC_ADMIN_EMAIL`), a People client as
  the user whose contacts it reads or writes;
- the quota pacer, one per process (and the project's budget in the database, when one is set): two jobs, or a
  run and a watch, acting as one user share that user's quota;
- the endpoint (`CONTACTSYNC_GOOGLE_API_ENDPOINT`) and the retry policy of every call.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine as DbEngine

from sync_core.google.auth import GoogleAuth
from sync_core.google.calls import CallCounter, Executor
from sync_core.google.cooperative import cooperative_sleep
from sync_core.google.directory import DirectoryClient
from sync_core.google.domain_contacts import DomainContactsClient
from sync_core.google.errors import GoogleError
from sync_core.google.pacer import Pacer
from sync_core.google.people import PeopleApi, PeopleClient
from sync_core.google.quota_store import DatabaseProjectBudget
from sync_core.observability.metrics import Metrics
from sync_core.settings import (
    GOOGLE_SCOPES_DIRECTORY,
    GOOGLE_SCOPES_DOMAIN_CONTACTS,
    GOOGLE_SCOPES_PEOPLE,
    Settings,
    SettingsError,
)


def load_credentials(settings: Settings) -> GoogleAuth:
    """The service account behind every client (its key file read now: `CredentialsFileError` when it is not a
    service-account key), pointed at the configured endpoint."""
    path = settings.google_application_credentials
    if path is None:
        raise SettingsError(
            "GOOGLE_APPLICATION_CREDENTIALS: not set (the service-account key file with domain-wide delegation)"
        )
    return GoogleAuth(path, settings.google_api_endpoint)


def quota_pacer(
    settings: Settings,
    db: DbEngine,
    *,
    metrics: Metrics | None = None,
    sleep: Callable[[float], None] = cooperative_sleep,
) -> Pacer:
    """The process's pacer: Google's per-user quotas from the settings, and the project's budget (shared by
    every process through the database) when `CONTACTSYNC_PROJECT_QUOTAS` sets one."""
    project = settings.project_quota_limits
    return Pacer(
        settings.quota_limits(),
        max_wait=settings.quota_max_wait_seconds,
        sleep=sleep,
        project=DatabaseProjectBudget(db, project, window_seconds=settings.quota_window_seconds) if project else None,
        metrics=metrics,
    )


class GoogleClients:
    """Hands out Directory and People clients, each acting as the right user and paced by the shared pacer."""

    def __init__(
        self,
        auth: GoogleAuth,
        settings: Settings,
        pacer: Pacer,
        *,
        metrics: Metrics | None = None,
        sleep: Callable[[float], None] = cooperative_sleep,
    ) -> None:
        self.auth = auth
        self.settings = settings
        self.pacer = pacer
        self.metrics = metrics
        self.sleep = sleep
        self._api_lock = threading.Lock()
        self._people_api: PeopleApi | None = None

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        db: DbEngine,
        *,
        auth: GoogleAuth | None = None,
        metrics: Metrics | None = None,
        sleep: Callable[[float], None] = cooperative_sleep,
    ) -> GoogleClients:
        """The process's clients: `auth` (else the credentials the settings name) and a new pacer."""
        return cls(
            auth or load_credentials(settings),
            settings,
            quota_pacer(settings, db, metrics=metrics, sleep=sleep),
            metrics=metrics,
            sleep=sleep,
        )

    def _executor(self, counter: CallCounter, *, paced_user: str | None = None, http: Any = None) -> Executor:
        return Executor(
            counter,
            attempts=self.settings.retry_attempts,
            max_wait=self.settings.retry_max_wait_seconds,
            sleep=self.sleep,
            pacer=self.pacer.for_user(paced_user) if paced_user else None,
            http=http,
            metrics=self.metrics,
        )

    def _admin(self) -> str:
        admin = self.settings.admin_email
        if not admin:
            raise GoogleError("CONTACTSYNC_ADMIN_EMAIL is not set: directory look-ups need an admin to impersonate")
        return admin

    def directory(self, counter: CallCounter | None = None) -> DirectoryClient:
        """A Directory client acting as the admin (Directory calls are not paced: their quota is the project's)."""
        admin = self._admin()
        service = self.auth.build("admin", "directory_v1", subject=admin, scopes=GOOGLE_SCOPES_DIRECTORY)
        return DirectoryClient(service, self._executor(counter or CallCounter()))

    def people(self, subject: str, counter: CallCounter | None = None) -> PeopleClient:
        """A People client acting as `subject`, paced by that user's quota (a new wait budget each time)."""
        with self._api_lock:
            if self._people_api is None:
                self._people_api = PeopleApi.of(self.auth.shared("people", "v1"))
        http = self.auth.http(subject, GOOGLE_SCOPES_PEOPLE)
        return PeopleClient(self._people_api, self._executor(counter or CallCounter(), paced_user=subject, http=http))

    def domain_contacts(self, counter: CallCounter | None = None) -> DomainContactsClient:
        """The domain's shared contacts (people.listDirectoryPeople), read as the admin with the directory.readonly
        scope, paced by the admin's People quota."""
        admin = self._admin()
        with self._api_lock:
            if self._people_api is None:
                self._people_api = PeopleApi.of(self.auth.shared("people", "v1"))
        http = self.auth.http(admin, GOOGLE_SCOPES_DOMAIN_CONTACTS)
        return DomainContactsClient(
            self._people_api.people, self._executor(counter or CallCounter(), paced_user=admin, http=http)
        )

    def fetch(self, url: str) -> bytes | None:
        """GET a URL Google gave us (a contact photo), sending no credentials (see `GoogleAuth.fetch`)."""
        return self.auth.fetch(url)
