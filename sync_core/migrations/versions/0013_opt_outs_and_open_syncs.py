"""targets may leave a sync, anyone may join an open one: sync_job.opt_out, sync_job.joinable, job_opt_out

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07

- sync_job.opt_out ("never" or "allowed"): whether a target may leave the sync themselves (Slack's Leave).
- sync_job.joinable: an open sync; anyone in the Workspace may add themselves as a target (Slack's Join).
- job_opt_out: who left which sync (by Google's immutable id; the address for display), by whom and when.
  No run writes to them however the selectors resolve, and the next run removes what it wrote there.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMNs (no table rebuild on SQLite, so the expression index of 0008 stays as it is).
    op.add_column("sync_job", sa.Column("opt_out", sa.String(length=32), nullable=False, server_default="never"))
    op.add_column("sync_job", sa.Column("joinable", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "job_opt_out",
        sa.Column("job_id", sa.Integer(), sa.ForeignKey("sync_job.id", ondelete="CASCADE",
                                                        name="fk_job_opt_out_job_id_sync_job"), nullable=False),
        sa.Column("user_id", sa.String(), nullable=False),
        sa.Column("email", sa.String(), nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("job_id", "user_id", name="pk_job_opt_out"),
    )


NAME_INDEX = "uq_sync_job_name_lower"


def downgrade() -> None:
    op.drop_table("job_opt_out")
    # Dropping columns rebuilds the table on SQLite, which would not carry the expression index (see 0011).
    op.drop_index(NAME_INDEX, table_name="sync_job")
    with op.batch_alter_table("sync_job") as batch:
        batch.drop_column("joinable")
        batch.drop_column("opt_out")
    op.create_index(NAME_INDEX, "sync_job", [sa.text("lower(name)")], unique=True)
