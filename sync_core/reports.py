"""What a run reports: per target, and for the whole run. Read by the CLI, the bot and the alerts."""

from __future__ import annotations

from dataclasses import dataclass, field

from .models import RunStatus, TargetStatus
from .plan import Plan

FAILED_STATUSES = {
    TargetStatus.not_found,
    TargetStatus.suspended,
    TargetStatus.forbidden,
    TargetStatus.quota,
    TargetStatus.unreachable,
    TargetStatus.error,
    TargetStatus.too_many_contacts,
}


@dataclass
class TargetReport:
    email: str
    user_id: str | None
    status: TargetStatus
    reason: str = ""
    new_email: str | None = None
    created: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    plan: Plan | None = None
    # A suspended or archived member of a group, domain, OU or role: left out, as expected, not a failure.
    excluded: bool = False

    @property
    def failed(self) -> bool:
        return self.status in FAILED_STATUSES and not self.excluded


@dataclass
class RunReport:
    job_id: int
    job_name: str
    dry_run: bool
    run_id: int | None = None
    status: RunStatus = RunStatus.running
    error_kind: str | None = None
    error_reason: str = ""
    source_email: str | None = None
    source_renamed_to: str | None = None
    source_count: int = 0
    targets: list[TargetReport] = field(default_factory=list)
    targets_expected: int = 0  # known once the targets are resolved (for progress displays)
    api_calls: int = 0
    calls_by_method: dict[str, int] = field(default_factory=dict)

    def total(self, attr: str) -> int:
        return sum(int(getattr(t, attr)) for t in self.targets)

    @property
    def failed_targets(self) -> list[TargetReport]:
        return [t for t in self.targets if t.failed]


def target_status(kind: str) -> TargetStatus:
    try:
        return TargetStatus(kind)
    except ValueError:
        return TargetStatus.error
