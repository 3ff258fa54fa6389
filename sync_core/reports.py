"""What a run reports: per target, and for the whole run. Read by the CLI, the bot and the alerts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypedDict

from .models import RunStatus
from .plan import Plan
from .status import FAILED_STATUSES, TargetStatus

if TYPE_CHECKING:
    from .run_alerts import AlertChanges


class CountFields(TypedDict):
    created: int
    updated: int
    deleted: int
    unchanged: int
    held: int


@dataclass(kw_only=True)
class ContactCounts:
    """What one target's sync did to its contacts: counted as it goes (`TargetOutcome`), then reported."""

    created: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    # Deletions the mass-deletion guard held back here (see sync_core.deletion_guard): contacts the source
    # lost, or, for an account that left the target set, every contact of ours it holds.
    held: int = 0

    def counts(self) -> CountFields:
        """To hand on as keywords: `TargetReport(..., **outcome.counts())`."""
        return CountFields(created=self.created, updated=self.updated, deleted=self.deleted,
                           unchanged=self.unchanged, held=self.held)


@dataclass
class TargetReport(ContactCounts):
    email: str
    user_id: str | None
    status: TargetStatus
    reason: str = ""
    new_email: str | None = None
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
    error_kind: TargetStatus | None = None
    error_reason: str = ""
    source_email: str | None = None
    source_renamed_to: str | None = None
    source_count: int = 0
    targets: list[TargetReport] = field(default_factory=list)
    targets_expected: int = 0  # known once the targets are resolved (for progress displays)
    api_calls: int = 0
    calls_by_method: dict[str, int] = field(default_factory=dict)
    # What the run changed in the job's alerts, once recorded (`run_alerts`): what the notifier posts.
    alerts: AlertChanges | None = None

    def total(self, attr: str) -> int:
        return sum(int(getattr(t, attr)) for t in self.targets)

    @property
    def failed_targets(self) -> list[TargetReport]:
        return [t for t in self.targets if t.failed]

    @property
    def held_targets(self) -> list[TargetReport]:
        return [t for t in self.targets if t.held]

    def held_summary(self) -> str:
        """What the mass-deletion guard held in this run, in words ("" when nothing)."""
        held = self.held_targets
        if not held:
            return ""
        contacts, accounts = sum(t.held for t in held), len(held)
        names = ", ".join(t.email for t in held[:5]) + (f" and {accounts - 5} more" if accounts > 5 else "")
        return (
            f"{contacts} deletion{'s' if contacts != 1 else ''} at {accounts} account{'s' if accounts != 1 else ''} "
            f"({names}) wait for an admin: the source, or the set of targets, shrank by more than the "
            "guard allows at once. Everything else was synced."
        )
