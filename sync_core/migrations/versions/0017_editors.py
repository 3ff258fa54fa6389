"""editors of a shared label: editor_selector, sync_job.editors_can_delete

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07

- editor_selector: who may edit a personal job's label (selectors of the targets' kinds, resolved every run).
- sync_job.editors_can_delete: an editor's deletion deletes the contact everywhere (else it is put back).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN (no table rebuild on SQLite, so the expression index of 0008 stays as it is).
    op.add_column(
        "sync_job", sa.Column("editors_can_delete", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.create_table(
        "editor_selector",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), sa.ForeignKey("sync_job.id", ondelete="CASCADE",
                                                        name="fk_editor_selector_job_id_sync_job"), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("value", sa.String(), nullable=False),
        sa.Column("resolved_user_id", sa.String(), nullable=True),
        sa.Column("resolved_email", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_editor_selector"),
        sa.UniqueConstraint("job_id", "kind", "value", name="uq_editor_selector_job_id_kind_value"),
    )


NAME_INDEX = "uq_sync_job_name_lower"


def downgrade() -> None:
    op.drop_table("editor_selector")
    # Dropping a column rebuilds the table on SQLite, which would not carry the expression index (see 0011).
    op.drop_index(NAME_INDEX, table_name="sync_job")
    with op.batch_alter_table("sync_job") as batch:
        batch.drop_column("editors_can_delete")
    op.create_index(NAME_INDEX, "sync_job", [sa.text("lower(name)")], unique=True)
