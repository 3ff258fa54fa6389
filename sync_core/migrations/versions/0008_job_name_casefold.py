"""job names unique ignoring case: a unique index on lower(sync_job.name)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03

"Sales" and "SALES" were two syncs nobody could tell apart in a list or pick by name. The service refuses
such a name (comparing casefolded names); this index makes the database refuse it too, so two creators
racing cannot both win. Names that already clash are renamed first ("Sales (2)"), keeping every job.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME_MAX = 80


def upgrade() -> None:
    bind = op.get_bind()
    jobs = sa.table("sync_job", sa.column("id", sa.Integer), sa.column("name", sa.String))
    rows = bind.execute(sa.select(jobs.c.id, jobs.c.name).order_by(jobs.c.id)).all()
    taken = {name.lower() for _id, name in rows}
    seen: set[str] = set()
    for job_id, name in rows:
        if name.lower() not in seen:
            seen.add(name.lower())
            continue
        number = 2
        while True:  # the first free "name (n)", the name shortened to keep within the limit
            suffix = f" ({number})"
            renamed = name[: NAME_MAX - len(suffix)] + suffix
            if renamed.lower() not in taken:
                break
            number += 1
        taken.add(renamed.lower())
        seen.add(renamed.lower())
        bind.execute(sa.update(jobs).where(jobs.c.id == job_id).values(name=renamed))
    op.create_index("uq_sync_job_name_lower", "sync_job", [sa.text("lower(name)")], unique=True)


def downgrade() -> None:
    op.drop_index("uq_sync_job_name_lower", table_name="sync_job")
