"""Read views: what a listing, a job's page and the modal's target list show, as plain frozen data read in
one session (the rows are detached model instances: read them, never write through them)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine as DbEngine

from sync_core import store
from sync_core.domain.models import (
    Alert,
    AlertState,
    AuditEvent,
    EditorSelector,
    Run,
    SyncJob,
    TargetResult,
    TargetSelector,
    TargetState,
    utcnow,
)
from sync_core.domain.schedule import ScheduleError, parse_schedule
from sync_core.domain.status import SETTLED_STATUSES
from sync_core.kinds import kind_of, typed
from sync_core.observability.metrics import Census, JobSourceChange
from sync_core.run.engine import describe_source
from sync_core.run.targets import Selector, SelectorError, parse_selector
from sync_core.scheduling.scheduler import load_scheduler_settings, plan_next_run
from sync_core.service import rules
from sync_core.service.changes import find_job
from sync_core.service.directory_cache import DirectoryCache

ROW_RUNS = 3  # the latest runs a listing row carries (App Home shows them all, `list` the first)
DETAIL_RUNS = 5
DETAIL_HISTORY = 10

NextRunAt = Callable[[int], datetime | None]  # the scheduler's next time for a job, if it schedules one


@dataclass(frozen=True)
class SourceChange:
    """When the source last changed, and when a run had that change at every target."""

    changed_at: datetime
    reached_at: datetime | None  # None: not at every target yet

    @classmethod
    def of(cls, job: SyncJob) -> SourceChange | None:
        if job.source_changed_at is None:
            return None
        reached = job.source_change_reached_at
        return cls(job.source_changed_at, reached if reached is not None and reached >= job.source_changed_at else None)

    @property
    def took(self) -> timedelta | None:
        """How long the change took to reach the last target."""
        return None if self.reached_at is None else self.reached_at - self.changed_at


@dataclass(frozen=True)
class JobRow:
    """What a listing shows of one job."""

    job: SyncJob
    source: str  # in words: the source address, or "the directory of example.com"
    runs: Sequence[Run] = ()  # the latest few, newest first
    open_alerts: int = 0
    next_run_at: datetime | None = None
    editors: Sequence[EditorSelector] = ()  # who may edit its label (issue 21), as typed
    open_conflicts: int = 0

    @property
    def last_run(self) -> Run | None:
        return self.runs[0] if self.runs else None

    @property
    def source_change(self) -> SourceChange | None:
        return SourceChange.of(self.job)

    @property
    def field_rules(self) -> str:
        """The job's field rules in one line (`jobs show`, App Home)."""
        return rules.job_rules(self.job).summary()


@dataclass(frozen=True)
class JobDetail:
    """One job's page: settings, targets, last runs and history (newest first)."""

    job: SyncJob
    source: str
    selectors: Sequence[TargetSelector] = ()
    runs: Sequence[Run] = ()
    states: Sequence[TargetState] = ()  # one per target account, by address
    history: Sequence[AuditEvent] = ()
    next_run_at: datetime | None = None
    last_failures: Sequence[TargetResult] = ()  # the latest run's failing targets
    alerts: Sequence[Alert] = ()  # open (and kept) alerts, not the pending ones
    adopted: int = 0  # the targets' own contacts the job adopted (--match-existing)
    editors: Sequence[EditorSelector] = ()  # who may edit its label (issue 21), as typed
    open_conflicts: int = 0

    @property
    def source_change(self) -> SourceChange | None:
        return SourceChange.of(self.job)

    @property
    def field_rules(self) -> str:
        """The job's field rules in one line (`jobs show`)."""
        return rules.job_rules(self.job).summary()


@dataclass(frozen=True)
class TargetRow:
    """One selection in the modal's target list."""

    text: str  # the selector, e.g. "group:sales@example.com"
    label: str  # human label, e.g. "Sales (sales@example.com)"
    users: int | None  # active users it resolves to in the directory snapshot; None if it does not parse


def _shown(alerts: Sequence[Alert]) -> list[Alert]:
    """Alerts an admin has seen: a pending one waits for its failure to last before it is posted."""
    return [a for a in alerts if a.state is not AlertState.pending]


def job_rows(db: DbEngine, next_run_at: NextRunAt) -> list[JobRow]:
    with store.session_scope(db) as session:
        rows = []
        for job in store.list_jobs(session):
            assert job.id is not None
            rows.append(JobRow(
                job=job,
                source=describe_source(job),
                runs=tuple(store.last_runs(session, job_id=job.id, limit=ROW_RUNS)),
                open_alerts=len(_shown(store.active_alerts(session, job_id=job.id))),
                next_run_at=next_run_at(job.id),
                editors=tuple(store.list_editors(session, job_id=job.id)),
                open_conflicts=store.open_conflict_count(session, job_id=job.id),
            ))
        return rows


def job_detail(db: DbEngine, name: str, next_run_at: NextRunAt) -> JobDetail:
    job = find_job(db, name)
    assert job.id is not None
    with store.session_scope(db) as session:
        runs = store.last_runs(session, job_id=job.id, limit=DETAIL_RUNS)
        last = runs[0].id if runs else None
        return JobDetail(
            job=job,
            source=describe_source(job),
            selectors=tuple(store.list_selectors(session, job_id=job.id)),
            runs=tuple(runs),
            states=tuple(sorted(store.target_states_for_job(session, job_id=job.id).values(),
                                key=lambda s: s.target_email)),
            history=tuple(store.audit_events(session, job_id=job.id, limit=DETAIL_HISTORY)),
            next_run_at=next_run_at(job.id),
            last_failures=tuple(r for r in store.results_for_run(session, run_id=last)
                                if r.status not in SETTLED_STATUSES) if last is not None else (),
            alerts=tuple(_shown(store.active_alerts(session, job_id=job.id))),
            adopted=store.adopted_count(session, job_id=job.id),
            editors=tuple(store.list_editors(session, job_id=job.id)),
            open_conflicts=store.open_conflict_count(session, job_id=job.id),
        )


def planned_next_run(db: DbEngine, job_id: int, *, now: datetime | None = None) -> datetime | None:
    """When `serve`'s scheduler runs the job next, planned from the store as it plans it (`plan_next_run` from
    the last run's start, else the job's creation): for a process with no scheduler of its own (the CLI).
    None when nothing is scheduled (paused, being deleted, a schedule that never fires)."""
    with store.session_scope(db) as session:
        job = store.get_job(session, job_id=job_id)
        if job is None or not job.enabled or job.deleting:
            return None
        runs = store.last_runs(session, job_id=job_id, limit=1)
    try:
        schedule = parse_schedule(job.schedule)
    except ScheduleError:
        return None
    reference = runs[0].started_at if runs else job.created_at
    grace = load_scheduler_settings().misfire_grace
    return plan_next_run(schedule, reference=reference, now=now or utcnow(), grace=grace).at


def job_state(job: SyncJob) -> str:
    """One state per job for the gauges: a job being deleted is paused too, and counted as deleting only."""
    if job.deleting:
        return "deleting"
    return "enabled" if job.enabled else "paused"


def census(db: DbEngine) -> Census:
    """What the store's gauges show at a scrape: jobs by state, open alerts by kind, per job when its source
    last changed and how long that change took to reach the last target, and per enabled job when its last
    successful run finished."""
    with store.session_scope(db) as session:
        jobs = store.list_jobs(session)
        alerts = store.open_alert_counts(session)
        succeeded = store.last_success_times(session)
    changes = []
    for job in jobs:
        change = SourceChange.of(job)
        if change is not None:
            took = change.took
            changes.append(JobSourceChange(job.name, change.changed_at.timestamp(),
                                           None if took is None else took.total_seconds()))
    last_successes = {}
    for job in jobs:
        at = succeeded.get(job.id) if job.id is not None else None
        if at is not None and job_state(job) == "enabled":
            last_successes[job.name] = at.timestamp()
    return Census(jobs=Counter(job_state(job) for job in jobs),
                  open_alerts=alerts, source_changes=changes, last_successes=last_successes)


def selector_texts(db: DbEngine, job_id: int) -> list[str]:
    """A job's targets as the texts `parse_selector` reads back (the modal edits them as such)."""
    with store.session_scope(db) as session:
        return [typed(s.kind.value, s.value) for s in store.list_selectors(session, job_id=job_id)]


def has_open_alerts(db: DbEngine, job_id: int) -> bool:
    with store.session_scope(db) as session:
        return bool(_shown(store.active_alerts(session, job_id=job_id)))


# --- the modal's targets, from the directory snapshot (no Google call per keystroke) ------------------
def _parse(text: str) -> Selector | None:
    try:
        return parse_selector(text)
    except SelectorError:
        return None


def target_label(cache: DirectoryCache, selector: Selector) -> str:
    return kind_of(selector.kind).label(cache, selector.value)


def target_rows(cache: DirectoryCache, texts: Sequence[str], *, source_email: str | None = None) -> list[TargetRow]:
    rows = []
    for text in texts:
        selector = _parse(text)
        if selector is None:
            rows.append(TargetRow(text, text, None))
            continue
        count = cache.count_users([selector], excluding=source_email)
        rows.append(TargetRow(text, target_label(cache, selector), count))
    return rows


def count_targets(cache: DirectoryCache, texts: Sequence[str], *, source_email: str | None = None) -> int:
    """The users the selections resolve to; the source user is never their own target."""
    return cache.count_users([s for s in (_parse(t) for t in texts) if s is not None], excluding=source_email)


def history_words(detail: dict[str, object]) -> str:
    """An audit entry's detail in words: `field: old -> new` for what an edit changed, `key=value` else."""
    def value(v: object) -> str:
        return ", ".join(map(str, v)) if isinstance(v, list) else ("none" if v is None else str(v))

    parts = []
    for key, v in sorted(detail.items()):
        if isinstance(v, dict) and v.keys() == {"from", "to"}:
            parts.append(f"{key}: {value(v['from'])} -> {value(v['to'])}")
        else:
            parts.append(f"{key}={value(v)}")
    return "; ".join(parts)
