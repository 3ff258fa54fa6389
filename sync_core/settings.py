"""Settings from the environment (and an optional `.env`), validated once at start-up.

A missing or malformed setting becomes one `SettingsError` line naming the variable; secret values
are `SecretStr` so they never reach a log or a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

GOOGLE_SCOPES_PEOPLE = ("https://www.googleapis.com/auth/contacts",)
GOOGLE_SCOPES_DIRECTORY = (
    "https://www.googleapis.com/auth/admin.directory.user.readonly",
    "https://www.googleapis.com/auth/admin.directory.group.readonly",
    "https://www.googleapis.com/auth/admin.directory.group.member.readonly",
    "https://www.googleapis.com/auth/admin.directory.orgunit.readonly",
    "https://www.googleapis.com/auth/admin.directory.rolemanagement.readonly",
    "https://www.googleapis.com/auth/admin.directory.domain.readonly",
)


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

    slack_bot_token: SecretStr | None = Field(None, validation_alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(None, validation_alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(None, validation_alias="SLACK_APP_TOKEN")
    slack_api_url: str | None = Field(None, validation_alias="SLACK_API_URL")
    admins: Annotated[tuple[str, ...], NoDecode] = Field((), validation_alias="CONTACTSYNC_ADMINS")
    port: int = Field(3000, validation_alias="PORT", ge=1, le=65535)

    max_parallel_targets: int = Field(4, validation_alias="CONTACTSYNC_MAX_PARALLEL_TARGETS", ge=1, le=64)
    retry_attempts: int = Field(6, validation_alias="CONTACTSYNC_RETRY_ATTEMPTS", ge=1, le=20)
    retry_max_wait_seconds: float = Field(
        60.0, validation_alias=AliasChoices("CONTACTSYNC_RETRY_MAX_WAIT_SECONDS"), gt=0
    )
    max_contacts_per_account: int = Field(
        25_000, validation_alias="CONTACTSYNC_MAX_CONTACTS_PER_ACCOUNT", ge=1
    )
    log_level: str = Field("INFO", validation_alias="CONTACTSYNC_LOG_LEVEL", pattern="^(DEBUG|INFO|WARNING|ERROR)$")
    full_read_every_hours: float = Field(24.0, validation_alias="CONTACTSYNC_FULL_READ_EVERY_HOURS", gt=0)
    # Quota and other transient failures are retried by every run; they are alerted only once they have
    # lasted this many consecutive runs.
    alert_transient_runs: int = Field(3, validation_alias="CONTACTSYNC_ALERT_TRANSIENT_RUNS", ge=1, le=100)

    @field_validator("admins", mode="before")
    @classmethod
    def _split_admins(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

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

    @property
    def google_configured(self) -> bool:
        return self.google_application_credentials is not None


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
