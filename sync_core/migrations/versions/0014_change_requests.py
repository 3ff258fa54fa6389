"""requests: change_request (members' requests, and changes the two-person rule holds for a second admin)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07

- change_request: a change waiting for an admin, as the spec the service validates (JSON), who asked (Slack
  id, and for a member their Google address and id), its state (pending, approved, denied, expired), who
  decided, the reason of a denial, when, and the job it made. The id is random (the buttons carry it).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ENUM = sa.String(length=32)


def upgrade() -> None:
    op.create_table(
        "change_request",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("change", ENUM, nullable=False),
        sa.Column("job_name", sa.String(), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("reach", sa.Integer(), nullable=True),
        sa.Column("why", sa.String(), nullable=False),
        sa.Column("requested_by", sa.String(), nullable=False),
        sa.Column("requester_email", sa.String(), nullable=True),
        sa.Column("requester_user_id", sa.String(), nullable=True),
        sa.Column("state", ENUM, nullable=False),
        sa.Column("decided_by", sa.String(), nullable=True),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(), nullable=True),
        sa.Column("message_ts", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_change_request"),
    )
    op.create_index("ix_change_request_state_created_at", "change_request", ["state", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_change_request_state_created_at", table_name="change_request")
    op.drop_table("change_request")
