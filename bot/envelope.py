"""Whether a Slack payload has the shape Slack sends, checked before Bolt reads it (over HTTP by
`bot.http_guard`, in Socket Mode by `bot.socket_guard`).

Bolt and the listeners trust the shapes Slack documents: `body["event"]` is an object, a slash command has a
`user_id` and a `response_url`, each action has an `action_id`. A payload that breaks one (which only someone
holding the signing secret, or the app-level token, can send; or a change at Slack) used to raise inside
Bolt or a listener: an ERROR line with a traceback at DEBUG, a "Sorry, that failed" answer, or a 500. Here it
gets one short reason instead, which the door answers with a 400 (an empty ack in Socket Mode) and one INFO
line; the reason names the field, never its value.

The rules ask only for what Slack always sends and the bot reads. Payload types the bot does not handle keep
the common rules only and go on to Bolt, which answers them as unhandled.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from slack_bolt.request import BoltRequest, payload_utils

# What Bolt extracts from every payload to offer listeners, middleware and the error handler as arguments
# (`action`, `view`...), outside its error handling: an envelope of the wrong shape ({"actions": null})
# raised there and became a 500. Running them here first turns that into a refusal.
PAYLOAD_PARTS = (payload_utils.to_options, payload_utils.to_shortcut, payload_utils.to_action, payload_utils.to_view,
                 payload_utils.to_command, payload_utils.to_event, payload_utils.to_message, payload_utils.to_step)


def _text(value: Any) -> bool:
    return isinstance(value, str) and value != ""


def _id_holder(value: Any) -> bool:
    """`team`, `enterprise`, `channel`: absent, an id, or an object whose `id` (if any) is a string."""
    return value is None or isinstance(value, str) or (isinstance(value, dict) and isinstance(value.get("id", ""), str))


def _user_object(value: Any) -> bool:
    return isinstance(value, dict) and _text(value.get("id"))


# Fields any payload may carry, and the shape Bolt's context extraction assumes of them.
COMMON: tuple[tuple[str, Callable[[Any], bool], str], ...] = (
    ("type", lambda v: isinstance(v, str), "a string"),
    ("team", _id_holder, "an id or an object"),
    ("enterprise", _id_holder, "an id or an object"),
    ("channel", _id_holder, "an id or an object"),
    ("user", lambda v: v is None or isinstance(v, str) or _user_object(v), "an id or an object with an id"),
    ("event", lambda v: isinstance(v, dict), "an object"),
    ("view", lambda v: isinstance(v, dict), "an object"),
    ("message", lambda v: isinstance(v, dict), "an object"),
    ("container", lambda v: isinstance(v, dict), "an object"),
    ("authorizations", lambda v: isinstance(v, list) and all(isinstance(a, dict) for a in v), "a list of objects"),
    ("response_url", _text, "a URL"),
    ("response_urls", lambda v: isinstance(v, list) and all(isinstance(u, dict) for u in v), "a list of objects"),
)


def _command(body: Mapping[str, Any]) -> str | None:
    for name in ("command", "user_id", "response_url"):
        if not _text(body.get(name)):
            return f"slash command without {name}"
    for name in ("text", "trigger_id", "channel_id", "team_id"):
        if name in body and not isinstance(body[name], str):
            return f"slash command whose {name} is not a string"
    return None


def _event_callback(body: Mapping[str, Any]) -> str | None:
    event = body.get("event")
    if not isinstance(event, dict) or not _text(event.get("type")):
        return "event_callback without an event type"
    for name in ("user", "channel", "tab"):
        if name in event and not isinstance(event[name], str):
            return f"event whose {name} is not a string"
    return None


def _block_actions(body: Mapping[str, Any]) -> str | None:
    actions = body.get("actions")
    if not isinstance(actions, list) or not actions:
        return "block_actions without actions"
    if not all(isinstance(a, dict) and _text(a.get("action_id")) for a in actions):
        return "block_actions with an action that has no action_id"
    if not all(isinstance(a.get("block_id", ""), str) and isinstance(a.get("value", ""), str | None) for a in actions):
        return "block_actions with an action whose block_id or value is not a string"
    if not _text(body.get("trigger_id")):  # Slack sends one with every action; buttons open modals with it
        return "block_actions without trigger_id"
    return _by_user(body)


def _view(body: Mapping[str, Any]) -> str | None:
    view = body.get("view")
    if not isinstance(view, dict) or not isinstance(view.get("callback_id", ""), str):
        return f"{body['type']} without a view"
    return _by_user(body)


def _options(body: Mapping[str, Any]) -> str | None:
    if not _text(body.get("action_id")):
        return "block_suggestion without action_id"
    if not isinstance(body.get("value", ""), str):
        return "block_suggestion whose value is not a string"
    return _by_user(body)


def _by_user(body: Mapping[str, Any]) -> str | None:
    if not _user_object(body.get("user")):
        return f"{body['type']} without a user id"
    return None


def _url_verification(body: Mapping[str, Any]) -> str | None:
    return None if isinstance(body.get("challenge"), str) else "url_verification without a challenge"


# What each kind of payload the bot handles must hold besides the common fields.
BY_TYPE: dict[str, Callable[[Mapping[str, Any]], str | None]] = {
    "event_callback": _event_callback,
    "block_actions": _block_actions,
    "view_submission": _view,
    "view_closed": _view,
    "block_suggestion": _options,
    "url_verification": _url_verification,
}


def payload_problem(body: Any) -> str | None:
    """Why `body` (a parsed payload) is not one Slack would send, in a few words naming the field; or None."""
    if not isinstance(body, dict):
        return "not an object"
    for name, fits, shape in COMMON:
        if name in body and not fits(body[name]):
            return f"{name} is not {shape}"
    if "command" in body:
        return _command(body)
    rule = BY_TYPE.get(body.get("type", ""))
    return rule(body) if rule is not None else None


def bolt_problem(request: Callable[[], BoltRequest]) -> BoltRequest | str:
    """The Bolt request `request()` builds, once Bolt could read it (its context and every argument it offers
    listeners) and it has Slack's shape; else why not."""
    try:
        built = request()
        if isinstance(built.body, dict):
            for extract in PAYLOAD_PARTS:
                extract(built.body)
    except Exception as exc:  # noqa: BLE001 - the body is foreign: whatever Bolt cannot read is malformed
        # e.g. json.JSONDecodeError, RecursionError (deep nesting), AttributeError (a `team` that is a list)
        return f"not a Slack payload ({type(exc).__name__})"
    problem = payload_problem(built.body)
    return built if problem is None else f"not a Slack payload ({problem})"
