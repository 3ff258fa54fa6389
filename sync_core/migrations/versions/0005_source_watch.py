"""source watch: sync_job.source_changed_at and source_change_reached_at

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03

`serve` watches each Personal sync's source with one incremental read a minute and runs the job at once
when it changed. These two columns say when the source last changed and when a run had that change at
every target (shown by `jobs show`, the App Home and /metrics).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sync_job") as batch:
        batch.add_column(sa.Column("source_changed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("source_change_reached_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sync_job") as batch:
        batch.drop_column("source_change_reached_at")
        batch.drop_column("source_changed_at")
