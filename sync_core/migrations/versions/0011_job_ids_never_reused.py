"""job ids are never reused; a delete may keep the contacts: sync_job AUTOINCREMENT, sync_job.keep_contacts

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06

- SQLite hands a deleted row's id to the next insert unless the table is AUTOINCREMENT. A job's id keys its
  history (`audit_event`, which outlives the job), and a new job that got a deleted one's id showed that
  job's create and delete as its own. "Which job came first" (one label, one owner) compares ids too. So
  `sync_job` becomes AUTOINCREMENT (on SQLite a table rebuild), and its counter starts past every id any
  row still names, also the history of jobs deleted before this revision. PostgreSQL's sequence never hands
  out a value twice already.
- sync_job.keep_contacts: with `deleting`, the delete under way releases the contacts (our tags go, the
  contacts and the label stay, as the users' own) instead of removing them; deleting again finishes that.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME_INDEX = "uq_sync_job_name_lower"
# Every column that names a job id without a foreign key (so it may name a job that is gone).
JOB_ID_COLUMNS = (("sync_job", "id"), ("audit_event", "job_id"), ("target_result", "job_id"))


def _rebuild_sync_job(*, autoincrement: bool) -> None:
    # The batch copy would not carry the expression index on lower(name) (0008): dropped, then made again.
    op.drop_index(NAME_INDEX, table_name="sync_job")
    with op.batch_alter_table("sync_job", recreate="always",
                              table_kwargs={"sqlite_autoincrement": autoincrement}) as batch:
        if autoincrement:
            batch.add_column(sa.Column("keep_contacts", sa.Boolean(), nullable=False, server_default=sa.false()))
        else:
            batch.drop_column("keep_contacts")
    op.create_index(NAME_INDEX, "sync_job", [sa.text("lower(name)")], unique=True)


def _highest_known_job_id() -> int:
    bind = op.get_bind()
    return max(
        int(bind.exec_driver_sql(f"SELECT coalesce(max({column}), 0) FROM {table}").scalar_one())
        for table, column in JOB_ID_COLUMNS
    )


def _start_sqlite_counter_past(highest: int) -> None:
    bind = op.get_bind()
    bind.exec_driver_sql("DELETE FROM sqlite_sequence WHERE name = 'sync_job'")
    if highest:
        bind.exec_driver_sql("INSERT INTO sqlite_sequence (name, seq) VALUES ('sync_job', ?)", (highest,))


def _start_postgresql_sequence_past(highest: int) -> None:
    """Only ever forward: ids come from the sequence, so it is past them already unless rows were restored or
    written with explicit ids."""
    bind = op.get_bind()
    sequence = bind.exec_driver_sql("SELECT pg_get_serial_sequence('sync_job', 'id')").scalar_one()
    last, called = bind.exec_driver_sql(f"SELECT last_value, is_called FROM {sequence}").one()
    if highest > (last if called else last - 1):
        bind.exec_driver_sql("SELECT setval(%s, %s)", (sequence, highest))


def upgrade() -> None:
    highest = _highest_known_job_id()
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sync_job(autoincrement=True)
        _start_sqlite_counter_past(highest)
    else:
        op.add_column("sync_job",
                      sa.Column("keep_contacts", sa.Boolean(), nullable=False, server_default=sa.false()))
        _start_postgresql_sequence_past(highest)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sync_job(autoincrement=False)
    else:
        op.drop_column("sync_job", "keep_contacts")
