"""A fake Slack for tests and demos: a recording Web API server (`SlackDouble`) that also serves Socket Mode,
a user who sends correctly signed requests to the bot (`SlackUser`) or envelopes on its Socket Mode connection
(`SocketModeUser`), and checks of what the bot sent (`limits`). `python -m slack_double` runs it by hand.

Nothing in `bot/` or `sync_core/` imports this package; the bot finds the double through SLACK_API_URL.
"""

from .driver import SlackUser, SocketModeUser, sign
from .limits import check_blocks, check_message, check_view
from .server import Call, SlackDouble

__all__ = ["Call", "SlackDouble", "SlackUser", "SocketModeUser", "check_blocks", "check_message", "check_view",
           "sign"]
