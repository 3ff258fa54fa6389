"""`sync_core.alerting.alerts`: which failures are posted, left alone, resolved; transient ones only after N runs."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from sync_core.alerting.alert_kinds import Fix, alert_kind
from sync_core.alerting.alerts import (
    SOURCE_KEY,
    SOURCE_RENAMED_KEY,
    Cleared,
    Decision,
    Known,
    Observation,
    Post,
    Scope,
    decide,
    observe,
)
from sync_core.domain.models import AlertKind, AlertState, RunStatus, TargetStatus
from sync_core.domain.reports import RunReport, TargetReport


def report(*targets: TargetReport, status: RunStatus = RunStatus.partial, **kw: object) -> RunReport:
    r = RunReport(job_id=1, job_name="Partners", dry_run=False, run_id=7, status=status,
                  source_email="alice@example.com", **kw)  # type: ignore[arg-type]
    r.targets.extend(targets)
    return r


def ok(email: str, uid: str) -> TargetReport:
    return TargetReport(email, uid, TargetStatus.ok)


RENAMED = TargetReport("bob@example.com", "u-bob", TargetStatus.renamed, "bob@example.com was renamed",
                       new_email="robert@example.com")
DELETED = TargetReport("dave@example.com", "u-dave", TargetStatus.not_found, "no user has this address")
QUOTA = TargetReport("carol@example.com", "u-carol", TargetStatus.quota, "rate limit")
NO_GROUP = TargetReport("gone@example.com", None, TargetStatus.not_found, "no Google Group gone@example.com")


def seen(r: RunReport) -> Observation:
    observation = observe(r)
    assert observation is not None
    return observation


def known_from(decision: Decision, *, start: int = 100) -> list[Known]:
    """What the store would hold after applying `decision` to nothing (new rows get ids from `start`)."""
    rows = [Known(start + i, p.failure.key, p.failure.kind, AlertState.open, p.streak) for i, p in
            enumerate(decision.post)]
    rows += [Known(start + 50 + i, c.failure.key, c.failure.kind, AlertState.pending, c.streak) for i, c in
             enumerate(decision.count)]
    return rows


def keys(items: Iterable[Post]) -> set[str]:
    return {i.failure.key for i in items}


# --- observe ------------------------------------------------------------------------------------------
def test_observe_keys_targets_by_user_id_and_the_unresolved_by_value() -> None:
    o = seen(report(RENAMED, DELETED, NO_GROUP, ok("zoe@example.com", "u-zoe")))
    assert set(o.failures) == {"user:u-bob", "user:u-dave", "target:gone@example.com"}
    assert o.failures["user:u-bob"].kind is AlertKind.target_renamed
    assert o.failures["user:u-bob"].new_email == "robert@example.com"
    assert o.failures["user:u-dave"].kind is AlertKind.target_missing
    assert "user:u-zoe" in o.ok_keys and SOURCE_KEY in o.ok_keys and SOURCE_RENAMED_KEY in o.ok_keys
    assert o.scopes == {Scope.targets, Scope.source, Scope.source_renamed}


def test_excluded_members_are_not_failures() -> None:
    frank = TargetReport("frank@example.com", "u-frank", TargetStatus.suspended, excluded=True)
    assert seen(report(frank)).failures == {}


def test_a_run_failed_at_the_source_speaks_for_the_source_only() -> None:
    r = report(status=RunStatus.failed, error_kind="source_group_missing", error_reason="group gone")
    o = seen(r)
    assert o.scopes == {Scope.source}
    assert o.failures[SOURCE_KEY].kind is AlertKind.source_group_missing
    assert o.failures[SOURCE_KEY].subject == "alice@example.com"
    for kind, expected in [("not_found", AlertKind.source_missing), ("source_empty", AlertKind.source_empty),
                           ("quota", AlertKind.source_transient), ("forbidden", AlertKind.source_failed)]:
        failure = seen(report(status=RunStatus.failed, error_kind=kind)).failures[SOURCE_KEY]
        assert failure.kind is expected, kind


def test_all_targets_failing_is_not_a_source_failure() -> None:
    o = seen(report(DELETED, status=RunStatus.failed, error_kind="not_found"))
    assert set(o.failures) == {"user:u-dave"} and Scope.targets in o.scopes


def test_a_renamed_source_is_one_failure_even_when_the_run_is_fine() -> None:
    o = seen(report(ok("zoe@example.com", "u-zoe"), status=RunStatus.ok, source_renamed_to="alice.new@example.com"))
    failure = o.failures[SOURCE_RENAMED_KEY]
    assert failure.kind is AlertKind.source_renamed and failure.new_email == "alice.new@example.com"
    assert alert_kind(failure.kind).fixes == (Fix.use_source, Fix.delete)


def test_dry_abandoned_and_running_reports_say_nothing() -> None:
    assert observe(report(DELETED, status=RunStatus.abandoned)) is None
    assert observe(report(DELETED, status=RunStatus.running)) is None
    dry = report(DELETED)
    dry.dry_run = True
    assert observe(dry) is None


# --- decide -------------------------------------------------------------------------------------------
def test_new_failures_are_posted_once_and_not_again() -> None:
    first = decide([], seen(report(RENAMED, DELETED)), transient_after=3)
    assert keys(first.post) == {"user:u-bob", "user:u-dave"} and first.post[0].alert_id is None
    again = decide(known_from(first), seen(report(RENAMED, DELETED)), transient_after=3)
    assert again == Decision()


def test_a_cleared_failure_is_resolved_ok_or_gone() -> None:
    first = decide([], seen(report(RENAMED, DELETED)), transient_after=3)
    known = known_from(first)
    later = decide(known, seen(report(ok("robert@example.com", "u-bob"))), transient_after=3)
    by_key = {k.id: k.key for k in known}
    assert {(by_key[i], how) for i, how in later.resolved} == {("user:u-bob", Cleared.ok),
                                                               ("user:u-dave", Cleared.gone)}
    assert later.post == []


def test_a_changed_kind_supersedes_the_old_alert_and_posts_the_new_one() -> None:
    known = [Known(5, "user:u-bob", AlertKind.target_renamed, AlertState.open)]
    gone = TargetReport("bob@example.com", "u-bob", TargetStatus.not_found, "deleted")
    decision = decide(known, seen(report(gone)), transient_after=3)
    assert decision.superseded == [5]
    assert [(p.failure.kind, p.alert_id) for p in decision.post] == [(AlertKind.target_missing, None)]


def test_kept_alerts_stay_quiet_until_they_clear() -> None:
    known = [Known(5, "user:u-dave", AlertKind.target_missing, AlertState.kept)]
    assert decide(known, seen(report(DELETED)), transient_after=3) == Decision()
    back = decide(known, seen(report(ok("dave@example.com", "u-dave"))), transient_after=3)
    assert back.resolved == [(5, Cleared.ok)]


def test_target_alerts_wait_while_the_run_fails_at_the_source() -> None:
    known = [Known(5, "user:u-dave", AlertKind.target_missing, AlertState.open),
             Known(6, SOURCE_RENAMED_KEY, AlertKind.source_renamed, AlertState.open)]
    failed = report(status=RunStatus.failed, error_kind="source_group_missing", error_reason="gone")
    decision = decide(known, seen(failed), transient_after=3)
    assert decision.resolved == [] and decision.superseded == []
    assert [p.failure.kind for p in decision.post] == [AlertKind.source_group_missing]
    fine = decide([*known, Known(7, SOURCE_KEY, AlertKind.source_group_missing, AlertState.open)],
                  seen(report(ok("dave@example.com", "u-dave"), status=RunStatus.ok)), transient_after=3)
    assert sorted(fine.resolved) == [(5, Cleared.ok), (6, Cleared.ok), (7, Cleared.ok)]


@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_transient_failures_are_posted_only_after_n_consecutive_runs(n: int) -> None:
    known: list[Known] = []
    for run in range(1, n + 1):
        decision = decide(known, seen(report(QUOTA)), transient_after=n)
        if run < n:
            assert decision.post == [] and [c.streak for c in decision.count] == [run], run
            pending = decision.count[0]
            known = [Known(9, pending.failure.key, pending.failure.kind, AlertState.pending, pending.streak)]
        else:
            assert [(p.streak, p.alert_id) for p in decision.post] == [(n, 9 if n > 1 else None)]
    assert decide([Known(9, "user:u-carol", AlertKind.target_transient, AlertState.open, n)],
                  seen(report(QUOTA)), transient_after=n) == Decision()


def test_a_transient_failure_that_clears_first_is_forgotten_silently() -> None:
    known = [Known(9, "user:u-carol", AlertKind.target_transient, AlertState.pending, 2)]
    decision = decide(known, seen(report(ok("carol@example.com", "u-carol"))), transient_after=3)
    assert decision.forget == [9] and decision.resolved == [] and not decision.changes_messages
    worse = TargetReport("carol@example.com", "u-carol", TargetStatus.not_found, "deleted")
    changed = decide(known, seen(report(worse)), transient_after=3)
    assert changed.forget == [9] and [p.failure.kind for p in changed.post] == [AlertKind.target_missing]


def test_an_open_alert_slack_refused_is_posted_again() -> None:
    known = [Known(5, "user:u-dave", AlertKind.target_missing, AlertState.open, posted=False)]
    decision = decide(known, seen(report(DELETED)), transient_after=3)
    assert [(p.alert_id, p.failure.key) for p in decision.post] == [(5, "user:u-dave")]


def test_transient_after_must_be_positive() -> None:
    with pytest.raises(ValueError):
        decide([], seen(report()), transient_after=0)


def test_an_emptied_source_offers_the_confirmation_first() -> None:
    assert alert_kind(AlertKind.source_empty).fixes[0] is Fix.confirm_empty
