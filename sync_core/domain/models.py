"""SQLModel tables for ContactSync, plus the Create/Update shapes the store is handed.

Conventions:
- Every user is identified by Google's immutable id (`*_user_id`); emails are stored next to it
  for display and for detecting renames, never used as a key.
- Enums are Python `StrEnum`s stored as plain strings (`StrEnumType`), so adding a value never
  needs an `ALTER TYPE`, and reads come back as enum members.
- Timestamps are timezone-aware UTC in Python (`UTCDateTime`), on SQLite and PostgreSQL alike.
- The schema is owned by alembic (`sync_core/migrations`); a test checks these models and the
  migrations never drift apart.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

from pydantic import field_validator, model_validator
from sqlalchemy import JSON, BigInteger, DateTime, Dialect, Index, String, Text, UniqueConstraint, func, text
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

from sync_core.domain.status import TargetStatus
from sync_core.kinds import kind_of

# Deterministic constraint names: alembic can then drop/alter them by name (and batch mode on
# SQLite can recreate tables without losing them).
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = SQLModel.metadata

ENUM_LENGTH = 32
JOB_NAME_MAX = 80


def utcnow() -> datetime:
    return datetime.now(UTC)


# --------------------------------------------------------------------------- column types

E = TypeVar("E", bound=StrEnum)


class StrEnumType(TypeDecorator[E], Generic[E]):
    """A `StrEnum` stored as a plain VARCHAR; reads return enum members."""

    impl = String
    cache_ok = True

    def __init__(self, enum_cls: type[E]) -> None:
        super().__init__(length=ENUM_LENGTH)
        self.enum_cls = enum_cls

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return self.enum_cls(value).value

    def process_result_value(self, value: Any, dialect: Dialect) -> E | None:
        if value is None:
            return None
        return self.enum_cls(value)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out. Naive datetimes are refused rather than guessed at.

    SQLite has no time zone type, so values are stored there as naive UTC (which also keeps
    string comparison in SQL correct); PostgreSQL gets `timestamp with time zone`.
    """

    impl = DateTime
    cache_ok = True

    def __init__(self) -> None:
        super().__init__(timezone=True)

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise ValueError(f"expected an aware datetime, got {value!r}")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _created_at() -> Any:
    return Field(default_factory=utcnow, sa_type=UTCDateTime())


# --------------------------------------------------------------------------- vocabularies


class JobKind(StrEnum):
    personal = "personal"  # one user's contact group -> targets
    directory = "directory"  # the Workspace directory (users of some domains/OUs) -> targets


class OptOut(StrEnum):
    """Whether a job's targets may leave it themselves (Slack's Leave): a target who left keeps out of its runs
    however the selectors resolve, until they re-join."""

    never = "never"
    allowed = "allowed"


class SelectorKind(StrEnum):
    email = "email"
    group = "group"
    domain = "domain"
    role = "role"
    orgunit = "orgunit"
    query = "query"  # a Directory users.list query (stored as text: no migration, see StrEnumType)


class RunStatus(StrEnum):
    running = "running"
    ok = "ok"
    partial = "partial"
    failed = "failed"
    abandoned = "abandoned"  # was `running` when its process died; found by the next lease holder
    # Ran to the end, but its targets resolve to no one: nothing failed, and nobody gets the contacts (a
    # warning, alerted as `AlertKind.no_targets`, not `ok`).
    no_targets = "no_targets"


class RunTrigger(StrEnum):
    manual = "manual"
    schedule = "schedule"
    cli = "cli"
    slack = "slack"
    watch = "watch"  # the source watch saw a change and ran the job at once


class AlertKind(StrEnum):
    """What an alert is about; each kind has its own plain-words text and its own one-click fixes."""

    target_renamed = "target_renamed"  # an `email:` target's address changed; still synced (by id)
    target_missing = "target_missing"  # no such user (deleted), or a group/role that no longer exists
    target_suspended = "target_suspended"
    target_forbidden = "target_forbidden"  # delegation or scopes
    target_too_many = "target_too_many"  # the account holds too many contacts
    target_conflict = "target_conflict"  # another job keeps a label of this job's name there
    target_transient = "target_transient"  # quota or other errors: alerted only once they persist
    target_unreachable = "target_unreachable"  # Google out of reach (network): alerted only once it persists
    source_renamed = "source_renamed"  # the source user's address changed; followed by id
    source_group_missing = "source_group_missing"
    source_missing = "source_missing"  # the source user is deleted or suspended
    source_empty = "source_empty"  # the safety valve stopped the run
    deletions_held = "deletions_held"  # the mass-deletion guard held deletions (the rest was synced)
    source_failed = "source_failed"  # any other lasting run-level failure (e.g. forbidden)
    source_transient = "source_transient"  # quota or other errors at the source
    source_unreachable = "source_unreachable"  # Google out of reach while reading the source
    no_targets = "no_targets"  # the run's targets resolve to no one: nobody gets the contacts


class AlertState(StrEnum):
    pending = "pending"  # a transient failure not yet seen in enough consecutive runs: not posted
    open = "open"  # posted; waits for a fix or for a run where it clears
    kept = "kept"  # an admin chose "keep and retry later": still watched, never posted again
    fixed = "fixed"  # closed by a one-click fix
    resolved = "resolved"  # a later run found it cleared
    superseded = "superseded"  # the same target now fails differently; a newer alert replaced it


ACTIVE_ALERT_STATES = frozenset({AlertState.pending, AlertState.open, AlertState.kept})


# --------------------------------------------------------------------------- jobs


class SyncJobBase(SQLModel):
    name: str = Field(min_length=1, max_length=JOB_NAME_MAX, unique=True)
    kind: JobKind = Field(sa_type=StrEnumType(JobKind))
    source_user_id: str | None = None
    source_email: str | None = None
    source_group_resource_name: str | None = None
    source_group_name: str | None = None
    target_group_name: str = Field(min_length=1)
    add_to_my_contacts: bool = True
    description: str = ""
    directory_domains: list[str] = Field(default_factory=list, sa_type=JSON)
    include_ous: list[str] = Field(default_factory=list, sa_type=JSON)
    exclude_ous: list[str] = Field(default_factory=list, sa_type=JSON)
    include_self: bool = False
    include_aliases: bool = False  # directory: also copy a user's alias addresses
    # directory: more of the directory on the card, as `SOURCE=TARGET` rules (sync_core.domain.directory_fields)
    directory_fields: list[str] = Field(default_factory=list, sa_type=JSON)
    # directory: the domain's shared contacts join the users (their sync token is `source_sync_token`)
    include_shared_contacts: bool = False
    schedule: str = "every 60m"
    alert_channel: str | None = None
    enabled: bool = True
    opt_out: OptOut = Field(default=OptOut.never, sa_type=StrEnumType(OptOut))  # may a target leave it?
    joinable: bool = False  # an open sync: anyone in the Workspace may add themselves as a target (Join)
    # Field rules (sync_core.domain.field_rules): the People fields copied (None: the default set), those the
    # targets own once filled, and whether a first sync adopts a target's own contact ("email").
    copy_fields: list[str] | None = Field(default=None, sa_type=JSON)
    keep_target_fields: list[str] = Field(default_factory=list, sa_type=JSON)
    match_existing: str | None = None
    # Editors (`EditorSelector`) may delete contacts of the shared label (else their deletions are put back).
    editors_can_delete: bool = False


class SyncJob(SyncJobBase, table=True):
    __tablename__ = "sync_job"
    # Names are unique ignoring case (the service compares them casefolded; this catches a race between
    # two creators). SQLite's lower() folds ASCII only; PostgreSQL's folds every letter.
    # AUTOINCREMENT: SQLite would otherwise give a deleted job's id to the next job, and with it the deleted
    # job's history (`audit_event` outlives the job) and its place in "which job came first" (migration 0011).
    __table_args__ = (
        Index("uq_sync_job_name_lower", func.lower(text("name")), unique=True),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    # What our ownership tags at Google carry: unique across databases, so a restored or rebuilt
    # database never mistakes another job's contacts for this one's.
    uid: str = Field(default_factory=lambda: uuid.uuid4().hex, max_length=32, unique=True)
    source_sync_token: str | None = Field(default=None, sa_type=Text)
    # When the source last changed (its newest edit's updateTime, as Google reports it) and when a run
    # had that change at every target: their difference is how long a source edit takes to propagate.
    source_changed_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    source_change_reached_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    # A delete that could not remove the contacts at every account keeps the job (paused) until a retry
    # finishes: once the row is gone, nothing could clean up what is left. No run runs a deleting job.
    deleting: bool = False
    # With `deleting`: the delete keeps the contacts, released to the users (our tags go; contacts and label
    # stay), instead of removing them. A retried delete finishes what the first one chose.
    keep_contacts: bool = False
    # When a scheduler last took a scheduled slot of this job (its own clock at the fire). Every replica's
    # scheduler fires the slot; the one whose conditional UPDATE moves this on runs it (`sync_core.scheduling.slots`).
    slot_claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    # The last source watch any replica claimed (sync_core.scheduling.watch): one watch per job and interval.
    watched_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    created_by: str
    created_at: datetime = _created_at()
    updated_at: datetime = _created_at()


def _clean_job_name(cls: type, name: str | None) -> str | None:
    if name is None:
        return None
    name = name.strip()
    if not name:
        raise ValueError("a job name cannot be blank")
    return name


class SyncJobCreate(SyncJobBase):
    """What a caller (Slack modal, CLI) supplies to create a job; validated."""

    strip_name = field_validator("name")(_clean_job_name)

    @model_validator(mode="after")
    def _source_matches_kind(self) -> SyncJobCreate:
        if self.kind is JobKind.personal:
            missing = [
                field
                for field in ("source_user_id", "source_email", "source_group_resource_name")
                if not getattr(self, field)
            ]
            if missing:
                raise ValueError(f"a personal job needs {', '.join(missing)}")
        return self


class SyncJobUpdate(SQLModel):
    """Fields an admin may change after creation; unset fields are left alone. `kind` is fixed."""

    name: str | None = Field(default=None, min_length=1, max_length=JOB_NAME_MAX)
    source_user_id: str | None = None
    source_email: str | None = None
    source_group_resource_name: str | None = None
    source_group_name: str | None = None
    target_group_name: str | None = Field(default=None, min_length=1)
    add_to_my_contacts: bool | None = None
    description: str | None = None
    directory_domains: list[str] | None = None
    include_ous: list[str] | None = None
    exclude_ous: list[str] | None = None
    include_self: bool | None = None
    include_aliases: bool | None = None
    directory_fields: list[str] | None = None
    include_shared_contacts: bool | None = None
    schedule: str | None = None
    alert_channel: str | None = None
    enabled: bool | None = None
    deleting: bool | None = None
    keep_contacts: bool | None = None
    source_sync_token: str | None = None
    opt_out: OptOut | None = None
    joinable: bool | None = None
    copy_fields: list[str] | None = None
    keep_target_fields: list[str] | None = None
    match_existing: str | None = None
    editors_can_delete: bool | None = None

    strip_name = field_validator("name")(_clean_job_name)

    @model_validator(mode="after")
    def _required_fields_stay_set(self) -> SyncJobUpdate:
        cleared = sorted(
            field
            for field in self.model_fields_set - _CLEARABLE_JOB_FIELDS
            if getattr(self, field) is None
        )
        if cleared:
            raise ValueError(f"these job fields cannot be cleared: {', '.join(cleared)}")
        return self


_CLEARABLE_JOB_FIELDS = frozenset(
    {
        "source_user_id",
        "source_email",
        "source_group_resource_name",
        "source_group_name",
        "alert_channel",
        "source_sync_token",
        "copy_fields",  # back to the default set
        "match_existing",  # no adoption
    }
)


# --------------------------------------------------------------------------- targets


class SelectorBase(SQLModel):
    kind: SelectorKind = Field(sa_type=StrEnumType(SelectorKind))
    value: str = Field(min_length=1)
    resolved_user_id: str | None = None  # Google immutable id, for email selectors
    resolved_email: str | None = None


class SelectorCreate(SelectorBase):
    @model_validator(mode="after")
    def _normalise_value(self) -> SelectorCreate:
        value = self.value.strip()
        if value:
            value = kind_of(self.kind).parse(value)  # e.g. addresses and domains are case-insensitive at Google
        if not value:
            raise ValueError("a selector value cannot be blank")
        self.value = value
        return self


class TargetSelector(SelectorBase, table=True):
    __tablename__ = "target_selector"
    __table_args__ = (UniqueConstraint("job_id", "kind", "value"),)

    id: int | None = Field(default=None, primary_key=True)
    job_id: int = Field(foreign_key="sync_job.id", ondelete="CASCADE")


class EditorSelector(SelectorBase, table=True):
    """Who may edit a personal job's label (issue 21): selectors of the same kinds as the targets, resolved
    again every run. An editor always receives the label too; the source user is always an editor."""

    __tablename__ = "editor_selector"
    __table_args__ = (UniqueConstraint("job_id", "kind", "value"),)

    id: int | None = Field(default=None, primary_key=True)
    job_id: int = Field(foreign_key="sync_job.id", ondelete="CASCADE")


class TargetState(SQLModel, table=True):
    """The engine's memory of one user who is, or was, a target of a job."""

    __tablename__ = "target_state"

    job_id: int = Field(foreign_key="sync_job.id", ondelete="CASCADE", primary_key=True)
    target_user_id: str = Field(primary_key=True)
    target_email: str
    target_group_resource_name: str | None = None
    sync_token: str | None = Field(default=None, sa_type=Text)
    last_status: TargetStatus | None = Field(default=None, sa_type=StrEnumType(TargetStatus))
    last_reason: str = ""
    last_full_read_at: datetime | None = Field(default=None, sa_type=UTCDateTime())  # vs. incremental
    # The source (and target-side settings) digest this target last finished a sync with: see migration 0004.
    source_version: str | None = Field(default=None, max_length=64)
    # What the last run wrote there, as echo_digest() of (resourceName, etag): see migration 0004.
    echo_digest: str | None = Field(default=None, max_length=64)
    updated_at: datetime = _created_at()


class QuotaUsage(SQLModel, table=True):
    """Units of one per-project quota metric spent in one window, by every process of the deployment."""

    __tablename__ = "quota_usage"

    metric: str = Field(primary_key=True, max_length=32)
    window_start: int = Field(primary_key=True, sa_type=BigInteger)  # epoch seconds // window length
    units: int = 0


# --------------------------------------------------------------------------- runs


class Run(SQLModel, table=True):
    __tablename__ = "run"
    __table_args__ = (Index("ix_run_job_id_started_at", "job_id", "started_at"),)

    id: int | None = Field(default=None, primary_key=True)
    job_id: int = Field(foreign_key="sync_job.id", ondelete="CASCADE")
    trigger: RunTrigger = Field(sa_type=StrEnumType(RunTrigger))
    dry_run: bool = False
    started_at: datetime = _created_at()
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    status: RunStatus = Field(default=RunStatus.running, sa_type=StrEnumType(RunStatus))
    error_kind: TargetStatus | None = Field(default=None, sa_type=StrEnumType(TargetStatus))
    error_reason: str = ""
    created: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    targets_total: int = 0
    targets_ok: int = 0
    targets_failed: int = 0
    api_calls: int = 0


class TargetResult(SQLModel, table=True):
    __tablename__ = "target_result"
    __table_args__ = (Index("ix_target_result_job_id_target_user_id", "job_id", "target_user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="run.id", ondelete="CASCADE", index=True)
    job_id: int
    target_user_id: str | None = None  # None when the selector never resolved to a user
    target_email: str
    status: TargetStatus = Field(sa_type=StrEnumType(TargetStatus))
    reason: str = ""
    new_email: str | None = None  # for `renamed`
    created: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0


class Alert(SQLModel, table=True):
    """One failure told to Slack (or counted, while `pending`), from the run that found it until it is
    fixed, resolved or superseded. The alerts one run posted share one message (`channel`, `message_ts`),
    which is re-rendered from these rows whenever one of them changes.

    `key` names what failed: `user:<google id>`, `target:<selector value>` (a target with no user id),
    `source` or `source_renamed`. At most one alert per (job, key) is active (pending/open/kept).
    """

    __tablename__ = "alert"
    __table_args__ = (
        Index("ix_alert_job_id_state", "job_id", "state"),
        Index("ix_alert_channel_message_ts", "channel", "message_ts"),
    )

    id: int | None = Field(default=None, primary_key=True)
    job_id: int = Field(foreign_key="sync_job.id", ondelete="CASCADE")
    key: str
    kind: AlertKind = Field(sa_type=StrEnumType(AlertKind))
    state: AlertState = Field(sa_type=StrEnumType(AlertState))
    subject: str  # the address (or group, role) shown
    user_id: str | None = None
    new_email: str | None = None  # renamed target or source: the address it has now
    reason: str = ""
    streak: int = 1  # consecutive runs that saw it (transient failures are posted once this reaches N)
    run_id: int | None = None  # the run that opened it
    channel: str | None = None
    message_ts: str | None = None  # None while not (yet) posted
    # Set by the process about to post it (a conditional UPDATE), so two replicas never both post it;
    # a claim older than `sync_core.store.alerts.POST_CLAIM_SECONDS` (its poster died) may be taken again.
    posting_since: datetime | None = Field(default=None, sa_type=UTCDateTime())
    opened_at: datetime = _created_at()
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    closed_by: str | None = None  # Slack user id of whoever pressed the button; None for a run
    outcome: str = ""  # what closed it, in words, shown in the message


# --------------------------------------------------------------------------- sync state


class SourceContact(SQLModel, table=True):
    """Cache of the source side, so an incremental source read can still plan every target."""

    __tablename__ = "source_contact"

    job_id: int = Field(foreign_key="sync_job.id", ondelete="CASCADE", primary_key=True)
    source_key: str = Field(primary_key=True)  # source resourceName, or directory user id
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    content_hash: str
    photo: str | None = None  # fingerprint of the source's photo (its URL or etag), if it has one
    # What the source said of the contact's version when its payload was made (a directory user's card version:
    # their etag with the job's mapping; see run.directory_source); None: not known, the payload is made again.
    version: str | None = None


class ContactLink(SQLModel, table=True):
    """One contact we created in a target account, and the source contact it mirrors.

    The unique (job_id, target_user_id, source_key) index also serves lookups by
    (job_id, target_user_id) through its leftmost columns, so there is no separate index.
    """

    __tablename__ = "contact_link"
    __table_args__ = (UniqueConstraint("job_id", "target_user_id", "source_key"),)

    id: int | None = Field(default=None, primary_key=True)
    job_id: int = Field(foreign_key="sync_job.id", ondelete="CASCADE")
    target_user_id: str
    source_key: str
    target_resource_name: str
    content_hash: str
    target_etag: str | None = None
    photo: str | None = None  # fingerprint of the source photo last written to this contact
    adopted: bool = False  # the target's own contact, adopted (--match-existing): released, never deleted


class JobOptOut(SQLModel, table=True):
    """A target who left a job (Slack's Leave, on a job whose `opt_out` is allowed): no run writes to them,
    whatever the selectors say, and the next run removes what the job wrote there. Keyed by Google's id; the
    address is for display (and `jobs opt-outs --clear EMAIL`)."""

    __tablename__ = "job_opt_out"

    job_id: int = Field(foreign_key="sync_job.id", ondelete="CASCADE", primary_key=True)
    user_id: str = Field(primary_key=True)
    email: str
    actor: str  # who left: the member's Slack user id (only they may), or "cli"
    at: datetime = _created_at()


# --------------------------------------------------------------------------- audit, leases


class AuditEvent(SQLModel, table=True):
    """Who did what. `job_id` has no foreign key so the history outlives the job."""

    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    job_id: int | None = Field(default=None, index=True)
    job_name: str = ""
    actor: str  # Slack user id, or "cli"
    action: str
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime(), index=True)


class JobLease(SQLModel, table=True):
    """At most one run of a job at a time, across processes; stale after `expires_at` (its holder renews
    it while it runs). Where its holder runs (host, boot, pid and the pid's start time) lets a run on the
    same host take over at once from a holder whose process is gone (see `sync_core.leases.lease_policy`)."""

    __tablename__ = "job_lease"

    job_id: int = Field(foreign_key="sync_job.id", ondelete="CASCADE", primary_key=True)
    holder: str
    acquired_at: datetime = Field(sa_type=UTCDateTime())
    expires_at: datetime = Field(sa_type=UTCDateTime())
    host: str | None = Field(default=None, max_length=255)
    boot_id: str | None = Field(default=None, max_length=64)
    pid: int | None = None
    pid_started: int | None = Field(default=None, sa_type=BigInteger())


# --------------------------------------------------------------------------- drafts


class StoredDraft(SQLModel, table=True):
    """A draft (a create/edit form half filled in) as the database keeps it between requests, so any replica
    can carry it on. The payload is opaque here
    (the bot's modal state, as JSON text); `version` grows with every save, and a save based on an older
    version is refused (optimistic concurrency). Expired rows are deleted lazily."""

    __tablename__ = "draft"

    id: str = Field(primary_key=True, max_length=64)
    owner: str = Field(max_length=64)  # who started it (a Slack user id); the payload's business otherwise
    version: int = 1
    payload: str = Field(sa_type=Text)
    expires_at: datetime = Field(sa_type=UTCDateTime(), index=True)


# --------------------------------------------------------------------------- editors: the merge's base and conflicts


class MergeBase(SQLModel, table=True):
    """The last-synced version of one source contact of a job with editors: what the source and every copy
    last agreed on, the base a three-way merge tells changes by (`sync_core.sync.merge`). One row per source
    contact and job, not per target: it grows with the source only. Advanced once the source holds a merge's
    result, never before (a run cut off in between merges again)."""

    __tablename__ = "merge_base"

    job_id: int = Field(foreign_key="sync_job.id", ondelete="CASCADE", primary_key=True)
    source_key: str = Field(primary_key=True)  # source resourceName
    content: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)  # the canonical synced fields
    content_hash: str  # content_hash(content): a write only when it changed


class MergeBaseVersion(SQLModel, table=True):
    """A version of one source contact that we wrote to editors' copies while the job's base was held back (an
    editor's account failing): what an editor's link names by its content hash, so that editor's changes are
    told against what they received, not against the older base (`sync_core.sync.merge`). Gone once the base
    moves on: every editor's copy then holds the base."""

    __tablename__ = "merge_base_version"

    job_id: int = Field(foreign_key="sync_job.id", ondelete="CASCADE", primary_key=True)
    source_key: str = Field(primary_key=True)  # source resourceName
    content_hash: str = Field(primary_key=True)  # the source contact's hash, as our links name what they hold
    content: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)  # the canonical synced fields


class ConflictState(StrEnum):
    open = "open"  # reported; the winner stands, the losing values can still be put back
    resolved = "resolved"  # an admin kept the winner, or put a losing value back


class MergeConflict(SQLModel, table=True):
    """Sides changed one field of one contact to different values: the value that won, every value that lost,
    who set each (`sync_core.sync.merge.Conflict`). Listed by `jobs show` and Slack until resolved. `identity`
    names the decision, so a run merging the same edits again (cut off before its base advanced) does not
    report it twice while it is open."""

    __tablename__ = "merge_conflict"
    __table_args__ = (Index("ix_merge_conflict_job_id_state", "job_id", "state"),)

    id: int | None = Field(default=None, primary_key=True)
    job_id: int = Field(foreign_key="sync_job.id", ondelete="CASCADE")
    run_id: int | None = None  # the run that found it
    found_at: datetime = _created_at()
    contact_key: str  # the source contact's key
    contact_field: str  # a People field name, or "contact" for a delete against an edit
    why: str  # "source wins", "later edit wins", ...
    winner: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)  # {"value", "sides", "updated"}
    losers: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)  # the same, one per losing value
    identity: str = Field(max_length=64)
    state: ConflictState = Field(default=ConflictState.open, sa_type=StrEnumType(ConflictState))
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    resolved_by: str | None = None  # Slack user id, or "cli"
    resolution: str = ""  # what was done, in words ("kept", "put back editor:123's value")
    # Its Slack message (issue 21): claimed by one replica (`posting_since`), then where it was posted.
    posting_since: datetime | None = Field(default=None, sa_type=UTCDateTime())
    channel: str | None = None
    message_ts: str | None = None


# --------------------------------------------------------------------------- requests: changes that wait for an admin


class RequestState(StrEnum):
    pending = "pending"  # waiting for an admin; nothing of it exists yet (no job, no write)
    approved = "approved"  # carried out (`job_id` names the job)
    denied = "denied"  # refused, with a reason
    expired = "expired"  # nobody decided in time


class ChangeRequest(SQLModel, table=True):
    """A change that waits for an admin: a member's request for a sync of their own, or an admin's change that
    the two-person rule holds for a second admin. It holds the change as the spec the service validates (JSON),
    so approving it runs the same checks as creating it directly. The id is random and unguessable (it is the
    value of the Approve and Deny buttons); every decision is one conditional UPDATE from `pending`, so a
    request is decided once, however many replicas are asked at the same moment."""

    __tablename__ = "change_request"
    __table_args__ = (Index("ix_change_request_state_created_at", "state", "created_at"),)

    id: str = Field(primary_key=True, max_length=64)
    change: str = Field(max_length=ENUM_LENGTH)  # create_personal, create_directory, edit, delete
    job_name: str  # the sync it creates, or the one it changes or deletes
    spec: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)  # the spec's fields
    reach: int | None = None  # the accounts its targets reach (when it was asked)
    why: str = ""  # why it waits: a member's request, or the two-person rule's reasons
    requested_by: str  # who asked: a Slack user id, or "cli"
    requester_email: str | None = None  # a member's Google address (their own account is the source)
    requester_user_id: str | None = None  # ... and Google's immutable id
    state: RequestState = Field(default=RequestState.pending, sa_type=StrEnumType(RequestState))
    decided_by: str | None = None
    reason: str = ""  # why it was denied
    created_at: datetime = _created_at()
    expires_at: datetime = Field(sa_type=UTCDateTime())
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    job_id: int | None = None  # the job it created or changed, once approved (no foreign key: history outlives it)
    channel: str | None = None  # where the admins' message about it is (updated once it is decided)
    message_ts: str | None = None
    # When its expiry was claimed to be told (the requester's DM, the admins' message): by one replica, once.
    expiry_told_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
