"""Block Kit as readable text: what an admin would see in Slack, for the demo and for failing tests."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping
from typing import Any

JSON = dict[str, Any]

# Slack's mrkdwn references: <@U123>, <#C123|name>, <!here>, <https://x|label>, <https://x>.
_REFERENCE = re.compile(r"<([@#!]?)([^<>|]+)(?:\|([^<>]*))?>")


# The emoji codes ContactSync's messages use, as Slack draws them.
_EMOJI = {":white_check_mark:": "✅", ":warning:": "⚠️", ":arrow_forward:": "▶️", ":label:": "🏷️", ":x:": "❌",
          ":no_entry:": "⛔", ":hourglass_flowing_sand:": "⏳", ":wastebasket:": "🗑️", ":pause_button:": "⏸️"}
_EMOJI_CODE = re.compile(r":[a-z0-9_+-]+:")


def _text(obj: Any, names: Mapping[str, str] | None = None) -> str:
    text = str(obj.get("text", "")) if isinstance(obj, dict) else str(obj or "")
    text = _EMOJI_CODE.sub(lambda m: _EMOJI.get(m.group(0), m.group(0)), text)
    return html.unescape(_references(text, names or {}))  # Slack's mrkdwn escapes &, < and >


def _references(text: str, names: Mapping[str, str]) -> str:
    """Mentions and links as Slack shows them: @ada, #contacts, the link's label."""

    def shown(match: re.Match[str]) -> str:
        sigil, target, label = match.groups()
        if sigil == "@":
            return f"@{names.get(target, label or target)}"
        if sigil == "#":
            return f"#{label or names.get(target, target)}"
        if sigil == "!":
            return f"@{(label or target).split('^')[0]}"
        return label or target

    return _REFERENCE.sub(shown, text)


def _entered(element: JSON, entry: JSON | None) -> JSON:
    """`element` as the user sees it: what they typed or picked (view.state) in place of its initial value."""
    if not entry:
        return element
    shown = dict(element)
    if "value" in entry:
        shown["initial_value"] = entry["value"]
    if "selected_option" in entry:
        shown["initial_option"] = entry["selected_option"]
    if "selected_options" in entry:
        shown["initial_options"] = entry["selected_options"]
    if "selected_conversation" in entry:
        shown["initial_conversation"] = entry["selected_conversation"]
    if "selected_user" in entry:
        shown["initial_user"] = entry["selected_user"]
    return shown


def _element(element: JSON) -> str:
    kind = element.get("type", "")
    if kind == "button":
        return f"[{_text(element.get('text'))}]"
    if kind in ("plain_text_input",):
        value = element.get("initial_value")
        placeholder = _text(element.get("placeholder"))
        return f"‹{value}›" if value or not placeholder else f"‹ › (e.g. {placeholder})"
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


def blocks_text(blocks: list[JSON], *, state: JSON | None = None, names: Mapping[str, str] | None = None) -> list[str]:
    """`state` is a view's state.values (block id -> action id -> entry); `names` maps user ids to names."""
    lines: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            lines.append(f"== {_text(block.get('text'))} ==")
        elif kind == "section":
            text = _text(block.get("text"), names)
            fields = [_text(f, names) for f in block.get("fields", [])]
            body = "\n".join(p for p in [text, *fields] if p)
            accessory = block.get("accessory")
            if accessory:
                body += f"   {_element(accessory)}"
            lines.extend(body.splitlines() or [""])
        elif kind == "input":
            optional = " (optional)" if block.get("optional") else ""
            element = block.get("element", {})
            entry = ((state or {}).get(str(block.get("block_id")), {}) or {}).get(str(element.get("action_id")))
            lines.append(f"{_text(block.get('label'))}{optional}: {_element(_entered(element, entry))}")
            if block.get("hint"):
                lines.append(f"    {_text(block.get('hint'))}")
        elif kind == "actions":
            lines.append("  ".join(_element(e) for e in block.get("elements", [])))
        elif kind == "context":
            lines.append("  " + "  ".join(_text(e, names) for e in block.get("elements", [])))
        elif kind == "divider":
            lines.append("─" * 40)
    return lines


def view_text(view: JSON, *, names: Mapping[str, str] | None = None) -> str:
    """The modal as the user sees it now: with what they have typed and picked so far."""
    title = _text(view.get("title"))
    lines = [f"┌─ {title} " + "─" * max(0, 50 - len(title))]
    state = (view.get("state") or {}).get("values") or {}
    lines += [f"│ {line}" for line in blocks_text(view.get("blocks", []), state=state, names=names)]
    buttons = [f"[{_text(view[k])}]" for k in ("close", "submit") if view.get(k)]
    if buttons:
        lines.append("│ " + " ".join(buttons))
    lines.append("└" + "─" * 53)
    return "\n".join(lines)


def message_text(message: JSON, *, names: Mapping[str, str] | None = None, edited: bool = False) -> str:
    """A message as Slack shows it; `edited` for a chat.update (the same message, changed in place)."""
    blocks = message.get("blocks") or []
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    body = blocks_text(blocks, names=names) if blocks else [_text(str(message.get("text", "")), names)]
    where = message.get("channel", "")
    where = names.get(where, where) if names else where
    thread = " (in thread)" if message.get("thread_ts") else ""
    head = f"✎ #{where}: the message above, edited in place" if edited else f"💬 #{where}{thread}"
    return "\n".join([head, *(f"   {line}" for line in body)])


def call_text(method: str, args: JSON, answer: JSON) -> str:
    """One Web API call as an admin would see its effect: the message or view as text, else one line."""
    failed = "" if answer.get("ok", True) else f" → {answer.get('error')}"
    if isinstance(args.get("view"), dict):
        return f"{method}{failed}\n{view_text(args['view'])}"
    if method in ("chat.postMessage", "chat.postEphemeral", "chat.update", "response_url"):
        return f"{method}{failed}\n{message_text(args, edited=method == 'chat.update')}"
    return f"{method}{failed}"
