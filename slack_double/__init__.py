"""A fake Slack for tests and demos: a recording Web API server (`SlackDouble`), a user who sends
correctly signed requests to the bot (`SlackUser`), and checks of what the bot sent (`limits`).

Nothing in `bot/` or `sync_core/` imports this package; the bot finds the double through SLACK_API_URL.
"""

from .driver import SlackUser, sign
from .limits import check_blocks, check_message, check_view
from .server import Call, SlackDouble

__all__ = ["Call", "SlackDouble", "SlackUser", "check_blocks", "check_message", "check_view", "sign"]
