"""directory options and contact photos

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25

- sync_job.include_aliases: a Directory Sync can also copy each user's alias addresses.
- contact_link.photo: the fingerprint of the source photo last written, so a photo is sent again
  only when it changed; source_contact.photo: the source's current photo fingerprint.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sync_job") as batch:
        batch.add_column(sa.Column("include_aliases", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("contact_link") as batch:
        batch.add_column(sa.Column("photo", sa.String(), nullable=True))
    with op.batch_alter_table("source_contact") as batch:
        batch.add_column(sa.Column("photo", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("source_contact") as batch:
        batch.drop_column("photo")
    with op.batch_alter_table("contact_link") as batch:
        batch.drop_column("photo")
    with op.batch_alter_table("sync_job") as batch:
        batch.drop_column("include_aliases")
