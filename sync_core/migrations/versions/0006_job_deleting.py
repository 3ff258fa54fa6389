"""sync_job.deleting

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03

- sync_job.deleting: a delete asked to remove the synced contacts and some accounts could not be cleaned.
  The job stays (paused) so that deleting it again retries the removal; no run runs it meanwhile.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sync_job") as batch:
        batch.add_column(sa.Column("deleting", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("sync_job") as batch:
        batch.drop_column("deleting")
