"""The run, job and target a log line belongs to, carried in contextvars (set by `sync_core.observability.observe`
around a run and each of its targets) and added to every record by `RunContextFilter`, so a JSON log line can name
them as fields whatever module logged it."""

from __future__ import annotations

import logging
from contextvars import ContextVar

RUN_ID: ContextVar[int | None] = ContextVar("contactsync_run_id", default=None)
JOB: ContextVar[str | None] = ContextVar("contactsync_job", default=None)
TARGET: ContextVar[str | None] = ContextVar("contactsync_target", default=None)

FIELDS = ("run_id", "job", "target")


def current() -> dict[str, int | str]:
    """The fields set where this is called (unset ones left out)."""
    values = {"run_id": RUN_ID.get(), "job": JOB.get(), "target": TARGET.get()}
    return {name: value for name, value in values.items() if value is not None}


class RunContextFilter(logging.Filter):
    """Copies the current run, job and target onto each record (as `record.run_id`...; None when unset)."""

    def filter(self, record: logging.LogRecord) -> bool:
        fields = current()
        for name in FIELDS:
            setattr(record, name, fields.get(name))
        return True
