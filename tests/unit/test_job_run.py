"""`JobRun`'s phases where they decide something of their own: the order of the phases and what each hands the
next (the seam a merge of editors' edits goes into), how a failure of the whole run is reported, the deletion
guard a run keeps, leavers held back when most accounts leave at once, a dry run holding no lease, and how a
run's status follows from its targets'. And the plan check between one account's plan and its writes.

No database and no Google here: the phases that would reach them are replaced, or given stand-ins."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from sync_core.domain.models import JobKind, RunStatus, SyncJob
from sync_core.domain.reports import RunReport, TargetReport
from sync_core.domain.status import TargetStatus
from sync_core.leases.lease_keeper import LeaseLost
from sync_core.observability.metrics import Metrics
from sync_core.run.job_lease import NO_LEASE
from sync_core.run.job_run import JobRun, RunRequest, RunServices, RunSource, RunTargets, conclude
from sync_core.run.plan_check import check_plan
from sync_core.run.source import SourceFailure
from sync_core.run.target_model import TargetJob
from sync_core.run.targets import TargetUser
from sync_core.settings import load_settings
from sync_core.sync.deletion_guard import GuardPolicy
from sync_core.sync.plan import Create, Delete, Keep, Plan, SourceItem

GUARD = GuardPolicy(share=0.5, minimum=20)


class Records:
    """What the phases under test ask of `RunRecords`."""

    def __init__(self, *, applied: bool = False, links: dict[str, int] | None = None) -> None:
        self.applied = applied
        self.links = links or {}
        self.asked_applied = 0

    def deletions_applied(self, job_id: int, run_id: int | None) -> bool:
        self.asked_applied += 1
        return self.applied

    def link_counts(self, job_id: int, user_ids: list[str]) -> dict[str, int]:
        return {u: self.links[u] for u in user_ids if u in self.links}


def job() -> SyncJob:
    return SyncJob(id=7, name="Partners", kind=JobKind.personal, source_email="ann@example.com",
                   source_user_id="u-ann", source_group_resource_name="contactGroups/p", target_group_name="Partners",
                   created_by="U1")


def make_run(records: Records | None = None, **request: Any) -> JobRun:
    """A run whose database and Google clients are absent: any phase that reached them would fail."""
    services = RunServices(db=None, clients=None, settings=load_settings(), records=records or Records(),  # type: ignore[arg-type]
                           metrics=Metrics(), notifier=None, holder="test")  # type: ignore[arg-type]
    return JobRun(job(), RunRequest(**request), services)


def source(n: int = 2) -> RunSource:
    items = {f"people/s{i}": SourceItem(f"people/s{i}", {}, f"h{i}") for i in range(n)}
    return RunSource(items, "u-ann", {}, datetime(2030, 1, 7, tzinfo=UTC))


# --- the phases, in order -----------------------------------------------------------------------------------
class Recorded(JobRun):
    """The phases' order and what each hands the next, with no I/O."""

    def __init__(self, read: RunSource, guard: GuardPolicy | None, **request: Any) -> None:
        super().__init__(make_run(**request).job, RunRequest(**request), make_run().services)
        self.read, self.guard = read, guard
        self.calls: list[tuple[str, Any]] = []

    def deletion_guard(self) -> GuardPolicy | None:
        self.calls.append(("guard", None))
        return self.guard

    def read_source(self) -> RunSource:
        self.calls.append(("read", None))
        return self.read

    def merge_editors(self, source: RunSource, guard: GuardPolicy | None) -> RunSource:
        self.calls.append(("merge", (source, guard)))
        self.merged = replace(source, items={**source.items, "people/from-an-editor": SourceItem(
            "people/from-an-editor", {}, "h-new")})
        return self.merged

    def keep_source(self, source: RunSource) -> None:
        self.calls.append(("keep", source))

    def resolve_targets(self, source: RunSource, guard: GuardPolicy | None) -> RunTargets:
        self.calls.append(("resolve", (source, guard)))
        return RunTargets({}, [(TargetUser("u-bob", "bob@example.com", TargetStatus.ok), False)])

    def sync_targets(self, source: RunSource, targets: RunTargets, guard: GuardPolicy | None) -> None:
        self.calls.append(("sync", (source, targets.targets[0][0].email, guard)))


def test_the_phases_run_in_order_and_every_later_phase_takes_the_source_as_merged() -> None:
    read = source()
    run = Recorded(read, GUARD, dry_run=True)

    run.phases()

    assert [name for name, _ in run.calls] == ["guard", "read", "merge", "keep", "resolve", "sync"]
    calls = dict(run.calls)
    merged = run.merged
    assert calls["merge"] == (read, GUARD)
    assert calls["keep"] is merged and calls["resolve"] == (merged, GUARD)
    assert calls["sync"] == (merged, "bob@example.com", GUARD)


def test_a_dry_run_holds_no_lease_and_records_nothing() -> None:
    run = Recorded(source(), None, dry_run=True)  # no database: taking a lease or a run row would fail

    report = run.drive()

    assert run.lease is NO_LEASE and not NO_LEASE.lost.is_set()
    NO_LEASE.check()  # never lost, never raises
    assert run.run_id is None and report.run_id is None
    assert report.status is RunStatus.ok, "concluded: nothing failed"


# --- a failure of the whole run -------------------------------------------------------------------------------
class Failing(Recorded):
    def __init__(self, error: BaseException) -> None:
        super().__init__(source(), None, dry_run=True)
        self.error = error

    def read_source(self) -> RunSource:
        raise self.error


@pytest.mark.parametrize(("error", "kind", "words"), [
    (SourceFailure(TargetStatus.source_empty, "the source is now empty"), TargetStatus.source_empty,
     "the source is now empty"),
    (LeaseLost("another run took over the job's lease"), TargetStatus.lease_lost, "stopped writing"),
    (OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly")),
     TargetStatus.database, "the next run goes on from what was saved"),
])
def test_a_failure_of_the_whole_run_ends_it_failed_with_its_kind(error: BaseException, kind: TargetStatus,
                                                                  words: str) -> None:
    report = Failing(error).drive()

    assert (report.status, report.error_kind) == (RunStatus.failed, kind)
    assert words in report.error_reason


def test_a_database_error_that_is_no_outage_is_not_swallowed() -> None:
    with pytest.raises(SQLAlchemyError):
        Failing(SQLAlchemyError("a bug in a query")).drive()


# --- the deletion guard -----------------------------------------------------------------------------------
def test_the_run_keeps_the_guard_unless_deletions_are_allowed_or_an_admin_applied_them() -> None:
    assert make_run().deletion_guard() == load_settings().deletion_guard()

    allowed = Records(applied=False)
    assert make_run(allowed, allow_deletions=True).deletion_guard() is None
    assert allowed.asked_applied == 0, "allowed by the caller: the store is not asked"

    assert make_run(Records(applied=True)).deletion_guard() is None


def leavers(n: int) -> list[TargetUser]:
    return [TargetUser(f"u{i}", f"user{i}@example.com", TargetStatus.ok) for i in range(n)]


def test_most_accounts_leaving_at_once_are_held_and_reported_with_what_they_keep() -> None:
    run = make_run(Records(links={f"u{i}": 10 for i in range(3)}), dry_run=True)
    states: dict[str, Any] = {f"u{i}": object() for i in range(4)}

    kept = run._hold_leavers(GUARD, states, leavers(3))  # 3 of 4 accounts, 30 contacts

    assert kept == []
    assert [(t.email, t.status, t.held) for t in run.report.targets] == [
        (f"user{i}@example.com", TargetStatus.ok, 10) for i in range(3)]
    assert "3 of its 4 accounts at once" in run.report.targets[0].reason


def test_a_few_accounts_leaving_or_no_guard_leave_as_usual() -> None:
    states: dict[str, Any] = {f"u{i}": object() for i in range(4)}
    few = make_run(Records(links={"u0": 100}), dry_run=True)
    assert few._hold_leavers(GUARD, states, leavers(1)) == leavers(1)
    unguarded = make_run(Records(links={f"u{i}": 10 for i in range(3)}), dry_run=True)
    assert unguarded._hold_leavers(None, states, leavers(3)) == leavers(3)
    assert few.report.targets == [] and unguarded.report.targets == []


# --- the run's status from its targets' ------------------------------------------------------------------------
def concluded(*statuses: TargetStatus, reached: int = 1, cancelled: bool = False) -> RunReport:
    report = RunReport(7, "Partners", False)
    report.reached = reached
    report.targets = [TargetReport(f"t{i}@example.com", f"u{i}", s) for i, s in enumerate(statuses)]
    conclude(report, cancelled=cancelled)
    return report


def test_a_runs_status_follows_from_its_targets() -> None:
    assert concluded(TargetStatus.ok, TargetStatus.ok).status is RunStatus.ok
    assert concluded(TargetStatus.ok, TargetStatus.error).status is RunStatus.partial
    failed = concluded(TargetStatus.error, TargetStatus.error)
    assert (failed.status, failed.error_kind, failed.error_reason) == (
        RunStatus.failed, TargetStatus.error, "all 2 targets failed")
    assert concluded(reached=0).status is RunStatus.no_targets
    assert concluded(TargetStatus.ok, cancelled=True).status is RunStatus.abandoned


def test_a_run_needs_a_stored_job() -> None:
    unsaved = job()
    unsaved.id = None
    with pytest.raises(ValueError, match="not stored"):
        JobRun(unsaved, RunRequest(cancel=threading.Event()), make_run().services)


# --- the plan check (sync_core.run.plan_check) ------------------------------------------------------------------
def creates(n: int) -> list[Create]:
    return [Create(f"s{i}", SourceItem(f"s{i}", {}, f"h{i}"), frozenset(), "job") for i in range(n)]


def removed(n: int) -> list[Delete]:
    return [Delete(f"people/c{i}", f"k{i}", "source_removed") for i in range(n)]


def test_the_account_size_is_asked_only_when_the_plan_creates() -> None:
    asked: list[int] = []

    def size() -> int:
        asked.append(1)
        return 24_999

    account = TargetJob("job", "Partners", False, max_contacts=25_000)
    assert check_plan(Plan(deletes=removed(1)), account, size).refused == ""
    assert asked == []
    refused = check_plan(Plan(creates=creates(2)), account, size)
    assert asked == [1]
    assert refused.refused.startswith("would hold 25001 contacts; Google allows 25000 per account.")
    assert check_plan(Plan(creates=creates(2), deletes=removed(1)), account, size).refused == ""


def test_the_guard_holds_a_shrunken_sources_deletions_before_the_limit_is_checked() -> None:
    account = TargetJob("job", "Partners", False, max_contacts=25_000, deletion_guard=GUARD)
    plan = Plan(deletes=removed(30), keeps=[Keep(f"s{i}", f"people/k{i}", f"h{i}", "e") for i in range(5)])

    checked = check_plan(plan, account, lambda: 0)

    assert (checked.held, checked.plan.deletes, checked.refused) == (30, [], "")
    unguarded = check_plan(plan, TargetJob("job", "Partners", False, max_contacts=25_000), lambda: 0)
    assert (unguarded.held, len(unguarded.plan.deletes)) == (0, 30)
