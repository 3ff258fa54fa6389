"""the source watch, once per interval across replicas: sync_job.watched_at

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03

Every replica's scheduler runs the source watch. The replica that claims a job's watch for this interval
(a conditional UPDATE of `watched_at`) reads its source; the others leave it. So a job costs one People call
a minute however many replicas there are, and two replicas never start runs for the same change.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Not in batch mode: SQLite's batch copy would lose the expression index on lower(name) (0008).
    op.add_column("sync_job", sa.Column("watched_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("sync_job", "watched_at")
