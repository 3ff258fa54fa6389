"""The errors the service's callers handle, in one place: the CLI and the bot catch these and never reach
into `sync_core.google`, `sync_core.store` or the engine for an exception type."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sync_core.domain.errors import JobInputError, JobNotFound
from sync_core.google.auth import CredentialsFileError
from sync_core.google.errors import GoogleError
from sync_core.run.engine import JobBusy
from sync_core.settings import SettingsError
from sync_core.store import StoreError

if TYPE_CHECKING:
    from sync_core.service.edit_preview import EditPreview

__all__ = [
    "ContactsChoiceNeeded",
    "CredentialsFileError",
    "GoogleError",
    "JobBusy",
    "JobInputError",
    "JobNotFound",
    "NoTargets",
    "RemovalNotConfirmed",
    "SettingsError",
    "StoreError",
]


class ContactsChoiceNeeded(JobInputError):
    """A delete of a job that has written to some accounts must say what becomes of its contacts: left alone,
    they would keep its tags with no job to manage them (a later sync on that label would meet "another
    sync's" label at those accounts). A surface may word it its own way (the CLI names its two flags)."""

    def __init__(self, name: str, accounts: int) -> None:
        super().__init__(
            "contacts",
            f"sync {name!r} has written contacts at {accounts} account{'s' if accounts != 1 else ''}: "
            "say whether the delete removes them or keeps them as the users' own",
        )
        self.name = name
        self.accounts = accounts


class NoTargets(JobInputError):
    """The targets reach no one (`selectors`, as typed): refused at create and edit unless allowed."""

    def __init__(self, selectors: Sequence[str], message: str, *, target_kind: str | None = None) -> None:
        super().__init__("targets", message, target_kind=target_kind)
        self.selectors = list(selectors)


class RemovalNotConfirmed(Exception):
    """An edit that deletes contacts (`preview` says which, where) was not confirmed: nothing was saved."""

    def __init__(self, preview: EditPreview) -> None:
        super().__init__(preview.headline())
        self.preview = preview
