"""source_contact.version: the version of the source a stored contact was made from

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07

A Directory Sync lists every user each run (the Directory API has no sync token for users). With each user's
card, the store keeps the version it was built from (the user's etag with the job's field mapping), so that a
run builds and hashes again only the cards of users who changed (issue 24). Rows stored before have none:
their cards are built once more, as every run did before.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("source_contact", sa.Column("version", sa.String(), nullable=True))  # a plain ADD COLUMN


def downgrade() -> None:
    with op.batch_alter_table("source_contact") as batch:
        batch.drop_column("version")
