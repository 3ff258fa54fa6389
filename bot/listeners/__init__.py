"""Listeners grouped by kind, each module a table of module-level listeners (`LISTENERS`); `register_all` is
the one place that wires them into the app. A listener gets the bot's context from Bolt's (`bot_context`)."""

from __future__ import annotations

from slack_bolt import App

from . import actions, alerts, commands, conflicts, home, members, options, requests, views


def register_all(app: App) -> None:
    for module in (commands, views, actions, alerts, conflicts, options, home, members, requests):
        for decorator, key, listener in module.LISTENERS:
            getattr(app, decorator)(key)(listener)
