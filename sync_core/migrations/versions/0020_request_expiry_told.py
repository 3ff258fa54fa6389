"""request expiry told: change_request.expiry_told_at

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07

A member is told "I'll tell you here either way" when their request is filed; a request that expires undecided
is now told too (its requester by DM, the admins' message updated) by `serve`'s periodic pass. The replica that
claims it (`expiry_told_at`, one conditional UPDATE) tells it. Requests that expired before this revision were
never told and are not told now: they are marked told at their expiry.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("change_request", sa.Column("expiry_told_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE change_request SET expiry_told_at = decided_at WHERE state = 'expired'")


def downgrade() -> None:
    with op.batch_alter_table("change_request") as batch:
        batch.drop_column("expiry_told_at")
