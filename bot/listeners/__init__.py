"""Listeners grouped by kind; `register_all` is the one place that wires them into the app."""

from __future__ import annotations

from slack_bolt import App

from ..context import BotContext
from . import actions, alerts, commands, home, options, views


def register_all(app: App, ctx: BotContext) -> None:
    for module in (commands, views, actions, alerts, options, home):
        module.register(app, ctx)
