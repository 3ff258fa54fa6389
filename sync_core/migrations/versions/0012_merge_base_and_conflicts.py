"""editors: merge_base, merge_conflict

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07

- merge_base: per job and source contact, the canonical synced fields the source and every copy last agreed
  on (JSON, with its hash): the base of the three-way merge of editors' changes. Once per job, not per target.
- merge_conflict: a field two sides changed to different values, the value kept and every value lost with who
  set it, open until an admin resolves it. Both go with their job (ON DELETE CASCADE).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ENUM = sa.String(length=32)


def upgrade() -> None:
    op.create_table(
        "merge_base",
        sa.Column("job_id", sa.Integer(), sa.ForeignKey("sync_job.id", ondelete="CASCADE"), nullable=False),
        sa.Column("source_key", sa.String(), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("content_hash", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("job_id", "source_key", name="pk_merge_base"),
    )
    op.create_table(
        "merge_conflict",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), sa.ForeignKey("sync_job.id", ondelete="CASCADE"), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("found_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("contact_key", sa.String(), nullable=False),
        sa.Column("contact_field", sa.String(), nullable=False),
        sa.Column("why", sa.String(), nullable=False),
        sa.Column("winner", sa.JSON(), nullable=False),
        sa.Column("losers", sa.JSON(), nullable=False),
        sa.Column("identity", sa.String(length=64), nullable=False),
        sa.Column("state", ENUM, nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(), nullable=True),
        sa.Column("resolution", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_merge_conflict"),
    )
    op.create_index("ix_merge_conflict_job_id_state", "merge_conflict", ["job_id", "state"])


def downgrade() -> None:
    op.drop_index("ix_merge_conflict_job_id_state", table_name="merge_conflict")
    op.drop_table("merge_conflict")
    op.drop_table("merge_base")
