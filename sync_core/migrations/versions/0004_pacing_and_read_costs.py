"""quota pacing and read costs: target_state.source_version and echo_digest; quota_usage

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02

- target_state.source_version: the digest of the source (and the job's target-side settings) a target
  last finished a sync with. A target whose incremental read shows nothing of ours changed, and whose
  source_version is the run's, is already in sync: the run neither loads its links nor plans it.
- target_state.echo_digest: a digest of the (resourceName, etag) of every contact the last run wrote to the
  target. The next incremental read reports exactly those (Google lists our own writes back): when it
  reports nothing else, the target is in sync without reading its links either.
- quota_usage: units of a per-project Google quota spent per metric and per window, shared by every process
  of a deployment (only used when CONTACTSYNC_PROJECT_QUOTAS sets a budget).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "quota_usage",
        sa.Column("metric", sa.String(length=32), nullable=False),
        sa.Column("window_start", sa.BigInteger(), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("metric", "window_start"),
    )
    with op.batch_alter_table("target_state") as batch:
        batch.add_column(sa.Column("source_version", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("echo_digest", sa.String(length=64), nullable=True))


def downgrade() -> None:
    op.drop_table("quota_usage")
    with op.batch_alter_table("target_state") as batch:
        batch.drop_column("echo_digest")
        batch.drop_column("source_version")
