"""Settings only the Slack bot reads: Slack's credentials and URL, who the admins are, the port, the bot's
pacing (the engine's live in `sync_core.settings.Settings`; both read the same environment and `.env`)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from sync_core.settings import setting_error


class BotSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    slack_bot_token: SecretStr | None = Field(None, validation_alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(None, validation_alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(None, validation_alias="SLACK_APP_TOKEN")
    slack_api_url: str | None = Field(None, validation_alias="SLACK_API_URL")
    admins: Annotated[tuple[str, ...], NoDecode] = Field((), validation_alias="CONTACTSYNC_ADMINS")
    port: int = Field(3000, validation_alias="PORT", ge=1, le=65535)
    # Members of this Slack user group (id like S0123ABC) are admins too, besides CONTACTSYNC_ADMINS.
    admin_usergroup: str | None = Field(None, validation_alias="CONTACTSYNC_ADMIN_USERGROUP")
    # How long a read of the user group's members is trusted, in seconds.
    admin_cache_seconds: float = Field(300.0, validation_alias="CONTACTSYNC_ADMIN_CACHE_SECONDS", gt=0)
    # How often the directory snapshot behind the pickers is re-read from Google, in seconds.
    directory_refresh_seconds: float = Field(600.0, validation_alias="CONTACTSYNC_DIRECTORY_REFRESH_SECONDS", gt=0)
    # How long a submitted modal waits for Google's checks before it answers "still checking" (Slack allows 3 s).
    submit_budget_seconds: float = Field(2.0, validation_alias="CONTACTSYNC_SUBMIT_BUDGET_SECONDS", gt=0, le=2.5)
    # Threads that run syncs (and contact removals) started from Slack.
    workers: int = Field(2, validation_alias="CONTACTSYNC_BOT_WORKERS", ge=1, le=16)
    # How long /readyz trusts Slack's last answer to auth.test, in seconds (a balancer probes every few seconds).
    ready_slack_cache_seconds: float = Field(60.0, validation_alias="CONTACTSYNC_READY_SLACK_CACHE_SECONDS", gt=0)

    @field_validator("admins", mode="before")
    @classmethod
    def _split_admins(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value


def load_bot_settings(**overrides: object) -> BotSettings:
    """Read the bot's settings; a bad value becomes one `SettingsError` line naming the variable."""
    try:
        return BotSettings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise setting_error(exc, BotSettings) from None
