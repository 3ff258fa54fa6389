"""External-select options, answered from the directory snapshot (no Google call per keystroke)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App
from slack_sdk.models.blocks import Option

from sync_core.service import TARGET_KINDS, TargetKind

from ..blocks.common import option
from ..context import BotContext

# How long the very first search may wait for the initial directory read (later ones never wait).
FIRST_LOAD_WAIT_SECONDS = 2.0


def user_options(ctx: BotContext, query: str) -> list[Option]:
    return [option(f"{u.name} <{u.email}>", u.email) for u in ctx.cache.search_users(query)]


def domain_options(ctx: BotContext, query: str) -> list[Option]:
    return [option(d, d) for d in ctx.cache.search_domains(query)]


def ou_options(ctx: BotContext, query: str) -> list[Option]:
    return [option(p, p) for p in ctx.cache.search_orgunits(query) if len(p) <= 150]


def target_options(ctx: BotContext, kind: TargetKind) -> Callable[[str], list[Option]]:
    """A target kind's picker: its options are selector texts (`group:sales@example.com`)."""
    return lambda q: [option(label, value) for label, value in kind.options(ctx.cache, q)]


def register(app: App, ctx: BotContext) -> None:
    sources: dict[str, Callable[[str], list[Option]]] = {
        "source_user": lambda q: user_options(ctx, q),
        "domains_select": lambda q: domain_options(ctx, q),
        "include_ous_select": lambda q: ou_options(ctx, q),
        "exclude_ous_select": lambda q: ou_options(ctx, q),
    }
    sources.update({kind.picker.field: target_options(ctx, kind) for kind in TARGET_KINDS.values()
                    if not kind.picker.typed})
    for action_id, search in sources.items():
        app.options(action_id)(_answer(ctx, search))


def _answer(ctx: BotContext, search: Callable[[str], list[Option]]) -> Callable[..., None]:
    def answer(ack: Ack, payload: dict[str, Any]) -> None:
        ctx.cache.wait_ready(FIRST_LOAD_WAIT_SECONDS)
        ack(options=search(str(payload.get("value") or "")))

    return answer
