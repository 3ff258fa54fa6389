"""several replicas on one database: drafts, alert post claims, scheduled slot claims

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04

Any number of `serve` processes may share a database. A modal opened on one finishes on another, so its
draft lives in `draft` (an opaque payload, a version for optimistic concurrency, an expiry). Every replica's
scheduler fires each slot: `sync_job.slot_claimed_at` is the conditional UPDATE that lets one of them run
it. An alert is posted by whoever claims it first (`alert.posting_since`).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "draft",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_draft")),
    )
    op.create_index(op.f("ix_draft_expires_at"), "draft", ["expires_at"], unique=False)
    # Not in batch mode: SQLite's batch copy would lose the expression index on lower(name) (0008).
    op.add_column("sync_job", sa.Column("slot_claimed_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("alert") as batch:
        batch.add_column(sa.Column("posting_since", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("alert") as batch:
        batch.drop_column("posting_since")
    op.drop_column("sync_job", "slot_claimed_at")
    op.drop_index(op.f("ix_draft_expires_at"), table_name="draft")
    op.drop_table("draft")
