"""Settings only the Slack bot reads: Slack's credentials and URL, who the admins are, the address and port,
the bot's pacing (the engine's live in `sync_core.settings.Settings`; both read the same environment and
`.env`)."""

from __future__ import annotations

import ipaddress
from typing import Annotated

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from sync_core.settings import setting_error


class BotSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # Each description is the setting's meaning in the README's Slack table (generated: contactsync.settings_doc).
    slack_bot_token: SecretStr | None = Field(None, validation_alias="SLACK_BOT_TOKEN",
                                              description="the app's bot token")
    slack_signing_secret: SecretStr | None = Field(None, validation_alias="SLACK_SIGNING_SECRET",
                                                   description="the app's signing secret")
    slack_app_token: SecretStr | None = Field(None, validation_alias="SLACK_APP_TOKEN",
                                              description="an app-level token: Socket Mode instead of HTTP")
    slack_api_url: str | None = Field(
        None, validation_alias="SLACK_API_URL",
        description="another Slack Web API base URL (tests, the demo, `python -m slack_double`)",
        json_schema_extra={"shown_default": "Slack's"},
    )
    admins: Annotated[tuple[str, ...], NoDecode] = Field(
        (), validation_alias="CONTACTSYNC_ADMINS",
        description="Slack user ids allowed to manage syncs (comma-separated)",
    )
    # Members of this Slack user group (id like S0123ABC) are admins too, besides CONTACTSYNC_ADMINS.
    admin_usergroup: str | None = Field(None, validation_alias="CONTACTSYNC_ADMIN_USERGROUP",
                                        description="a Slack user group whose members are admins too")
    admin_channel: str | None = Field(
        None, validation_alias="CONTACTSYNC_ADMIN_CHANNEL",
        description="the channel (id) where requests wait for an admin's Approve or Deny",
    )
    admin_cache_seconds: float = Field(
        300.0, validation_alias="CONTACTSYNC_ADMIN_CACHE_SECONDS", gt=0,
        description="how long a read of that user group's members is trusted, in seconds",
    )
    directory_refresh_seconds: float = Field(
        600.0, validation_alias="CONTACTSYNC_DIRECTORY_REFRESH_SECONDS", gt=0,
        description="how often the pickers' directory cache is re-read",
    )
    # Slack allows 3 s for the answer to a submitted modal.
    submit_budget_seconds: float = Field(
        2.0, validation_alias="CONTACTSYNC_SUBMIT_BUDGET_SECONDS", gt=0, le=2.5,
        description="how long a submitted modal waits for Google before answering \"checking…\" (≤ 2.5)",
    )
    workers: int = Field(2, validation_alias="CONTACTSYNC_BOT_WORKERS", ge=1, le=16,
                         description="threads for slow Slack-side work "
                         "(removing or releasing a deleted sync's contacts)")
    # A balancer probes /readyz every few seconds; Slack need not be asked each time.
    ready_slack_cache_seconds: float = Field(
        60.0, validation_alias="CONTACTSYNC_READY_SLACK_CACHE_SECONDS", gt=0,
        description="how long /readyz trusts Slack's last answer to `auth.test`, in seconds",
    )
    port: int = Field(3000, validation_alias="PORT", ge=1, le=65535, description="HTTP port")
    # Not HOST: tcsh (and some images) export HOST as the machine's name, which would bind to that name.
    host: str = Field(
        "0.0.0.0", validation_alias="CONTACTSYNC_HOST",
        description="the address `serve` listens on (HTTP, and the health and metrics paths in Socket Mode): "
                    "`0.0.0.0` every interface, `127.0.0.1` this host only, or one of its addresses",
    )

    @field_validator("host")
    @classmethod
    def _ip_address(cls, value: str) -> str:
        try:
            return str(ipaddress.ip_address(value.strip()))
        except ValueError:
            raise ValueError("must be an IP address of this host, e.g. 0.0.0.0 or 127.0.0.1") from None

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
