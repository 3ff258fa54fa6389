"""The database schema, for `contactsync db upgrade` (start-up migrates by itself)."""

from __future__ import annotations

from .. import store


def upgrade_database(url: str) -> None:
    """Apply every migration not yet applied to the database at `url`."""
    store.upgrade(url)
