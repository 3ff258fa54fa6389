"""What the engine tells the outside world after a run. The Slack bot implements `Notifier`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from sync_core.domain.models import SyncJob
    from sync_core.domain.reports import RunReport


class Notifier(Protocol):
    def run_finished(self, job: SyncJob, report: RunReport) -> None: ...


class NullNotifier:
    def run_finished(self, job: SyncJob, report: RunReport) -> None:
        return None
