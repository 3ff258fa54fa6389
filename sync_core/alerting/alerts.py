"""Alert decisions, pure: from what is already alerted and what a run found, which alerts to post, which
to leave alone, and which have cleared. No I/O: `sync_core.alerting.run_alerts` records what this decides after
every run, whoever started it, and the Slack notifier posts what needs posting.

- `observe(report)` turns a run report into failures keyed by what failed: `user:<google id>` (a target
  user, matched by id, so a rename is the same key), `target:<value>` (a target with no user id: an
  address nobody has, a group or role that is gone), `source` (the run failed before any target),
  `source_renamed` (the source user's address changed; the run followed them by id) and `deletions` (the
  mass-deletion guard held deletions somewhere in the run: one alert for them all, until they are applied)
  and `no_targets` (the run's targets resolved to no one: one alert, until a run reaches someone again).
- `decide(known, observation, transient_after=N)` compares them with the job's active alerts:
  a failure that is new, or of another kind than the one alerted, is posted (the older alert is
  superseded); one already alerted is not posted again; one alerted that a run no longer sees is
  resolved. Quota and other transient errors are retried by every run anyway, so they are only posted
  once seen in N consecutive runs (counted while `pending`), and forgotten silently if they clear first.
- A run only speaks for what it looked at: a run that failed at the source says nothing about targets,
  so their alerts stay as they are. Abandoned runs (a shutdown) and dry runs say nothing at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from sync_core.alerting.alert_kinds import RUN_ALERTS, TARGET_ALERTS, TRANSIENT_KINDS
from sync_core.domain.models import AlertKind, AlertState, RunStatus, TargetStatus
from sync_core.domain.reports import RunReport, TargetReport

SOURCE_KEY = "source"
SOURCE_RENAMED_KEY = "source_renamed"
DELETIONS_KEY = "deletions"  # the mass-deletion guard held deletions somewhere in the run (one alert for all)
NO_TARGETS_KEY = "no_targets"  # the run's targets resolved to no one


class Scope(StrEnum):
    targets = "targets"
    source = "source"
    source_renamed = "source_renamed"
    reach = "reach"  # whether the targets resolve to anyone: said by a run that reached someone, or no one


def scope_of(key: str) -> Scope:
    if key == SOURCE_KEY:
        return Scope.source
    if key == NO_TARGETS_KEY:
        return Scope.reach
    if key == SOURCE_RENAMED_KEY:
        return Scope.source_renamed
    return Scope.targets


def target_key(user_id: str | None, email: str) -> str:
    return f"user:{user_id}" if user_id else f"target:{email.lower()}"


@dataclass(frozen=True)
class Failure:
    """Something a run found wrong, ready to be alerted."""

    key: str
    kind: AlertKind
    subject: str  # the address (or group, role) to show
    reason: str = ""
    user_id: str | None = None
    new_email: str | None = None


@dataclass(frozen=True)
class Observation:
    """What one run says: its failures, the scopes it looked at, and the keys it saw working."""

    failures: Mapping[str, Failure]
    scopes: frozenset[Scope]
    ok_keys: frozenset[str] = frozenset()


def _target_failure(t: TargetReport, addresses: Mapping[str, str]) -> Failure | None:
    if t.excluded:
        return None
    kind = TARGET_ALERTS.get(t.status)
    if kind is None:
        return None
    # A renamed target is reported under its current address; the alert names the one the sync lists.
    subject = addresses.get(t.user_id, t.email) if t.user_id else t.email
    new_email = t.new_email if t.new_email and t.new_email != subject else None
    if kind is AlertKind.target_renamed and new_email is None:
        return None  # the sync already lists the current address
    return Failure(target_key(t.user_id, t.email), kind, subject, t.reason, t.user_id, new_email)


def observe(report: RunReport, *, addresses: Mapping[str, str] | None = None) -> Observation | None:
    """The report's failures by key; None when the run says nothing (dry run, abandoned, still running).

    `addresses`: {user id: address} of the job's `email:` targets (the report gives a renamed target's
    current address only)."""
    if report.dry_run or report.status in (RunStatus.abandoned, RunStatus.running):
        return None
    failures: dict[str, Failure] = {}
    ok: set[str] = set()
    source = report.source_email or ""
    run_level = report.status is RunStatus.failed and not report.targets and bool(report.error_kind)
    scopes = {Scope.source}
    if run_level:
        assert report.error_kind is not None
        kind = RUN_ALERTS.get(report.error_kind, AlertKind.source_failed)
        failures[SOURCE_KEY] = Failure(SOURCE_KEY, kind, source, report.error_reason)
    else:
        ok.add(SOURCE_KEY)
        scopes.add(Scope.targets)
        for t in report.targets:
            failure = _target_failure(t, addresses or {})
            if failure is not None:
                failures[failure.key] = failure
            elif t.status is TargetStatus.ok:
                ok.add(target_key(t.user_id, t.email))
        if held := report.held_summary():
            failures[DELETIONS_KEY] = Failure(DELETIONS_KEY, AlertKind.deletions_held, source, held)
        else:
            ok.add(DELETIONS_KEY)
        # Reaching no one is said by a run that ended so; a run whose every target failed says nothing
        # about it (its targets' own alerts speak), so the alert stays until a run reaches someone.
        if report.status is RunStatus.no_targets and report.error_kind is not None:
            scopes.add(Scope.reach)
            targets = ", ".join(report.selectors)  # the subject: what matches no one
            failures[NO_TARGETS_KEY] = Failure(NO_TARGETS_KEY, RUN_ALERTS[report.error_kind],
                                               targets[:200] or source, report.error_reason)
        elif report.reached:
            scopes.add(Scope.reach)
            ok.add(NO_TARGETS_KEY)
    if report.source_renamed_to:
        scopes.add(Scope.source_renamed)
        failures[SOURCE_RENAMED_KEY] = Failure(
            SOURCE_RENAMED_KEY,
            AlertKind.source_renamed,
            source,
            f"{source} was renamed to {report.source_renamed_to}",
            new_email=report.source_renamed_to,
        )
    elif not run_level:  # the source user was read, under the address the job knows
        scopes.add(Scope.source_renamed)
        ok.add(SOURCE_RENAMED_KEY)
    return Observation(failures, frozenset(scopes), frozenset(ok))


@dataclass(frozen=True)
class Known:
    """An active alert, as `decide` needs it."""

    id: int
    key: str
    kind: AlertKind
    state: AlertState
    streak: int = 1
    posted: bool = True


@dataclass(frozen=True)
class Post:
    """Post this failure now. `alert_id`: an existing row to post (a pending one that reached N runs, or
    an open one Slack refused before); None: a new alert."""

    failure: Failure
    streak: int = 1
    alert_id: int | None = None


@dataclass(frozen=True)
class Count:
    """Remember a transient failure without posting it: `streak` consecutive runs so far."""

    failure: Failure
    streak: int
    alert_id: int | None = None


class Cleared(StrEnum):
    ok = "ok"  # the run saw it working again
    gone = "gone"  # the run no longer has it (removed from the targets, left a group...)


@dataclass
class Decision:
    post: list[Post] = field(default_factory=list)
    count: list[Count] = field(default_factory=list)
    resolved: list[tuple[int, Cleared]] = field(default_factory=list)
    superseded: list[int] = field(default_factory=list)  # posted alerts whose subject now fails differently
    forget: list[int] = field(default_factory=list)  # pending alerts that cleared (or changed) before posting

    @property
    def changes_messages(self) -> bool:
        return bool(self.post or self.resolved or self.superseded)


def decide(known: Iterable[Known], observation: Observation, *, transient_after: int) -> Decision:
    """Compare the job's active alerts with one run's observation. Pure."""
    if transient_after < 1:
        raise ValueError("transient_after must be at least 1")
    decision = Decision()
    active: dict[str, Known] = {}
    for alert in known:
        if alert.state in (AlertState.pending, AlertState.open, AlertState.kept):
            active.setdefault(alert.key, alert)
    for key, failure in observation.failures.items():
        previous = active.get(key)
        if previous is not None and previous.kind is failure.kind:
            if previous.state is AlertState.pending:
                streak = previous.streak + 1
                if streak >= transient_after:
                    decision.post.append(Post(failure, streak, previous.id))
                else:
                    decision.count.append(Count(failure, streak, previous.id))
            elif not previous.posted and previous.state is AlertState.open:
                decision.post.append(Post(failure, previous.streak + 1, previous.id))
            continue  # already told: not posted again
        if previous is not None:
            (decision.forget if previous.state is AlertState.pending else decision.superseded).append(previous.id)
        if failure.kind in TRANSIENT_KINDS and transient_after > 1:
            decision.count.append(Count(failure, 1))
        else:
            decision.post.append(Post(failure))
    for key, previous in active.items():
        if key in observation.failures or scope_of(key) not in observation.scopes:
            continue
        if previous.state is AlertState.pending:
            decision.forget.append(previous.id)
        else:
            decision.resolved.append((previous.id, Cleared.ok if key in observation.ok_keys else Cleared.gone))
    return decision
