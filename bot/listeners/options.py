"""External-select options, answered from the directory snapshot (no Google call per keystroke)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk.models.blocks import Option

from sync_core.service import TARGET_KINDS, TargetKind

from ..blocks.common import MAX_OPTIONS, option
from ..blocks.modal import EDITORS_SELECT
from ..context import BotContext, Listeners, bot_context

# How long the very first search may wait for the initial directory read (later ones never wait).
FIRST_LOAD_WAIT_SECONDS = 2.0

Search = Callable[[BotContext, str], list[Option]]  # the options for what the admin typed


def user_options(ctx: BotContext, query: str) -> list[Option]:
    return [option(f"{u.name} <{u.email}>", u.email) for u in ctx.cache.search_users(query)]


def domain_options(ctx: BotContext, query: str) -> list[Option]:
    return [option(d, d) for d in ctx.cache.search_domains(query)]


def ou_options(ctx: BotContext, query: str) -> list[Option]:
    return [option(p, p) for p in ctx.cache.search_orgunits(query) if len(p) <= 150]


def target_options(kind: TargetKind) -> Search:
    """A target kind's picker: its options are selector texts (`group:sales@example.com`)."""
    return lambda ctx, q: [option(label, value) for label, value in kind.options(ctx.cache, q)]


def editor_options(ctx: BotContext, query: str) -> list[Option]:
    """Editors are picked as targets are, from every kind step 2 offers a search for (users first, in registry
    order); a select shows 100 options at most."""
    found = [option(label, value) for kind in TARGET_KINDS.values() if not kind.picker.typed
             for label, value in kind.options(ctx.cache, query)]
    return found[:MAX_OPTIONS]


def _answer(search: Search) -> Callable[..., None]:
    def answer(ack: Ack, payload: dict[str, Any], context: BoltContext) -> None:
        ctx = bot_context(context)
        ctx.cache.wait_ready(FIRST_LOAD_WAIT_SECONDS)
        ack(options=search(ctx, str(payload.get("value") or "")))

    return answer


SEARCHES: dict[str, Search] = {
    "source_user": user_options,
    "domains_select": domain_options,
    "include_ous_select": ou_options,
    "exclude_ous_select": ou_options,
    EDITORS_SELECT: editor_options,
    **{kind.picker.field: target_options(kind) for kind in TARGET_KINDS.values() if not kind.picker.typed},
}

LISTENERS: Listeners = tuple(("options", action_id, _answer(search)) for action_id, search in SEARCHES.items())
