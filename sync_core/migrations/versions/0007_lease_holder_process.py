"""lease holder's process: job_lease.host, boot_id, pid, pid_started

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03

A run renews its lease every few seconds (a short TTL instead of half an hour), and says where it runs:
a run on the same host may then take over at once from a holder whose process is gone (killed, crashed,
or from before a reboot) instead of waiting for the lease to lapse. Rows written before have no identity:
they lapse with time, as before.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("job_lease") as batch:
        batch.add_column(sa.Column("host", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("boot_id", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("pid", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("pid_started", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("job_lease") as batch:
        batch.drop_column("pid_started")
        batch.drop_column("pid")
        batch.drop_column("boot_id")
        batch.drop_column("host")
