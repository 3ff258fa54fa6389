"""Seeding jobs directly through sync_core (for tests that are not about creating them)."""

from __future__ import annotations

from sync_core.service import PersonalJobSpec
from sync_core.service.create import create_personal_job

from .conftest import CHANNEL, Bot


def make_job(bot: Bot, name: str = "Partners", *targets: str, alert: str | None = CHANNEL) -> str:
    seed = bot.google.seed
    spec = PersonalJobSpec(name=name, source_email=seed.source_email, group_name=seed.source_group_name,
                           targets=list(targets) or ["email:dave@example.com"], alert_channel=alert)
    return create_personal_job(bot.runtime.db, spec=spec, directory=bot.runtime.directory(),
                               people_for=bot.runtime.people).name
