"""The database schema, for `contactsync db upgrade` (start-up migrates by itself)."""

from __future__ import annotations

from sync_core import store
from sync_core.store import SchemaChange


def upgrade_database(url: str) -> SchemaChange:
    """Apply every migration not yet applied to the database at `url`; the revisions before and after."""
    return store.upgrade(url)
