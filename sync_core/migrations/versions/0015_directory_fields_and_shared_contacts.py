"""a Directory Sync's field mapping and the domain's shared contacts: sync_job.directory_fields,
sync_job.include_shared_contacts

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07

- sync_job.directory_fields: `SOURCE=TARGET` rules (JSON list) that put more of the directory on the card
  (custom schema fields, external ids, desks, cost centers); empty for every existing job.
- sync_job.include_shared_contacts: the domain's shared contacts join the users as source contacts; their
  sync token is kept in sync_job.source_sync_token (a Directory Sync had none).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME_INDEX = "uq_sync_job_name_lower"


def upgrade() -> None:
    # Plain ADD COLUMNs (no table rebuild on SQLite, so the expression index of 0008 stays as it is).
    op.add_column("sync_job", sa.Column("directory_fields", sa.JSON(), nullable=False, server_default="[]"))
    op.add_column(
        "sync_job", sa.Column("include_shared_contacts", sa.Boolean(), nullable=False, server_default=sa.false())
    )


def downgrade() -> None:
    # Dropping columns rebuilds the table on SQLite, which would not carry the expression index (see 0011).
    op.drop_index(NAME_INDEX, table_name="sync_job")
    with op.batch_alter_table("sync_job") as batch:
        batch.drop_column("include_shared_contacts")
        batch.drop_column("directory_fields")
    op.create_index(NAME_INDEX, "sync_job", [sa.text("lower(name)")], unique=True)
