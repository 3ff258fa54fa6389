"""Block Kit limits and small helpers every builder uses, so no builder can exceed a limit by accident."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, Option, PlainTextObject

from sync_core.service import RunStatus

# https://docs.slack.dev/reference/block-kit/blocks (limits)
MAX_VIEW_BLOCKS = 100
MAX_MESSAGE_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_CONTEXT_ELEMENTS = 10
MAX_OPTIONS = 100
MAX_OPTION_TEXT = 75
MAX_OPTION_VALUE = 150
MAX_HEADER_TEXT = 150
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_VIEW_TITLE = 24
MAX_PRIVATE_METADATA = 3000
MAX_FALLBACK_TEXT = 3000

STATUS_EMOJI = {
    RunStatus.ok: ":white_check_mark:",
    RunStatus.partial: ":warning:",
    RunStatus.failed: ":x:",
    RunStatus.running: ":hourglass_flowing_sand:",
    RunStatus.abandoned: ":grey_question:",
    RunStatus.no_targets: ":warning:",
}


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def clip(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, with an ellipsis when cut."""
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"


def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mrkdwn(text: str, limit: int = MAX_SECTION_TEXT) -> MarkdownTextObject:
    return MarkdownTextObject(text=clip(text, limit))


def plain(text: str, limit: int = MAX_SECTION_TEXT) -> PlainTextObject:
    return PlainTextObject(text=clip(text, limit), emoji=True)


def option(text: str, value: str) -> Option:
    if len(value) > MAX_OPTION_VALUE:
        raise ValueError(f"option value longer than {MAX_OPTION_VALUE} characters: {value[:40]}…")
    return Option(text=plain(text, MAX_OPTION_TEXT), value=value)


def options(pairs: Sequence[tuple[str, str]]) -> list[Option]:
    return [option(text, value) for text, value in pairs[:MAX_OPTIONS]]


def context(*texts: str) -> ContextBlock:
    return ContextBlock(elements=[mrkdwn(t) for t in texts[:MAX_CONTEXT_ELEMENTS]])


def when(at: datetime | None) -> str:
    """A timestamp Slack renders in the reader's own time zone."""
    if at is None:
        return "never"
    epoch = int(at.timestamp())
    return f"<!date^{epoch}^{{date_short_pretty}} {{time}}|{at:%Y-%m-%d %H:%M} UTC>"


def check_count(blocks: Sequence[Block], limit: int) -> list[Block]:
    if len(blocks) > limit:
        raise ValueError(f"{len(blocks)} blocks exceed Slack's limit of {limit}")
    return list(blocks)


def page_bounds(total: int, page: int, size: int) -> tuple[int, int, int]:
    """(page clamped into range, first index, end index) for a page of `size` items."""
    pages = max((total + size - 1) // size, 1)
    page = min(max(page, 0), pages - 1)
    return page, page * size, min((page + 1) * size, total)
