"""initial schema

Revision ID: 0001
Revises:
Create Date: 2025-01-01

Written by hand to mirror sync_core/domain/models.py; tests/store/test_migrations.py checks that
autogenerate finds no difference. Types are spelled out here (not imported from models) so this
revision stays frozen when the models move on: enums are VARCHAR(32), timestamps are
timestamptz (naive UTC on SQLite).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ENUM = sa.String(length=32)


def timestamp() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def job_fk() -> sa.ForeignKey:
    return sa.ForeignKey("sync_job.id", ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "sync_job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("uid", sa.String(length=32), nullable=False),
        sa.Column("kind", ENUM, nullable=False),
        sa.Column("source_user_id", sa.String(), nullable=True),
        sa.Column("source_email", sa.String(), nullable=True),
        sa.Column("source_group_resource_name", sa.String(), nullable=True),
        sa.Column("source_group_name", sa.String(), nullable=True),
        sa.Column("target_group_name", sa.String(), nullable=False),
        sa.Column("add_to_my_contacts", sa.Boolean(), nullable=False),
        sa.Column("description", sa.String(), nullable=False),
        sa.Column("directory_domains", sa.JSON(), nullable=False),
        sa.Column("include_ous", sa.JSON(), nullable=False),
        sa.Column("exclude_ous", sa.JSON(), nullable=False),
        sa.Column("include_self", sa.Boolean(), nullable=False),
        sa.Column("schedule", sa.String(), nullable=False),
        sa.Column("alert_channel", sa.String(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("source_sync_token", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(), nullable=False),
        sa.Column("created_at", timestamp(), nullable=False),
        sa.Column("updated_at", timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sync_job"),
        sa.UniqueConstraint("name", name="uq_sync_job_name"),
        sa.UniqueConstraint("uid", name="uq_sync_job_uid"),
    )

    op.create_table(
        "target_selector",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), job_fk(), nullable=False),
        sa.Column("kind", ENUM, nullable=False),
        sa.Column("value", sa.String(), nullable=False),
        sa.Column("resolved_user_id", sa.String(), nullable=True),
        sa.Column("resolved_email", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_target_selector"),
        sa.UniqueConstraint("job_id", "kind", "value", name="uq_target_selector_job_id_kind_value"),
    )

    op.create_table(
        "target_state",
        sa.Column("job_id", sa.Integer(), job_fk(), nullable=False),
        sa.Column("target_user_id", sa.String(), nullable=False),
        sa.Column("target_email", sa.String(), nullable=False),
        sa.Column("target_group_resource_name", sa.String(), nullable=True),
        sa.Column("sync_token", sa.Text(), nullable=True),
        sa.Column("last_status", ENUM, nullable=True),
        sa.Column("last_reason", sa.String(), nullable=False),
        sa.Column("alerted_status", ENUM, nullable=True),
        sa.Column("alert_ts", sa.String(), nullable=True),
        sa.Column("last_full_read_at", timestamp(), nullable=True),
        sa.Column("updated_at", timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("job_id", "target_user_id", name="pk_target_state"),
    )

    op.create_table(
        "run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), job_fk(), nullable=False),
        sa.Column("trigger", ENUM, nullable=False),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("started_at", timestamp(), nullable=False),
        sa.Column("finished_at", timestamp(), nullable=True),
        sa.Column("status", ENUM, nullable=False),
        sa.Column("error_kind", ENUM, nullable=True),
        sa.Column("error_reason", sa.String(), nullable=False),
        *(
            sa.Column(count, sa.Integer(), nullable=False)
            for count in (
                "created",
                "updated",
                "deleted",
                "unchanged",
                "targets_total",
                "targets_ok",
                "targets_failed",
                "api_calls",
            )
        ),
        sa.PrimaryKeyConstraint("id", name="pk_run"),
    )
    op.create_index("ix_run_job_id_started_at", "run", ["job_id", "started_at"])

    op.create_table(
        "target_result",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("run.id", ondelete="CASCADE"), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("target_user_id", sa.String(), nullable=True),
        sa.Column("target_email", sa.String(), nullable=False),
        sa.Column("status", ENUM, nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("new_email", sa.String(), nullable=True),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("deleted", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_target_result"),
    )
    op.create_index("ix_target_result_run_id", "target_result", ["run_id"])
    op.create_index(
        "ix_target_result_job_id_target_user_id", "target_result", ["job_id", "target_user_id"]
    )

    op.create_table(
        "source_contact",
        sa.Column("job_id", sa.Integer(), job_fk(), nullable=False),
        sa.Column("source_key", sa.String(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("content_hash", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("job_id", "source_key", name="pk_source_contact"),
    )

    op.create_table(
        "contact_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), job_fk(), nullable=False),
        sa.Column("target_user_id", sa.String(), nullable=False),
        sa.Column("source_key", sa.String(), nullable=False),
        sa.Column("target_resource_name", sa.String(), nullable=False),
        sa.Column("content_hash", sa.String(), nullable=False),
        sa.Column("target_etag", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_contact_link"),
        sa.UniqueConstraint(
            "job_id",
            "target_user_id",
            "source_key",
            name="uq_contact_link_job_id_target_user_id_source_key",
        ),
    )

    op.create_table(
        "audit_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("job_name", sa.String(), nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("at", timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_event"),
    )
    op.create_index("ix_audit_event_job_id", "audit_event", ["job_id"])
    op.create_index("ix_audit_event_at", "audit_event", ["at"])

    op.create_table(
        "job_lease",
        sa.Column("job_id", sa.Integer(), job_fk(), nullable=False),
        sa.Column("holder", sa.String(), nullable=False),
        sa.Column("acquired_at", timestamp(), nullable=False),
        sa.Column("expires_at", timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("job_id", name="pk_job_lease"),
    )


def downgrade() -> None:
    for table in (
        "job_lease",
        "audit_event",
        "contact_link",
        "source_contact",
        "target_result",
        "run",
        "target_state",
        "target_selector",
        "sync_job",
    ):
        op.drop_table(table)
