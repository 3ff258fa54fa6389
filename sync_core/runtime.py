"""Wiring: settings -> database (migrated) -> Google clients -> engine. Used by the CLI and the bot."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from sqlalchemy import Engine as DbEngine

from . import store
from .engine import SyncEngine
from .google.auth import GoogleAuth
from .google.directory import DirectoryClient
from .google.people import PeopleClient
from .notify import Notifier
from .settings import Settings, SettingsError


@dataclass
class Runtime:
    settings: Settings
    notifier: Notifier | None = None

    @cached_property
    def db(self) -> DbEngine:
        return store.open_database(self.settings.database_url)

    @cached_property
    def google(self) -> GoogleAuth:
        path = self.settings.google_application_credentials
        if path is None:
            raise SettingsError(
                "GOOGLE_APPLICATION_CREDENTIALS: not set (the service-account key file with domain-wide delegation)"
            )
        return GoogleAuth(path, self.settings.google_api_endpoint)

    @cached_property
    def engine(self) -> SyncEngine:
        return SyncEngine(db=self.db, google=self.google, settings=self.settings, notifier=self.notifier)

    def directory(self) -> DirectoryClient:
        return self.engine.directory()

    def people(self, subject: str) -> PeopleClient:
        return self.engine.people(subject)
