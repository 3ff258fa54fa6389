from __future__ import annotations

from typing import Any

from sqlmodel import Session

from sync_core import store
from sync_core.domain.models import JobKind, SyncJob, SyncJobCreate


def job_in(name: str = "sales-team", **overrides: Any) -> SyncJobCreate:
    fields: dict[str, Any] = {
        "name": name,
        "kind": JobKind.personal,
        "source_user_id": "100000000000000000001",
        "source_email": "alice@example.com",
        "source_group_resource_name": "contactGroups/abc123",
        "source_group_name": "Sales",
        "target_group_name": "Sales",
    }
    return SyncJobCreate(**(fields | overrides))


def add_job(session: Session, name: str = "sales-team", **overrides: Any) -> SyncJob:
    job = store.create_job(session, job_in=job_in(name, **overrides), created_by="U0ADMIN")
    session.commit()
    assert job.id is not None
    return job


def job_id(job: SyncJob) -> int:
    assert job.id is not None
    return job.id
