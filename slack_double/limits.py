"""Checks that a view or message the bot sent is valid Block Kit (parsed by `slack_sdk.models`) and within
Slack's limits. Each check returns a list of problems; empty means fine."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

JSON = dict[str, Any]

TEXT_LIMITS = {"section": 3000, "header": 150, "context": 2000}
VIEW_BLOCKS = 100
MESSAGE_BLOCKS = 50


def _walk(node: Any, path: str = "") -> Iterator[tuple[str, JSON]]:
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from _walk(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, f"{path}[{i}]")


def _limits(blocks: list[JSON], max_blocks: int) -> list[str]:
    problems = [f"{len(blocks)} blocks > {max_blocks}"] if len(blocks) > max_blocks else []
    for i, block in enumerate(blocks):
        kind = block.get("type")
        text = (block.get("text") or {}).get("text", "")
        if kind in TEXT_LIMITS and len(text) > TEXT_LIMITS[kind]:
            problems.append(f"block {i} ({kind}) text is {len(text)} chars")
        for field in block.get("fields") or []:
            if len(field.get("text", "")) > 2000:
                problems.append(f"block {i} has a field over 2000 chars")
        if len(block.get("fields") or []) > 10:
            problems.append(f"block {i} has more than 10 fields")
        if kind == "actions" and len(block.get("elements", [])) > 25:
            problems.append(f"block {i} has more than 25 actions")
        if kind == "context" and len(block.get("elements", [])) > 10:
            problems.append(f"block {i} has more than 10 context elements")
        if len(str(block.get("block_id") or "")) > 255:
            problems.append(f"block {i} id over 255 chars")
    for path, node in _walk(blocks):
        opts = node.get("options")
        if isinstance(opts, list) and len(opts) > 100:
            problems.append(f"{path}: {len(opts)} options > 100")
        if "value" in node and "text" in node and isinstance(node.get("text"), dict) and path.count("options"):
            if len(node["text"].get("text", "")) > 75:
                problems.append(f"{path}: option text over 75 chars")
            if len(str(node["value"])) > 150:
                problems.append(f"{path}: option value over 150 chars")
        if node.get("type") == "button" and len(node.get("text", {}).get("text", "")) > 75:
            problems.append(f"{path}: button text over 75 chars")
    return problems


def check_blocks(blocks: list[JSON], *, max_blocks: int = MESSAGE_BLOCKS) -> list[str]:
    """Problems with a message's blocks (empty list: valid and within limits)."""
    try:
        for block in Block.parse_all(blocks):
            block.validate_json()
    except (SlackObjectFormationError, KeyError, TypeError) as exc:
        return [f"invalid blocks: {exc}"]
    return _limits(blocks, max_blocks)


def check_view(view: JSON) -> list[str]:
    """Problems with a modal or App Home view."""
    try:
        View(**view).validate_json()
    except (SlackObjectFormationError, KeyError, TypeError) as exc:
        return [f"invalid view: {exc}"]
    problems = _limits(list(view.get("blocks", [])), VIEW_BLOCKS)
    if len(view.get("private_metadata") or "") > 3000:
        problems.append("private_metadata over 3000 chars")
    if len(((view.get("title") or {}).get("text")) or "") > 24:
        problems.append("title over 24 chars")
    return problems


def check_message(args: JSON) -> list[str]:
    text = str(args.get("text") or "")
    problems = [f"text is {len(text)} chars"] if len(text) > 40000 else []
    if not text and not args.get("blocks"):
        problems.append("neither text nor blocks")
    return problems + check_blocks(list(args.get("blocks") or []))
