"""The store's errors: callers catch `StoreError` for every database failure they can explain."""

from __future__ import annotations


class StoreError(Exception):
    """Base class for store errors."""


class StoreConfigError(StoreError):
    """DATABASE_URL is malformed, unsupported, or the database cannot be reached."""


class DuplicateJobName(StoreError):
    def __init__(self, name: str) -> None:
        super().__init__(f"a sync job named {name!r} already exists; choose another name")
        self.name = name


class DatabaseUnavailable(StoreError):
    """The database went away (a restart, a lost connection, a full disk): nothing was decided wrongly,
    the work is to be done again once it is back."""
