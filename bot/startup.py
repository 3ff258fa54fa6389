"""What `serve` checks before it starts, each failure one `SettingsError` line naming what to fix.

The demo runs only when nothing of Google or Slack is configured; a partial configuration (a Slack token
without a Google key, a key without Slack...) is a mistake to name, never a reason to run the demo.
"""

from __future__ import annotations

from sync_core.runtime import Runtime
from sync_core.settings import Settings, SettingsError

from .settings import BotSettings

# What makes `serve` the real bot, by variable name; each is needed once any of them (or one of the
# optional ones below) is set.
REQUIRED_TO_SERVE = (
    "GOOGLE_APPLICATION_CREDENTIALS",
    "CONTACTSYNC_ADMIN_EMAIL",
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
)
# Set alone, these still say "I mean the real bot" (and need the four above).
OPTIONAL_TO_SERVE = ("SLACK_APP_TOKEN", "CONTACTSYNC_ADMINS")

# Each variable's field: in the engine's settings (Google) or the bot's (Slack).
_GOOGLE_FIELDS = {
    "GOOGLE_APPLICATION_CREDENTIALS": "google_application_credentials",
    "CONTACTSYNC_ADMIN_EMAIL": "admin_email",
}
_SLACK_FIELDS = {
    "SLACK_BOT_TOKEN": "slack_bot_token",
    "SLACK_SIGNING_SECRET": "slack_signing_secret",
    "SLACK_APP_TOKEN": "slack_app_token",
    "CONTACTSYNC_ADMINS": "admins",
}


def configured(settings: Settings, bot: BotSettings) -> list[str]:
    """The Google and Slack settings that are set, by variable name."""
    return [name for name, attr in _GOOGLE_FIELDS.items() if getattr(settings, attr)] + [
        name for name, attr in _SLACK_FIELDS.items() if getattr(bot, attr)
    ]


def nothing_configured(settings: Settings, bot: BotSettings) -> bool:
    """No Google and no Slack settings at all: `serve` shows the demo."""
    return not configured(settings, bot)


def missing_to_serve(settings: Settings, bot: BotSettings) -> list[str]:
    given = set(configured(settings, bot))
    return [name for name in REQUIRED_TO_SERVE if name not in given]


def check_complete(settings: Settings, bot: BotSettings) -> None:
    """Refuse a partial configuration, naming what is missing and what was set."""
    missing = missing_to_serve(settings, bot)
    if missing:
        given = " and ".join(configured(settings, bot))
        raise SettingsError(
            f"{' and '.join(missing)}: not set; with {given} set, the bot needs them too "
            "(unset every Google and Slack setting to see the demo)"
        )


def check_runtime(runtime: Runtime) -> None:
    """The database answers and is migrated; the Google key file reads as a service-account key.
    Raises `SettingsError`, `StoreError` or `CredentialsFileError`, each one line."""
    _ = runtime.db  # connects and migrates (StoreError when unreachable)
    _ = runtime.google  # reads the key file (CredentialsFileError when unreadable or not a key)
