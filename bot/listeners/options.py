"""External-select options, answered from the directory snapshot (no Google call per keystroke)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App
from slack_sdk.models.blocks import Option

from ..blocks.common import option
from ..context import BotContext

# How long the very first search may wait for the initial directory read (later ones never wait).
FIRST_LOAD_WAIT_SECONDS = 2.0


def user_options(ctx: BotContext, query: str, *, as_selector: bool) -> list[Option]:
    prefix = "email:" if as_selector else ""
    return [option(f"{u.name} <{u.email}>", prefix + u.email) for u in ctx.cache.search_users(query)]


def group_options(ctx: BotContext, query: str) -> list[Option]:
    return [option(f"{g.name} <{g.email}> · {len(g.member_ids)} members", f"group:{g.email}")
            for g in ctx.cache.search_groups(query)]


def domain_options(ctx: BotContext, query: str, *, as_selector: bool) -> list[Option]:
    prefix = "domain:" if as_selector else ""
    return [option(d, prefix + d) for d in ctx.cache.search_domains(query)]


def role_options(ctx: BotContext, query: str) -> list[Option]:
    return [option(f"{r.name} · {len(r.user_ids)} users", f"role:{r.name}") for r in ctx.cache.search_roles(query)
            if len(f"role:{r.name}") <= 150]


def ou_options(ctx: BotContext, query: str, *, as_selector: bool) -> list[Option]:
    prefix = "ou:" if as_selector else ""
    return [option(p, prefix + p) for p in ctx.cache.search_orgunits(query) if len(prefix + p) <= 150]


def register(app: App, ctx: BotContext) -> None:
    sources: dict[str, Callable[[str], list[Option]]] = {
        "source_user": lambda q: user_options(ctx, q, as_selector=False),
        "domains_select": lambda q: domain_options(ctx, q, as_selector=False),
        "include_ous_select": lambda q: ou_options(ctx, q, as_selector=False),
        "exclude_ous_select": lambda q: ou_options(ctx, q, as_selector=False),
        "pick_users": lambda q: user_options(ctx, q, as_selector=True),
        "pick_groups": lambda q: group_options(ctx, q),
        "pick_domains": lambda q: domain_options(ctx, q, as_selector=True),
        "pick_roles": lambda q: role_options(ctx, q),
        "pick_ous": lambda q: ou_options(ctx, q, as_selector=True),
    }
    for action_id, search in sources.items():
        app.options(action_id)(_answer(ctx, search))


def _answer(ctx: BotContext, search: Callable[[str], list[Option]]) -> Callable[..., None]:
    def answer(ack: Ack, payload: dict[str, Any]) -> None:
        ctx.cache.wait_ready(FIRST_LOAD_WAIT_SECONDS)
        ack(options=search(str(payload.get("value") or "")))

    return answer
