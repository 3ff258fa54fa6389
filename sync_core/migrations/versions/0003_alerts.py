"""alerts

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25

- alert: one row per failure told to Slack (or counted while a transient failure is `pending`), per
  target or for the run (the source); the alerts of one run share a message (channel, message_ts).
  Rows go with their job (ON DELETE CASCADE); the audit log keeps who fixed what.
- target_state.alerted_status / alert_ts go: the alert table holds that now.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ENUM = sa.String(length=32)


def upgrade() -> None:
    op.create_table(
        "alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), sa.ForeignKey("sync_job.id", ondelete="CASCADE"), nullable=False),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("kind", ENUM, nullable=False),
        sa.Column("state", ENUM, nullable=False),
        sa.Column("subject", sa.String(), nullable=False),
        sa.Column("user_id", sa.String(), nullable=True),
        sa.Column("new_email", sa.String(), nullable=True),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("streak", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(), nullable=True),
        sa.Column("message_ts", sa.String(), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(), nullable=True),
        sa.Column("outcome", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_alert"),
    )
    op.create_index("ix_alert_job_id_state", "alert", ["job_id", "state"])
    op.create_index("ix_alert_channel_message_ts", "alert", ["channel", "message_ts"])
    with op.batch_alter_table("target_state") as batch:
        batch.drop_column("alert_ts")
        batch.drop_column("alerted_status")


def downgrade() -> None:
    with op.batch_alter_table("target_state") as batch:
        batch.add_column(sa.Column("alerted_status", ENUM, nullable=True))
        batch.add_column(sa.Column("alert_ts", sa.String(), nullable=True))
    op.drop_index("ix_alert_channel_message_ts", table_name="alert")
    op.drop_index("ix_alert_job_id_state", table_name="alert")
    op.drop_table("alert")
