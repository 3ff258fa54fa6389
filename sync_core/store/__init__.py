"""The database: engine, schema upgrades, sessions, and the queries the engine and the service use,
one module per table group (jobs, target_state, runs, links, source_cache, audit, alerts, leases).

Usage::

    engine = open_database(settings.database_url)   # normalise, connect, migrate to head
    with session_scope(engine) as session:           # commit on success, rollback on error
        job = create_job(session, job_in=SyncJobCreate(...), created_by="U123")

Query functions take the `Session` first and everything else by keyword. They `flush()` (so ids
exist) but do not commit: the caller owns the transaction, which lets the engine commit once
per target. The exceptions are `acquire_lease`/`release_lease`, which commit, because a lease
only means something once other processes can see it.
"""

from __future__ import annotations

from .alerts import (
    active_alerts,
    add_alert,
    alerts_of_message,
    claim_alerts_for_posting,
    close_alert,
    delete_alert,
    get_alert,
    open_alert_counts,
    release_alert_claims,
    set_alert_message,
    update_alert,
)
from .audit import audit_events, last_audit_at, record_audit
from .database import (
    DEFAULT_DATABASE_URL,
    MIGRATIONS,
    SQLITE_BUSY_TIMEOUT_SECONDS,
    alembic_config,
    connect,
    is_outage,
    make_engine,
    normalise_url,
    open_database,
    outage,
    session_scope,
    upgrade,
)
from .drafts import add_draft, delete_draft, delete_expired_drafts, get_draft, save_draft
from .errors import DatabaseUnavailable, DuplicateJobName, StoreConfigError, StoreError
from .jobs import (
    advance_source_token,
    claim_slot,
    claim_watch,
    create_job,
    delete_job,
    get_job,
    get_job_by_name,
    job_names,
    list_jobs,
    list_selectors,
    set_selectors,
    update_job,
    watchable_job_ids,
)
from .leases import LeaseGrant, ProcessProbe, acquire_lease, lease_for_job, release_lease, renew_lease
from .links import (
    delete_links,
    link_counts,
    link_rows,
    linked_resource_names,
    links_for_target,
    save_link_changes,
    upsert_link,
)
from .runs import (
    RunCounts,
    abandon_running_runs,
    add_target_result,
    finish_run,
    last_runs,
    results_for_run,
    runs_started_since,
    start_run,
)
from .source_cache import (
    delete_source_contact,
    replace_source_contacts,
    source_contacts,
    source_keys,
    source_rows,
    source_versions,
    upsert_source_contact,
)
from .target_state import (
    TargetStateChanges,
    delete_target_state,
    ensure_target_state,
    force_full_reads,
    label_keepers,
    target_states_for_job,
    upsert_target_state,
)

__all__ = [
    "advance_source_token",
    "watchable_job_ids",
    "DEFAULT_DATABASE_URL",
    "DatabaseUnavailable",
    "DuplicateJobName",
    "LeaseGrant",
    "MIGRATIONS",
    "ProcessProbe",
    "RunCounts",
    "SQLITE_BUSY_TIMEOUT_SECONDS",
    "StoreConfigError",
    "StoreError",
    "TargetStateChanges",
    "abandon_running_runs",
    "acquire_lease",
    "active_alerts",
    "add_alert",
    "add_draft",
    "claim_alerts_for_posting",
    "claim_slot",
    "claim_watch",
    "delete_draft",
    "delete_expired_drafts",
    "get_draft",
    "release_alert_claims",
    "save_draft",
    "add_target_result",
    "alembic_config",
    "alerts_of_message",
    "audit_events",
    "close_alert",
    "connect",
    "create_job",
    "delete_alert",
    "delete_job",
    "delete_links",
    "delete_source_contact",
    "delete_target_state",
    "finish_run",
    "is_outage",
    "force_full_reads",
    "get_alert",
    "open_alert_counts",
    "get_job",
    "get_job_by_name",
    "job_names",
    "label_keepers",
    "last_audit_at",
    "last_runs",
    "lease_for_job",
    "link_counts",
    "link_rows",
    "linked_resource_names",
    "links_for_target",
    "list_jobs",
    "list_selectors",
    "make_engine",
    "normalise_url",
    "open_database",
    "outage",
    "record_audit",
    "release_lease",
    "renew_lease",
    "replace_source_contacts",
    "results_for_run",
    "runs_started_since",
    "save_link_changes",
    "session_scope",
    "set_alert_message",
    "set_selectors",
    "source_contacts",
    "source_keys",
    "source_versions",
    "source_rows",
    "start_run",
    "target_states_for_job",
    "update_alert",
    "update_job",
    "upgrade",
    "upsert_link",
    "upsert_source_contact",
    "upsert_target_state",
    "ensure_target_state",
]
