"""Block Kit as readable text: what an admin would see in Slack, for the demo and for failing tests."""

from __future__ import annotations

import html
import json
from typing import Any

JSON = dict[str, Any]


def _text(obj: Any) -> str:
    text = str(obj.get("text", "")) if isinstance(obj, dict) else str(obj or "")
    return html.unescape(text)  # Slack's mrkdwn escapes &, < and >


def _element(element: JSON) -> str:
    kind = element.get("type", "")
    if kind == "button":
        return f"[{_text(element.get('text'))}]"
    if kind in ("plain_text_input",):
        value = element.get("initial_value") or _text(element.get("placeholder"))
        return f"‹{value}›"
    if kind == "checkboxes":
        chosen = {o.get("value") for o in element.get("initial_options", [])}
        return " ".join(
            ("☑ " if o.get("value") in chosen else "☐ ") + _text(o.get("text")) for o in element.get("options", [])
        )
    if kind in (
        "radio_buttons",
        "static_select",
        "external_select",
        "users_select",
        "conversations_select",
        "channels_select",
        "multi_static_select",
        "multi_external_select",
    ):
        initial = element.get("initial_option") or (element.get("initial_options") or [None])[0]
        shown = (
            _text(initial.get("text"))
            if initial
            else (
                element.get("initial_conversation")
                or element.get("initial_channel")
                or _text(element.get("placeholder"))
            )
        )
        options = element.get("options", [])
        if kind == "radio_buttons":
            return " ".join(("◉ " if o == initial else "○ ") + _text(o.get("text")) for o in options)
        return f"▾ {shown or '…'}"
    if kind == "overflow":
        return "[⋯]"
    return f"<{kind}>"


def blocks_text(blocks: list[JSON]) -> list[str]:
    lines: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            lines.append(f"== {_text(block.get('text'))} ==")
        elif kind == "section":
            text = _text(block.get("text"))
            fields = [_text(f) for f in block.get("fields", [])]
            body = "\n".join(p for p in [text, *fields] if p)
            accessory = block.get("accessory")
            if accessory:
                body += f"   {_element(accessory)}"
            lines.extend(body.splitlines() or [""])
        elif kind == "input":
            optional = " (optional)" if block.get("optional") else ""
            lines.append(f"{_text(block.get('label'))}{optional}: {_element(block.get('element', {}))}")
            if block.get("hint"):
                lines.append(f"    {_text(block.get('hint'))}")
        elif kind == "actions":
            lines.append("  ".join(_element(e) for e in block.get("elements", [])))
        elif kind == "context":
            lines.append("  " + "  ".join(_text(e) for e in block.get("elements", [])))
        elif kind == "divider":
            lines.append("─" * 40)
    return lines


def view_text(view: JSON) -> str:
    title = _text(view.get("title"))
    lines = [f"┌─ {title} " + "─" * max(0, 50 - len(title))]
    lines += [f"│ {line}" for line in blocks_text(view.get("blocks", []))]
    buttons = [f"[{_text(view[k])}]" for k in ("close", "submit") if view.get(k)]
    if buttons:
        lines.append("│ " + " ".join(buttons))
    lines.append("└" + "─" * 53)
    return "\n".join(lines)


def message_text(message: JSON) -> str:
    blocks = message.get("blocks") or []
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    body = blocks_text(blocks) if blocks else [str(message.get("text", ""))]
    where = message.get("channel", "")
    thread = " (in thread)" if message.get("thread_ts") else ""
    return "\n".join([f"💬 #{where}{thread}", *(f"   {line}" for line in body)])


def call_text(method: str, args: JSON, answer: JSON) -> str:
    """One Web API call as an admin would see its effect: the message or view as text, else one line."""
    failed = "" if answer.get("ok", True) else f" → {answer.get('error')}"
    if isinstance(args.get("view"), dict):
        return f"{method}{failed}\n{view_text(args['view'])}"
    if method in ("chat.postMessage", "chat.postEphemeral", "chat.update", "response_url"):
        return f"{method}{failed}\n{message_text(args)}"
    return f"{method}{failed}"
