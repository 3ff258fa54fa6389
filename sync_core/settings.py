"""Settings from the environment (and an optional `.env`), validated once at start-up.

A missing or malformed setting becomes one `SettingsError` line naming the variable; secret values
are `SecretStr` so they never reach a log or a traceback. These are the engine's settings (Google, the store,
quotas, alerts); the Slack bot's are `bot.settings.BotSettings`, read from the same environment.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .deletion_guard import GuardPolicy
from .google.quota import Metric, QuotaLimits, parse_project_quotas

GOOGLE_SCOPES_PEOPLE = ("https://www.googleapis.com/auth/contacts",)
GOOGLE_SCOPES_DIRECTORY = (
    "https://www.googleapis.com/auth/admin.directory.user.readonly",
    "https://www.googleapis.com/auth/admin.directory.group.readonly",
    "https://www.googleapis.com/auth/admin.directory.group.member.readonly",
    "https://www.googleapis.com/auth/admin.directory.orgunit.readonly",
    "https://www.googleapis.com/auth/admin.directory.rolemanagement.readonly",
    "https://www.googleapis.com/auth/admin.directory.domain.readonly",
)


# What each Google setting is, in the words of a missing one's error.
GOOGLE_NEEDS = {
    "GOOGLE_APPLICATION_CREDENTIALS": "the service-account key file with domain-wide delegation",
    "CONTACTSYNC_ADMIN_EMAIL": "a Workspace admin the service account impersonates for directory reads",
}


class SettingsError(Exception):
    """A setting is missing or malformed; the message is one line that names the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = Field("sqlite:///contactsync.db", validation_alias="DATABASE_URL")
    google_application_credentials: Path | None = Field(
        None, validation_alias="GOOGLE_APPLICATION_CREDENTIALS"
    )
    admin_email: str | None = Field(None, validation_alias="CONTACTSYNC_ADMIN_EMAIL")
    google_api_endpoint: str | None = Field(None, validation_alias="CONTACTSYNC_GOOGLE_API_ENDPOINT")

    # Targets in flight at once. Google's quotas are per user, so the pacer, not this, is what bounds a big
    # job; each target still sends its own mutations one at a time.
    max_parallel_targets: int = Field(64, validation_alias="CONTACTSYNC_MAX_PARALLEL_TARGETS", ge=1, le=1000)
    # ...and at most this many contacts (the source's size times the targets) in flight at once: what a run
    # holds is a few hundred bytes a contact in flight, so this bounds memory for big sources (20,000
    # contacts: 12 targets at a time) without slowing small ones (2,000 contacts: the 64 above).
    max_contacts_in_flight: int = Field(
        250_000, validation_alias="CONTACTSYNC_MAX_CONTACTS_IN_FLIGHT", ge=1000
    )
    # Google's People API quotas per impersonated user (Cloud console defaults); the pacer keeps to them.
    quota_window_seconds: float = Field(60.0, validation_alias="CONTACTSYNC_QUOTA_WINDOW_SECONDS", gt=0, le=3600)
    quota_critical_reads: int = Field(60, validation_alias="CONTACTSYNC_QUOTA_CRITICAL_READS", ge=6)
    quota_critical_writes: int = Field(30, validation_alias="CONTACTSYNC_QUOTA_CRITICAL_WRITES", ge=6)
    quota_deletes_and_group_writes: int = Field(
        30, validation_alias="CONTACTSYNC_QUOTA_DELETES_AND_GROUP_WRITES", ge=10
    )
    quota_group_reads: int = Field(90, validation_alias="CONTACTSYNC_QUOTA_GROUP_READS", ge=1)
    quota_photo_writes: int = Field(50, validation_alias="CONTACTSYNC_QUOTA_PHOTO_WRITES", ge=1)
    quota_daily_writes: int = Field(100_000, validation_alias="CONTACTSYNC_QUOTA_DAILY_WRITES", ge=200)
    # Per-project limits, shared by every process on this database: "critical_write=1200,critical_read=2400"
    # (units per quota window). Google's differ by project; unset, only the per-user limits are kept.
    project_quotas: str = Field("", validation_alias="CONTACTSYNC_PROJECT_QUOTAS")
    # A target gives up (reporting what it wrote) once its waits for quota add up to this.
    quota_max_wait_seconds: float = Field(900.0, validation_alias="CONTACTSYNC_QUOTA_MAX_WAIT_SECONDS", gt=0)
    retry_attempts: int = Field(6, validation_alias="CONTACTSYNC_RETRY_ATTEMPTS", ge=1, le=20)
    retry_max_wait_seconds: float = Field(
        60.0, validation_alias=AliasChoices("CONTACTSYNC_RETRY_MAX_WAIT_SECONDS"), gt=0
    )
    max_contacts_per_account: int = Field(
        25_000, validation_alias="CONTACTSYNC_MAX_CONTACTS_PER_ACCOUNT", ge=1
    )
    log_level: str = Field("INFO", validation_alias="CONTACTSYNC_LOG_LEVEL", pattern="^(DEBUG|INFO|WARNING|ERROR)$")
    # text: one readable line per event; json: one JSON object per line, with the run id, job and target as fields.
    log_format: str = Field("text", validation_alias="CONTACTSYNC_LOG_FORMAT", pattern="^(text|json)$")
    full_read_every_hours: float = Field(24.0, validation_alias="CONTACTSYNC_FULL_READ_EVERY_HOURS", gt=0)
    # A run renews its job's lease every quarter of this while it lives; a run that died without releasing it
    # (killed on another host, a power cut) blocks the job at most this long. On the same host, a dead
    # holder's lease is taken over at once whatever this says.
    lease_seconds: float = Field(45.0, validation_alias="CONTACTSYNC_LEASE_SECONDS", ge=5, le=3600)
    # Quota and other transient failures are retried by every run; they are alerted only once they have
    # lasted this many consecutive runs.
    alert_transient_runs: int = Field(3, validation_alias="CONTACTSYNC_ALERT_TRANSIENT_RUNS", ge=1, le=100)
    # The mass-deletion guard: a source, or a target set, that loses more than this share of what it had at
    # the last good run, in deletions of at least this many contacts, has those deletions held until an
    # admin applies them (see sync_core.deletion_guard). A share of 1 never holds.
    deletion_guard_share: float = Field(0.5, validation_alias="CONTACTSYNC_DELETION_GUARD_SHARE", gt=0, le=1)
    deletion_guard_min: int = Field(20, validation_alias="CONTACTSYNC_DELETION_GUARD_MIN", ge=1)

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
