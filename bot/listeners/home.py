"""App Home: published when a user opens the tab (and re-published by the notifier after each run)."""

from __future__ import annotations

from typing import Any

from slack_bolt import App

from .. import services
from ..context import BotContext


def register(app: App, ctx: BotContext) -> None:
    @app.event("app_home_opened")
    def home_opened(event: dict[str, Any]) -> None:
        if event.get("tab", "home") != "home":
            return
        services.publish_home(ctx, event["user"])
