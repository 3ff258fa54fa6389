"""`serve`'s first question to Slack: does it answer, and does it accept the bot token (auth.test)?

Bolt asks the same when the app is built, but with the Web client's long timeout and a 300-line traceback
when Slack is out of reach; asked here first, each failure is one `SettingsError` line naming what to fix.
"""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from sync_core.settings import SettingsError

from .settings import BotSettings

TIMEOUT_SECONDS = 5
# The Web client logs a failed request with its traceback; this check reports it in one line instead.
_QUIET = logging.getLogger(__name__ + ".client")
_QUIET.disabled = True


def check_slack(settings: BotSettings, *, timeout: int = TIMEOUT_SECONDS) -> str:
    """The bot's Slack user id, or `SettingsError` when Slack is unreachable or refuses the token."""
    if settings.slack_bot_token is None:
        raise SettingsError("SLACK_BOT_TOKEN: not set (see manifest.yml and the README's Slack section)")
    where = settings.slack_api_url or "https://slack.com/api/"
    client = WebClient(token=settings.slack_bot_token.get_secret_value(), base_url=where.rstrip("/") + "/",
                       timeout=timeout, logger=_QUIET)
    try:
        answer = client.auth_test()
    except SlackApiError as exc:  # Slack answered: the token is wrong, revoked, or not a bot token
        reason = exc.response.get("error", "refused") if exc.response is not None else "refused"
        raise SettingsError(f"SLACK_BOT_TOKEN: Slack refused it at auth.test ({reason}); check the bot token") from None
    except (SlackClientError, OSError, ValueError) as exc:  # no answer: network, DNS, TLS, a bad URL
        setting = "SLACK_API_URL" if settings.slack_api_url else "network"
        raise SettingsError(
            f"{setting}: Slack cannot be reached at {where} ({exc.__class__.__name__}); check the network or proxy"
        ) from None
    return str(answer.get("user_id", ""))
