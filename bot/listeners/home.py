"""App Home: published when a user opens the tab (and re-published by the notifier after each run)."""

from __future__ import annotations

from typing import Any

from slack_bolt import BoltContext

from .. import services
from ..context import Listeners, bot_context


def home_opened(event: dict[str, Any], context: BoltContext) -> None:
    ctx = bot_context(context)
    user = event.get("user")
    if event.get("tab", "home") != "home" or not isinstance(user, str) or not user:
        return  # another tab, or no user to publish it for (Slack always names one)
    services.publish_home(ctx, user)


LISTENERS: Listeners = (
    ("event", "app_home_opened", home_opened),
)
