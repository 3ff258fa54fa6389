"""What a run writes to the store: per-target state and links (committed target by target), results and
the run's totals. (The lease kept while it goes on: `lease_keeper`.)"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine as DbEngine

from sync_core import store
from sync_core.domain.models import Run, RunStatus, SyncJob, utcnow
from sync_core.domain.reports import RunReport, TargetReport
from sync_core.domain.status import TargetStatus
from sync_core.run.target_model import LinkWrite, TargetMemory, TargetOutcome
from sync_core.run.targets import TargetUser
from sync_core.sync.deletion_guard import applies_deletions
from sync_core.sync.plan import LinkState


def _link_rows(job_id: int, user_id: str, writes: list[LinkWrite]) -> dict[str, store.LinkRow]:
    """One target's links as the store's rows, one a source key (its last write), made in one pass: a first sync
    stores a link for every contact of every target."""
    return {
        w.source_key: (job_id, user_id, w.source_key, w.target_resource_name, w.content_hash, w.target_etag, w.photo,
                       w.adopted)
        for w in writes
    }


def _by_target(handed: Sequence[tuple[int, str, list[LinkWrite]]]) -> list[list[store.LinkRow]]:
    """Handed-on links as the store's rows, one list a target (a later write of a key wins), so that a commit
    makes a statement per 250 links of a target rather than one per batch it handed on."""
    rows: dict[tuple[int, str], dict[str, store.LinkRow]] = {}
    for job_id, user_id, writes in handed:
        rows.setdefault((job_id, user_id), {}).update(_link_rows(job_id, user_id, writes))
    return [list(target_rows.values()) for target_rows in rows.values()]


def _save_links(session: Any, job_id: int, user_id: str, outcome: TargetOutcome) -> None:
    """A finished target's last links (written, then those dropped)."""
    store.save_link_rows(session, list(_link_rows(job_id, user_id, outcome.link_writes).values()))
    if outcome.dropped_links:
        store.delete_links(session, job_id=job_id, target_user_id=user_id, source_keys=outcome.dropped_links)


def _result_row(run_id: int, target: TargetReport, *, job_id: int) -> store.TargetResultRow:
    return store.TargetResultRow(
        run_id=run_id,
        job_id=job_id,
        target_user_id=target.user_id,
        target_email=target.email,
        status=target.status,
        reason=target.reason[:500],
        new_email=target.new_email,
        created=target.created,
        updated=target.updated,
        deleted=target.deleted,
        unchanged=target.unchanged,
    )


def _state_changes(user: TargetUser, outcome: TargetOutcome) -> store.TargetStateChanges:
    """What a target's state row keeps of its outcome (fields left out keep their value)."""
    ok = outcome.status is TargetStatus.ok
    changes: store.TargetStateChanges = {
        "target_email": user.email,
        "last_status": outcome.status,
        "last_reason": outcome.reason,
        # A failed target keeps no token: the next run reads it in full and adopts by tags.
        "sync_token": outcome.sync_token if ok else None,
    }
    if outcome.group_resource_name:
        changes["target_group_resource_name"] = outcome.group_resource_name
    if ok and outcome.full_read:
        changes["last_full_read_at"] = utcnow()
    # Only a target that ended in sync keeps a version; any other outcome makes the next run plan it.
    changes["source_version"] = outcome.source_version if ok else None
    # What it wrote, as its token's next read will list it (see TargetSync._our_writes_alone). A run that
    # wrote nothing leaves none: its token is past the last run's writes, whose digest is spent (a digest kept
    # would send every later read that lists anything to a second read).
    changes["echo_digest"] = outcome.echo_digest if ok else None
    return changes


class RunRecords:
    def __init__(self, db: DbEngine) -> None:
        self.db = db

    def finish(self, run_id: int, report: RunReport) -> None:
        with store.session_scope(self.db) as session:
            run = session.get(Run, run_id)
            assert run is not None
            store.finish_run(
                session,
                run=run,
                status=report.status,
                error_kind=report.error_kind,
                error_reason=report.error_reason[:500],
                created=report.total("created"),
                updated=report.total("updated"),
                deleted=report.total("deleted"),
                unchanged=report.total("unchanged"),
                targets_total=len(report.targets),
                targets_ok=len(report.targets) - len(report.failed_targets),
                targets_failed=len(report.failed_targets),
                api_calls=report.api_calls,
            )
            if report.status is RunStatus.ok:
                _mark_change_reached(session, report.job_id)

    def deletions_applied(self, job_id: int, run_id: int | None) -> bool:
        """Whether, since the last run before `run_id`, an admin decided the deletions the guard would hold
        (applied them, confirmed an empty source, removed targets, edited what the job covers): this run is
        the first since, and lets them through."""
        with store.session_scope(self.db) as session:
            runs = [r for r in store.last_runs(session, job_id=job_id, limit=2) if r.id != run_id]
            events = store.audit_events(session, job_id=job_id, limit=50)
        since = runs[0].started_at if runs else None
        return any(applies_deletions(e.action, e.detail or {}) for e in events if since is None or e.at > since)

    def link_counts(self, job_id: int, user_ids: list[str]) -> dict[str, int]:
        with store.session_scope(self.db) as session:
            return store.link_counts(session, job_id=job_id, target_user_ids=user_ids)

    def links(self, job_id: int, user_id: str) -> dict[str, LinkState]:
        with store.session_scope(self.db) as session:
            rows = store.link_rows(session, job_id=job_id, target_user_id=user_id)
        return {
            k: LinkState(k, rn, content_hash, etag or "", photo, adopted)
            for k, (rn, content_hash, etag, photo, adopted) in rows.items()
        }

    def others_last_writes(self, job_id: int) -> dict[str, datetime]:
        """Where other jobs' last runs wrote (and they have not run there since): user id -> when."""
        with store.session_scope(self.db) as session:
            return store.others_last_writes(session, job_id=job_id)

    def memory(
        self, job_id: int, user_id: str, state: Any, full_read_after: Any, *, has_links: bool = True,
        others_wrote_at: datetime | None = None,
    ) -> TargetMemory:
        """What the store knows of one target; its links are read when the sync first asks for them.
        `others_wrote_at`: when another job's last run that wrote there finished, if one did."""

        def load() -> dict[str, LinkState]:
            return self.links(job_id, user_id)

        def linked(resource_names: list[str]) -> set[str]:
            with store.session_scope(self.db) as session:
                return store.linked_resource_names(
                    session, job_id=job_id, target_user_id=user_id, resource_names=resource_names
                )

        if state is None:
            if not has_links:  # a new target (see `reached`): nothing of ours there to read from the store
                return TargetMemory(load_links=dict, linked=lambda _names: set())
            return TargetMemory(load_links=load, linked=linked)
        last_full = state.last_full_read_at
        return TargetMemory(
            group_resource_name=state.target_group_resource_name,
            sync_token=state.sync_token,
            full_read_due=last_full is None or last_full < full_read_after,
            load_links=load,
            linked=linked,
            source_version=state.source_version,
            echo_digest=state.echo_digest,
            others_wrote_since=others_wrote_at is not None and others_wrote_at > state.updated_at,
        )

    def persist_target(
        self,
        job_id: int,
        user: TargetUser,
        outcome: TargetOutcome,
        leaving: bool,
        *,
        result: tuple[int, TargetReport] | None = None,
    ) -> None:
        """One target's links, state and (given `result`: run id, report) its result row, in one commit."""
        with store.session_scope(self.db) as session:
            self._persist(session, job_id, user, outcome, leaving, result)

    def target_batch(self, size: int) -> TargetBatch:
        """A buffer, for one run, of its finished targets: stored `size` at a time in one commit."""
        return TargetBatch(self, size)

    def persist_many(
        self, entries: list[tuple[int, TargetUser, TargetOutcome, tuple[int, TargetReport] | None]], *,
        handed: Sequence[tuple[int, str, list[LinkWrite]]] = (),
    ) -> None:
        """Finished targets (see TargetBatch), in one commit and a few statements: their results in one INSERT,
        their states in one UPDATE (what `_persist` stores for each, row by row); first the links targets
        handed on before their end (`handed`: job id, user id, links), in the order they came."""
        results: list[store.TargetResultRow] = []
        states: dict[int, dict[str, store.TargetStateChanges]] = {}
        with store.session_scope(self.db) as session:
            for rows in _by_target(handed):
                store.save_link_rows(session, rows)
            for job_id, user, outcome, result in entries:
                assert user.user_id is not None
                if result is not None:
                    results.append(_result_row(*result, job_id=job_id))
                _save_links(session, job_id, user.user_id, outcome)
                states.setdefault(job_id, {})[user.user_id] = _state_changes(user, outcome)
            store.add_target_results(session, results)
            for job_id, changes in states.items():
                store.upsert_target_states(session, job_id=job_id, changes=changes)

    def _persist(
        self,
        session: Any,
        job_id: int,
        user: TargetUser,
        outcome: TargetOutcome,
        leaving: bool,
        result: tuple[int, TargetReport] | None,
    ) -> None:
        assert user.user_id is not None
        if result is not None:
            self._add_result(session, *result, job_id=job_id)
        if leaving and outcome.status is TargetStatus.removed:
            store.delete_links(session, job_id=job_id, target_user_id=user.user_id)
            store.delete_target_state(session, job_id=job_id, target_user_id=user.user_id)
            return
        _save_links(session, job_id, user.user_id, outcome)
        store.upsert_target_state(session, job_id=job_id, target_user_id=user.user_id,
                                  **_state_changes(user, outcome))

    def reached(self, job_id: int, users: list[TargetUser]) -> set[str]:
        """A first state row for each account the job is about to write to (they have none yet), in one commit;
        the ids of those where the job nonetheless holds links (a state removed by hand: their links are read
        as any target's). The others have none to read: a first sync makes no query per target for them."""
        ids = [(user.user_id, user.email) for user in users if user.user_id is not None]
        if not ids:
            return set()
        with store.session_scope(self.db) as session:
            store.ensure_target_states(session, job_id=job_id, targets=ids)
            return store.users_with_links(session, job_id=job_id, target_user_ids=[uid for uid, _ in ids])

    def forget_target(self, job_id: int, user_id: str) -> None:
        """A former target whose account is gone: nothing left to clean at Google."""
        with store.session_scope(self.db) as session:
            store.delete_links(session, job_id=job_id, target_user_id=user_id)
            store.delete_target_state(session, job_id=job_id, target_user_id=user_id)

    def remember_email_ids(self, job_id: int, rows: list[Any], email_ids: dict[str, str]) -> None:
        pending = [r for r in rows if r.kind.value == "email" and not r.resolved_user_id and r.value in email_ids]
        if not pending:
            return
        with store.session_scope(self.db) as session:
            for row in pending:
                fresh = session.get(type(row), row.id)
                if fresh is not None:
                    fresh.resolved_user_id = email_ids[row.value]
                    session.add(fresh)

    def add_result(self, run_id: int, job_id: int, target: TargetReport) -> None:
        with store.session_scope(self.db) as session:
            self._add_result(session, run_id, target, job_id=job_id)

    @staticmethod
    def _add_result(session: Any, run_id: int, target: TargetReport, *, job_id: int) -> None:
        store.add_target_result(session, **_result_row(run_id, target, job_id=job_id))


class TargetBatch:
    """What one run's targets wrote and have not stored yet, stored many to a commit: the links each target hands
    on as Google takes each of its batches (`add_links`), and finished targets (their results, states and last
    links: `add`). At the first sync of thousands of targets, a commit per target queued the workers on the
    database, and links held by each target until its end made a run's memory grow with its targets in flight;
    here they wait for the run's next commit instead, whoever wrote them. Whatever a crash loses of them costs a
    read, never a contact: its state row is there since before its first write (`reached`), so a state that
    missed its token is read in full next run, and the contacts whose links were lost with it are linked again
    by our tag (see BatchWriter). A commit stores links before states, in the order they came: a target's state
    is never stored without the links it handed on. A batch is stored once it holds `size` targets or
    `max_links` links, or its oldest waited `max_age` seconds, and at the run's end."""

    def __init__(self, records: RunRecords, size: int, *, max_links: int = 20_000, max_age: float = 5.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.records = records
        self.size = size
        self.max_links = max_links
        self.max_age = max_age
        self.clock = clock
        self._lock = threading.Lock()  # whoever adds (the run's targets, on its thread) and fills a batch stores it
        self._pending: list[tuple[int, TargetUser, TargetOutcome, tuple[int, TargetReport] | None]] = []
        self._handed: list[tuple[int, str, list[LinkWrite]]] = []  # (job id, user id, links) handed on
        self._links = 0  # the links waiting: handed on, and those the pending targets carry
        self._since = 0.0  # when the oldest of them was added

    def add_links(self, job_id: int, user_id: str, writes: list[LinkWrite]) -> None:
        """Links a target wrote and handed on before its end (see BatchWriter): stored with the next commit."""
        self._queue(lambda: self._handed.append((job_id, user_id, writes)), len(writes), target=False)

    def add(
        self, job_id: int, user: TargetUser, outcome: TargetOutcome, result: tuple[int, TargetReport] | None
    ) -> None:
        outcome.plan = None  # what waits here is what gets stored: a target's plan is no longer needed
        self._queue(lambda: self._pending.append((job_id, user, outcome, result)), len(outcome.link_writes),
                    target=True)

    def _queue(self, append: Callable[[], None], links: int, *, target: bool) -> None:
        with self._lock:
            if not self._pending and not self._handed:
                self._since = self.clock()
            append()
            self._links += links
            due = ((target and len(self._pending) >= self.size) or self._links >= self.max_links
                   or self.clock() - self._since >= self.max_age)
        if due:
            self.flush()

    def flush(self) -> None:
        with self._lock:
            pending, handed = self._pending, self._handed
            self._pending, self._handed, self._links = [], [], 0
        if pending or handed:
            self.records.persist_many(pending, handed=handed)


def _mark_change_reached(session: Any, job_id: int) -> None:
    """A run that ended with every target in sync has the source's last change everywhere: the first such
    run after a change says when it reached the last target."""
    job = session.get(SyncJob, job_id)
    if job is None or job.source_changed_at is None:
        return
    if job.source_change_reached_at is None or job.source_change_reached_at < job.source_changed_at:
        job.source_change_reached_at = utcnow()
        session.add(job)
