"""What a run reports: per target, and for the whole run. Read by the CLI, the bot and the alerts."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, TypedDict

from sync_core.domain.models import RunStatus
from sync_core.domain.status import FAILED_STATUSES, TargetStatus
from sync_core.sync.plan import Plan

if TYPE_CHECKING:
    from sync_core.alerting.run_alerts import AlertChanges


class CountFields(TypedDict):
    created: int
    updated: int
    deleted: int
    unchanged: int
    held: int
    adopted: int
    released: int
    ambiguous: int


@dataclass(kw_only=True)
class ContactCounts:
    """What one target's sync did to its contacts: counted as it goes (`TargetOutcome`), then reported."""

    created: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    # Deletions the mass-deletion guard held back here (see sync_core.sync.deletion_guard): contacts the source
    # lost, or, for an account that left the target set, every contact of ours it holds.
    held: int = 0
    # Field rules (--match-existing): the account's own contacts adopted instead of copied, adopted contacts let
    # go instead of deleted, and source contacts whose match was ambiguous (neither adopted nor touched).
    adopted: int = 0
    released: int = 0
    ambiguous: int = 0

    def counts(self) -> CountFields:
        """To hand on as keywords: `TargetReport(..., **outcome.counts())`."""
        return CountFields(created=self.created, updated=self.updated, deleted=self.deleted,
                           unchanged=self.unchanged, held=self.held, adopted=self.adopted,
                           released=self.released, ambiguous=self.ambiguous)


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
    # The users the job's targets resolved to, and the targets as the job lists them ("query:..."): known
    # once resolved (None: the run stopped before). A run that reaches no one ends `no_targets`.
    reached: int | None = None
    selectors: list[str] = field(default_factory=list)
    api_calls: int = 0
    calls_by_method: dict[str, int] = field(default_factory=dict)
    # What the run changed in the job's alerts, once recorded (`run_alerts`): what the notifier posts.
    alerts: AlertChanges | None = None
    # A job with editors (issue 21): what the merge took from the editors' copies, one line each ("ann@...
    # set phoneNumbers of Jane Roe: [...] -> [...]"), and the conflicts it decided (`Conflict.describe`).
    editor_changes: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)

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


# --------------------------------------------------------------------------- a deleted job's contacts


class LabelFate(StrEnum):
    """What became of the job's label in one account when the job was deleted."""

    removed = "removed"  # ours, and empty once our contacts went: deleted
    released = "released"  # ours: our tag taken off, it stays as the user's own label
    in_use = "in_use"  # ours, but it holds contacts of the user's own: it stays
    theirs = "theirs"  # a label of the user's own that the job wrote into: it stays, as it always was theirs
    absent = "absent"  # no label of the job's name (the user deleted it)


@dataclass(frozen=True)
class AccountCleanup:
    """What a delete did at one account: removed the job's contacts, or released them (`kept`) to the user."""

    email: str
    status: TargetStatus  # `removed` once nothing of the job is left there; else why not
    kept: bool
    contacts: int = 0  # removed, or released
    label: LabelFate = LabelFate.absent
    reason: str = ""
    gone: bool = False  # the account no longer exists: nothing to clean

    @property
    def failed(self) -> bool:
        return self.status is not TargetStatus.removed

    def summary(self) -> str:
        """In words, e.g. "removed 300 contacts and the label" (the CLI and Slack both say it so)."""
        if self.gone:
            return "the account no longer exists; nothing to clean"
        if self.failed:
            why = f" ({self.reason})" if self.reason else ""
            return f"could not be {'released' if self.kept else 'cleaned'}: {self.status.value}{why}"
        count = f"{self.contacts} contact{'s' if self.contacts != 1 else ''}"
        if self.kept:
            label = {
                LabelFate.released: " and the label",
                LabelFate.theirs: " (in their own label)",
            }.get(self.label, "")
            return f"released {count}{label}: they are the user's own now"
        return "removed " + count + {
            LabelFate.removed: " and the label",
            LabelFate.in_use: "; the label stays (it holds contacts of the user's own)",
            LabelFate.theirs: "; the label was the user's own and stays",
        }.get(self.label, "")


@dataclass
class Cleanup:
    """What a delete did with the job's contacts, account by account."""

    job_name: str
    kept: bool
    accounts: list[AccountCleanup] = field(default_factory=list)
    api_calls: int = 0

    @property
    def failed(self) -> list[AccountCleanup]:
        return [a for a in self.accounts if a.failed]

    def total(self) -> int:
        return sum(a.contacts for a in self.accounts if not a.failed)


def no_targets_reason(selectors: list[str]) -> str:
    """Why a run reached no one, in words: its targets, named."""
    named = ", ".join(selectors[:5]) + (f" and {len(selectors) - 5} more" if len(selectors) > 5 else "")
    return (f"its targets ({named or 'none'}) match no one who can receive the contacts, so nobody got them. "
            "Edit the sync's targets, or pause it.")
