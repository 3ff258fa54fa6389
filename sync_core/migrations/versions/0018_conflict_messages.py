"""conflict messages: merge_conflict.posting_since, channel, message_ts

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07

Each open conflict is posted once to its job's alert channel, with a button that puts a losing value back
(issue 21). Several replicas may finish runs of one job: the one that claims a conflict (`posting_since`,
one conditional UPDATE) posts it; the message (`channel`, `message_ts`) is then updated in place when an
admin presses the button.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMNs (no table rebuild on SQLite).
    op.add_column("merge_conflict", sa.Column("posting_since", sa.DateTime(timezone=True), nullable=True))
    op.add_column("merge_conflict", sa.Column("channel", sa.String(), nullable=True))
    op.add_column("merge_conflict", sa.Column("message_ts", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("merge_conflict") as batch:
        batch.drop_column("message_ts")
        batch.drop_column("channel")
        batch.drop_column("posting_since")
