"""merge base versions: merge_base_version

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07

While one editor's account keeps failing, the job's merge base stays where it was, and what the other editors
received since differs from it. Each version we write while the base is behind is kept by the hash our links
name it by, so an editor's changes are told against what they received (`sync_core.sync.merge`); the rows go
once the base moves on.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "merge_base_version",
        sa.Column("job_id", sa.Integer(), sa.ForeignKey("sync_job.id", ondelete="CASCADE"), nullable=False),
        sa.Column("source_key", sa.String(), nullable=False),
        sa.Column("content_hash", sa.String(), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("job_id", "source_key", "content_hash", name="pk_merge_base_version"),
    )


def downgrade() -> None:
    op.drop_table("merge_base_version")
