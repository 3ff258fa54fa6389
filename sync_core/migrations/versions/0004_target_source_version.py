"""target_state.source_version

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02

- target_state.source_version: the digest of the source (and the job's target-side settings) a target
  last finished a sync with. A target whose incremental read shows nothing of ours changed, and whose
  source_version is the run's, is already in sync: the run neither loads its links nor plans it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("target_state") as batch:
        batch.add_column(sa.Column("source_version", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("target_state") as batch:
        batch.drop_column("source_version")
