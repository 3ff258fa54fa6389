"""The real Bolt app over HTTP (waitress, as `serve` runs it) against the Slack double, the Google
emulator and a temporary SQLite database."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from slack_bolt import App

from bot.app import build_app, context_of
from bot.context import BotContext
from bot.serve import http_server
from bot.settings import load_bot_settings
from slack_double import SlackDouble, SlackUser, check_message, check_view
from sync_core.runtime import Runtime
from sync_core.scheduling.scheduler import SchedulerSettings, SyncScheduler
from tests.conftest import Google
from tests.integration.helpers import make_runtime

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TOKEN = "xoxb-0000-test-token"
ADMIN = "UADMIN0001"
OTHER = "UOTHER0002"
GROUP_ADMIN = "UGROUP0003"
USERGROUP = "S0ADMINS01"
CHANNEL = "C0CSYNC01"


@dataclass
class Bot:
    double: SlackDouble
    url: str
    runtime: Runtime
    ctx: BotContext
    google: Google
    scheduler: SyncScheduler | None = None
    app: App | None = None  # the Bolt app behind the server, for tests that dispatch to it directly
    secret: str = SECRET

    def user(self, user_id: str = ADMIN, **kw: Any) -> SlackUser:
        return SlackUser(self.double, self.url, self.secret, user_id=user_id, **kw)

    @property
    def admin(self) -> SlackUser:
        return self.user(ADMIN, user_name="ada")

    @property
    def other(self) -> SlackUser:
        return self.user(OTHER, user_name="otto")

    def problems(self) -> list[str]:
        """Everything the bot sent that is not valid Block Kit or exceeds a limit."""
        found = [f"view {v.get('callback_id') or v.get('type')}: {p}" for v in self.double.sent_views()
                 for p in check_view(v)]
        found += [f"message {m.get('text', '')[:40]!r}: {p}" for m in self.double.sent_messages()
                  for p in check_message(m)]
        return found


def start_bot(google: Google, tmp_path: Path, *, with_scheduler: bool = False, token: str = TOKEN,
              secret: str = SECRET, **settings: Any) -> Iterator[Bot]:
    """The bot over HTTP; `with_scheduler`: as `serve` runs it, with a started scheduler (no reconcile)."""
    with SlackDouble() as double:
        double.usergroups[USERGROUP] = [GROUP_ADMIN]
        runtime = make_runtime(google, f"sqlite:///{tmp_path / 'bot.db'}", **settings)
        bot_settings = load_bot_settings(SLACK_BOT_TOKEN=token, SLACK_SIGNING_SECRET=secret,
                                         SLACK_API_URL=double.api_url, CONTACTSYNC_ADMINS=ADMIN,
                                         CONTACTSYNC_ADMIN_USERGROUP=USERGROUP)
        scheduler = None
        if with_scheduler:
            scheduler = SyncScheduler(db=runtime.db, engine=runtime.engine,
                                      settings=SchedulerSettings(reconcile_seconds=0, shutdown_timeout_seconds=10))
        app = build_app(runtime, bot_settings=bot_settings,
                        start_cache=False, scheduler=scheduler)
        ctx = context_of(app)
        ctx.cache.refresh()
        if scheduler is not None:
            scheduler.start()
        with http_server(app, host="127.0.0.1", port=0) as url:
            try:
                yield Bot(double, url, runtime, ctx, google, scheduler, app, secret)
            finally:
                if scheduler is not None:
                    scheduler.shutdown(timeout=10)
                ctx.shutdown()


@pytest.fixture
def bot(google: Google, tmp_path: Path) -> Iterator[Bot]:
    yield from start_bot(google, tmp_path)
