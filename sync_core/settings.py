"""Settings from the environment (and an optional `.env`), validated once at start-up.

A missing or malformed setting becomes one `SettingsError` line naming the variable; secret values
are `SecretStr` so they never reach a log or a traceback. These are the engine's settings (Google, the store,
quotas, alerts); the Slack bot's are `bot.settings.BotSettings`, read from the same environment.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from sync_core.google.quota import Metric, QuotaLimits, parse_project_quotas
from sync_core.sync.deletion_guard import GuardPolicy

GOOGLE_SCOPES_PEOPLE = ("https://www.googleapis.com/auth/contacts",)
GOOGLE_SCOPES_DIRECTORY = (
    "https://www.googleapis.com/auth/admin.directory.user.readonly",
    "https://www.googleapis.com/auth/admin.directory.group.readonly",
    "https://www.googleapis.com/auth/admin.directory.group.member.readonly",
    "https://www.googleapis.com/auth/admin.directory.orgunit.readonly",
    "https://www.googleapis.com/auth/admin.directory.rolemanagement.readonly",
    "https://www.googleapis.com/auth/admin.directory.domain.readonly",
    "https://www.googleapis.com/auth/admin.directory.userschema.readonly",  # custom schemas (--directory-fields)
)
# The domain's shared contacts (people.listDirectoryPeople), read as the admin (--include-shared-contacts).
GOOGLE_SCOPES_DOMAIN_CONTACTS = ("https://www.googleapis.com/auth/directory.readonly",)


# What each Google setting is, in the words of a missing one's error.
GOOGLE_NEEDS = {
    "GOOGLE_APPLICATION_CREDENTIALS": "the service-account key file with domain-wide delegation",
    "CONTACTSYNC_ADMIN_EMAIL": "a Workspace admin the service account impersonates for directory reads",
}


class SettingsError(Exception):
    """A setting is missing or malformed; the message is one line that names the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # Each field's description is its meaning in the README's settings tables, which are generated from these
    # classes (`python -m contactsync.settings_doc`); `shown_default` words a default the value alone would not.
    google_application_credentials: Path | None = Field(
        None, validation_alias="GOOGLE_APPLICATION_CREDENTIALS", description="the service-account key file",
        json_schema_extra={"shown_default": "— (demo mode)"},
    )
    admin_email: str | None = Field(
        None, validation_alias="CONTACTSYNC_ADMIN_EMAIL",
        description="a Workspace admin the service account impersonates for directory reads",
    )
    database_url: str = Field(
        "sqlite:///contactsync.db", validation_alias="DATABASE_URL",
        description="`sqlite:///path.db` or `postgresql://user:pw@host/db`",
    )
    google_api_endpoint: str | None = Field(
        None, validation_alias="CONTACTSYNC_GOOGLE_API_ENDPOINT",
        description="another base URL for both People and Directory APIs (e.g. an emulator)",
        json_schema_extra={"shown_default": "Google's"},
    )

    # Targets making calls at once. Google's quotas are per user, so the pacer, not this, is what bounds a big
    # job (a target waiting for its window holds nothing but its plan); each target sends its mutations one at a
    # time. A target waiting for Google's answer holds no thread (sync_core.google.cooperative): what bounds
    # how many make calls at once is memory, i.e. the contacts-in-flight budget below; this is a ceiling.
    max_parallel_targets: int = Field(
        5000, validation_alias="CONTACTSYNC_MAX_PARALLEL_TARGETS", ge=1, le=10000,
        description="at most this many targets making calls at once (each user's writes stay one at a time, as "
                    "Google asks); the contacts-in-flight budget usually bounds it first, and a target waiting for "
                    "its user's quota window makes room for another",
    )
    # ...and at most this many contacts (the source's size times the targets) in flight at once: what a run
    # holds is a few hundred bytes a contact in flight (a target's read of our contacts, their links, its plan),
    # so this bounds memory. A target new to the job reads none of ours and keeps no links: it counts a quarter
    # (job_run.NEW_TARGET_WEIGHT). A 20,000-contact source syncs 12 targets at a time (50 at its first sync), a
    # 2,000-contact one 125 (500), a 500-contact one 500 (2,000).
    max_contacts_in_flight: int = Field(
        250_000, validation_alias="CONTACTSYNC_MAX_CONTACTS_IN_FLIGHT", ge=1000,
        description="at most this many contacts (source size x targets making calls) at once, and 4 times as many "
                    "of targets waiting for their quota window, which bounds memory (a few hundred bytes each; a "
                    "target's first sync counts a quarter): a 20,000-contact source syncs 12 targets at a time, a "
                    "500-contact one 500 (2,000 at their first sync)",
    )
    # Google's People API quotas per impersonated user (Cloud console defaults); the pacer keeps to them.
    quota_critical_reads: int = Field(
        60, validation_alias="CONTACTSYNC_QUOTA_CRITICAL_READS", ge=6,
        description="Google's People API quota of critical reads per user per window, as your Cloud console shows it",
    )
    quota_critical_writes: int = Field(
        30, validation_alias="CONTACTSYNC_QUOTA_CRITICAL_WRITES", ge=6,
        description="Google's People API quota of critical writes per user per window, as your Cloud console shows "
                    "it",
    )
    quota_deletes_and_group_writes: int = Field(
        30, validation_alias="CONTACTSYNC_QUOTA_DELETES_AND_GROUP_WRITES", ge=10,
        description="Google's People API quota of deletes and contact group writes per user per window, as your "
                    "Cloud console shows it",
    )
    quota_group_reads: int = Field(
        90, validation_alias="CONTACTSYNC_QUOTA_GROUP_READS", ge=1,
        description="Google's People API quota of contact group reads per user per window, as your Cloud console "
                    "shows it",
    )
    quota_photo_writes: int = Field(
        50, validation_alias="CONTACTSYNC_QUOTA_PHOTO_WRITES", ge=1,
        description="Google's People API quota of photo writes per user per window, as your Cloud console shows it",
    )
    quota_daily_writes: int = Field(
        100_000, validation_alias="CONTACTSYNC_QUOTA_DAILY_WRITES", ge=200,
        description="contacts created or updated per user per day",
    )
    quota_window_seconds: float = Field(
        60.0, validation_alias="CONTACTSYNC_QUOTA_WINDOW_SECONDS", gt=0, le=3600,
        description="the length of Google's quota window (change it only for an emulator with a shorter one)",
    )
    # A target gives up (reporting what it wrote) once its waits for quota add up to this.
    quota_max_wait_seconds: float = Field(
        900.0, validation_alias="CONTACTSYNC_QUOTA_MAX_WAIT_SECONDS", gt=0,
        description="how long one target may wait for quota in a run before it stops (keeping what it wrote)",
    )
    # Per-project limits, shared by every process on this database: "critical_write=1200,critical_read=2400"
    # (units per quota window). Google's differ by project; unset, only the per-user limits are kept.
    project_quotas: str = Field(
        "", validation_alias="CONTACTSYNC_PROJECT_QUOTAS",
        description="optional per-project limits shared by every process on the database, e.g. "
                    "`critical_write=1200,critical_read=2400` (units per window)",
        json_schema_extra={"shown_default": "unlimited"},
    )
    retry_attempts: int = Field(
        6, validation_alias="CONTACTSYNC_RETRY_ATTEMPTS", ge=1, le=20,
        description="attempts per Google call on 5xx and Directory rate limits (exponential backoff, jitter, "
                    "`Retry-After`); no answer at all (network) is retried for 5 seconds, then reported as "
                    "`unreachable`",
    )
    retry_max_wait_seconds: float = Field(
        60.0, validation_alias=AliasChoices("CONTACTSYNC_RETRY_MAX_WAIT_SECONDS"), gt=0,
        description="the longest wait between two attempts",
    )
    max_contacts_per_account: int = Field(
        25_000, validation_alias="CONTACTSYNC_MAX_CONTACTS_PER_ACCOUNT", ge=1,
        description="refuse a target that would pass this many contacts",
    )
    log_level: str = Field(
        "INFO", validation_alias="CONTACTSYNC_LOG_LEVEL", pattern="^(DEBUG|INFO|WARNING|ERROR)$",
        description="`serve`'s log level (DEBUG, INFO, WARNING, ERROR); request URLs and tokens are never logged",
    )
    # text: one readable line per event; json: one JSON object per line, with the run id, job and target as fields.
    log_format: str = Field(
        "text", validation_alias="CONTACTSYNC_LOG_FORMAT", pattern="^(text|json)$",
        description="`text`: one line per event, `time LEVEL logger: [run=… job=… target=…] message`; `json`: one "
                    "JSON object per line (see [Health and metrics](#health-and-metrics))",
    )
    full_read_every_hours: float = Field(
        24.0, validation_alias="CONTACTSYNC_FULL_READ_EVERY_HOURS", gt=0,
        description="a full read of each target at least this often (between, sync tokens)",
    )
    # A run renews its job's lease every quarter of this while it lives; a run that died without releasing it
    # (killed on another host, a power cut) blocks the job at most this long. On the same host, a dead
    # holder's lease is taken over at once whatever this says.
    lease_seconds: float = Field(
        45.0, validation_alias="CONTACTSYNC_LEASE_SECONDS", ge=5, le=3600,
        description="how long a run's hold on its job lasts unless renewed (it is renewed every quarter of this "
                    "while the run lives): the longest a run that died on another host blocks the job",
    )
    # Quota and other transient failures are retried by every run; they are alerted only once they have
    # lasted this many consecutive runs.
    alert_transient_runs: int = Field(
        3, validation_alias="CONTACTSYNC_ALERT_TRANSIENT_RUNS", ge=1, le=100,
        description="consecutive runs a quota/transient failure must last before it is alerted",
        json_schema_extra={"table": "alerts"},
    )
    # The mass-deletion guard: a source, or a target set, that loses more than this share of what it had at
    # the last good run, in deletions of at least this many contacts, has those deletions held until an
    # admin applies them (see sync_core.sync.deletion_guard). A share of 1 never holds.
    deletion_guard_share: float = Field(
        0.5, validation_alias="CONTACTSYNC_DELETION_GUARD_SHARE", gt=0, le=1,
        description="deletions are held when the source (or the target set) loses more than this share at once "
                    "(1: never)",
        json_schema_extra={"table": "alerts"},
    )
    deletion_guard_min: int = Field(
        20, validation_alias="CONTACTSYNC_DELETION_GUARD_MIN", ge=1,
        description="...and only when they would delete at least this many contacts",
        json_schema_extra={"table": "alerts"},
    )

    # A Slack user acts as the Google user their verified profile address names (sync_core.service.members):
    # the address -> Google user look-up (and the bot's Slack user -> address) is trusted this long.
    member_cache_seconds: float = Field(
        300.0, validation_alias="CONTACTSYNC_MEMBER_CACHE_SECONDS", ge=0, le=3600,
        description="how long a Slack user's profile address, and the Google user it names, are trusted "
                    "(Leave, Join, `mine`), in seconds; 0: asked every time",
        json_schema_extra={"table": "slack"},
    )
    # The two-person rule (sync_core.service.requests): a change this big waits for a second admin.
    approval_above: int | None = Field(
        None, validation_alias="CONTACTSYNC_APPROVAL_ABOVE", ge=0,
        description="the two-person rule: creating or editing a sync so that it reaches more than this many "
                    "accounts, or deleting one with its contacts, waits for a second admin; unset: off",
        json_schema_extra={"table": "slack", "shown_default": "off"},
    )
    request_expiry_days: float = Field(
        7.0, validation_alias="CONTACTSYNC_REQUEST_EXPIRY_DAYS", gt=0, le=90,
        description="how long a request (a member's, or one waiting for a second admin) may wait for a "
                    "decision, in days; then it expires",
        json_schema_extra={"table": "slack"},
    )

    @field_validator("project_quotas")
    @classmethod
    def _project_quotas_parse(cls, value: str) -> str:
        parse_project_quotas(value)
        return value

    @property
    def project_quota_limits(self) -> dict[Metric, int]:
        return parse_project_quotas(self.project_quotas)

    @field_validator("google_application_credentials")
    @classmethod
    def _credentials_file_exists(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"no such file: {value}")
        return value

    @field_validator("admin_email")
    @classmethod
    def _looks_like_email(cls, value: str | None) -> str | None:
        if value is not None and ("@" not in value or value.startswith("@") or value.endswith("@")):
            raise ValueError("must be an email address")
        return value

    def quota_limits(self) -> QuotaLimits:
        return QuotaLimits(
            per_window={
                Metric.critical_read: self.quota_critical_reads,
                Metric.critical_write: self.quota_critical_writes,
                Metric.delete_group_write: self.quota_deletes_and_group_writes,
                Metric.group_read: self.quota_group_reads,
                Metric.photo_write: self.quota_photo_writes,
                Metric.daily_write: self.quota_daily_writes,
            },
            window_seconds=self.quota_window_seconds,
        )

    def deletion_guard(self) -> GuardPolicy:
        return GuardPolicy(self.deletion_guard_share, self.deletion_guard_min)

    @property
    def google_configured(self) -> bool:
        return self.google_application_credentials is not None

    def require_google(self) -> None:
        """Raise one `SettingsError` line naming every Google setting a call to Google needs and lacks (the
        key file, the admin to impersonate): a setup mistake to fix, never a failed run."""
        missing = [name for name, value in (("GOOGLE_APPLICATION_CREDENTIALS", self.google_application_credentials),
                                            ("CONTACTSYNC_ADMIN_EMAIL", self.admin_email)) if not value]
        if missing:
            raise SettingsError(f"{' and '.join(missing)}: not set ({'; '.join(GOOGLE_NEEDS[m] for m in missing)})")


def setting_error(exc: ValidationError, model: type[BaseSettings]) -> SettingsError:
    """The first validation problem as one line naming the environment variable (never its value)."""
    first = exc.errors()[0]
    loc = str(first["loc"][0]) if first["loc"] else "?"
    field = model.model_fields.get(loc)
    alias = field.validation_alias if field else None
    if isinstance(alias, AliasChoices):
        alias = alias.choices[0]
    name = alias if isinstance(alias, str) else loc.upper()
    return SettingsError(f"{name}: {first['msg']}")


def load_settings(**overrides: object) -> Settings:
    """Read settings; raise `SettingsError` (one line, naming the variable) when one is bad."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise setting_error(exc, Settings) from None
