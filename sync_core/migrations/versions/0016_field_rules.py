"""a job's field rules and adopted contacts: sync_job.copy_fields, keep_target_fields, match_existing;
contact_link.adopted

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07

- sync_job.copy_fields (JSON list of People field names; NULL: the default set) and keep_target_fields (JSON
  list, the copied fields a target owns once filled).
- sync_job.match_existing (NULL or "email"): adopt a target's own contact holding a source contact's email.
- contact_link.adopted: the linked contact was the target's own before we adopted it; removing it releases it
  (our tag and the label go), never deletes it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMNs (no table rebuild on SQLite, so the expression index of 0008 stays as it is).
    op.add_column("sync_job", sa.Column("copy_fields", sa.JSON(), nullable=True))
    op.add_column("sync_job", sa.Column("keep_target_fields", sa.JSON(), nullable=False, server_default="[]"))
    op.add_column("sync_job", sa.Column("match_existing", sa.String(length=16), nullable=True))
    op.add_column("contact_link", sa.Column("adopted", sa.Boolean(), nullable=False, server_default=sa.false()))


NAME_INDEX = "uq_sync_job_name_lower"


def downgrade() -> None:
    with op.batch_alter_table("contact_link") as batch:
        batch.drop_column("adopted")
    # Dropping columns rebuilds the table on SQLite, which would not carry the expression index (see 0011).
    op.drop_index(NAME_INDEX, table_name="sync_job")
    with op.batch_alter_table("sync_job") as batch:
        batch.drop_column("match_existing")
        batch.drop_column("keep_target_fields")
        batch.drop_column("copy_fields")
    op.create_index(NAME_INDEX, "sync_job", [sa.text("lower(name)")], unique=True)
