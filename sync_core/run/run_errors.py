"""Why a job does not run: it is not there, another run holds it, or it is being deleted."""

from __future__ import annotations

from sync_core.domain.errors import JobNotFound

__all__ = ["JobBusy", "JobDeleting", "JobNotFound"]


class JobBusy(Exception):
    """Another run of this job holds its lease."""


class JobDeleting(JobBusy):
    """The job is being deleted (some accounts still hold its contacts): it never runs again. A kind of
    `JobBusy`, so every caller that reports a busy job reports this one in its words."""

    def __init__(self, name: str) -> None:
        super().__init__(
            f"sync {name!r} is being deleted (some accounts still hold its contacts); delete it again to retry"
        )
