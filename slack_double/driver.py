"""`SlackUser`: a person in Slack, sending the bot the signed requests Slack would send on their behalf;
`SocketModeUser`: the same person when the bot uses Socket Mode, each action an envelope on its websocket.

Payloads follow Slack's shapes (slash command form fields; `payload=` JSON for block_actions,
view_submission and block_suggestion; event_callback JSON for events). Views come from the double, so the
bot receives exactly the view it built, with the state this user entered.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from .server import APP_ID, TEAM_ID, SlackDouble

JSON = dict[str, Any]


def sign(secret: str, timestamp: str, body: bytes) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass
class Response:
    status: int
    text: str

    def json(self) -> JSON:
        return json.loads(self.text) if self.text.strip() else {}


def _find_element(view: JSON, action_id: str) -> tuple[JSON, JSON]:
    """(block, element) of the interactive element with `action_id`."""
    for block in view.get("blocks", []):
        candidates = [block.get("element"), block.get("accessory"), *block.get("elements", [])]
        for element in candidates:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return block, element
    raise KeyError(f"no element {action_id!r} in view {view.get('callback_id') or view.get('type')}")


def _option(value: Any) -> JSON:
    if isinstance(value, dict):
        return value
    if isinstance(value, tuple):
        return {"text": {"type": "plain_text", "text": value[1], "emoji": True}, "value": value[0]}
    return {"text": {"type": "plain_text", "text": str(value), "emoji": True}, "value": str(value)}


def state_entry(element: JSON, value: Any) -> JSON:
    """What Slack puts in view.state.values for `element` holding `value`."""
    kind = element["type"]
    if kind in ("plain_text_input", "email_text_input", "url_text_input", "number_input"):
        return {"type": kind, "value": value}
    if kind in ("static_select", "external_select", "radio_buttons"):
        return {"type": kind, "selected_option": _option(value) if value is not None else None}
    if kind in ("multi_static_select", "multi_external_select", "checkboxes"):
        return {"type": kind, "selected_options": [_option(v) for v in value or []]}
    if kind == "conversations_select":
        return {"type": kind, "selected_conversation": value}
    if kind == "users_select":
        return {"type": kind, "selected_user": value}
    raise ValueError(f"cannot enter a value into a {kind}")


class SlackUser:
    def __init__(self, double: SlackDouble, bot_url: str, signing_secret: str, *, user_id: str,
                 user_name: str = "someone", channel_id: str = "C0CSYNC01", channel_name: str = "contacts") -> None:
        self.double = double
        self.bot_url = bot_url
        self.signing_secret = signing_secret
        self.user_id = user_id
        self.user_name = user_name
        self.channel_id = channel_id
        self.channel_name = channel_name

    def via(self, bot_url: str) -> SlackUser:
        """The same person, their next requests sent to another bot URL (another replica behind Slack's
        one Request URL: a load balancer may send each request of one modal to a different process)."""
        return SlackUser(self.double, bot_url, self.signing_secret, user_id=self.user_id, user_name=self.user_name,
                         channel_id=self.channel_id, channel_name=self.channel_name)

    # --- transport ---------------------------------------------------------------------------------------
    def post(self, body: bytes, content_type: str, *, timestamp: int | None = None,
             signature: str | None = None) -> Response:
        ts = str(timestamp if timestamp is not None else int(time.time()))
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature or sign(self.signing_secret, ts, body),
        }
        request = urllib.request.Request(self.bot_url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return Response(answer.status, answer.read().decode())
        except urllib.error.HTTPError as exc:
            return Response(exc.code, exc.read().decode())

    # What Slack sends for each kind of action; SocketModeUser sends the same payloads as envelopes.
    def _send_command(self, fields: dict[str, str]) -> Response:
        return self.post(urlencode(fields).encode(), "application/x-www-form-urlencoded")

    def _interactive(self, payload: JSON) -> Response:
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return self.post(body, "application/x-www-form-urlencoded")

    def _send_event(self, body: JSON) -> Response:
        return self.post(json.dumps(body).encode(), "application/json")

    @property
    def _user(self) -> JSON:
        return {"id": self.user_id, "username": self.user_name, "name": self.user_name, "team_id": TEAM_ID}

    @property
    def _team(self) -> JSON:
        return {"id": TEAM_ID, "domain": "contactsync-test"}

    # --- slash commands ----------------------------------------------------------------------------------
    def command_fields(self, text: str, *, channel_id: str | None = None) -> dict[str, str]:
        return {
            "token": "legacy-verification-token", "team_id": TEAM_ID, "team_domain": "contactsync-test",
            "channel_id": channel_id or self.channel_id, "channel_name": self.channel_name,
            "user_id": self.user_id, "user_name": self.user_name, "command": "/contactsync", "text": text,
            "api_app_id": APP_ID, "is_enterprise_install": "false",
            "response_url": self.double.response_url(), "trigger_id": self.double.new_trigger(self.user_id),
        }

    def command_body(self, text: str, *, channel_id: str | None = None) -> bytes:
        return urlencode(self.command_fields(text, channel_id=channel_id)).encode()

    def command(self, text: str, *, channel_id: str | None = None) -> Response:
        return self._send_command(self.command_fields(text, channel_id=channel_id))

    # --- modals ------------------------------------------------------------------------------------------
    def modal(self) -> JSON:
        view = self.double.top_view(self.user_id)
        if view is None:
            raise LookupError(f"{self.user_id} has no modal open")
        return view

    def enter(self, action_id: str, value: Any) -> None:
        """Type or pick `value` in the modal's input whose element has `action_id` (no request is sent)."""
        with self.double._lock:
            view = self.modal()
            block, element = _find_element(view, action_id)
            view["state"]["values"].setdefault(block["block_id"], {})[action_id] = state_entry(element, value)

    def fill(self, values: dict[str, Any]) -> None:
        for action_id, value in values.items():
            self.enter(action_id, value)

    def choose(self, action_id: str, value: Any) -> Response:
        """Pick in an input with dispatch_action (Slack sends block_actions at once)."""
        self.enter(action_id, value)
        view = self.modal()
        block, element = _find_element(view, action_id)
        action = {"action_id": action_id, "block_id": block["block_id"], "action_ts": f"{time.time():.6f}",
                  **state_entry(element, value)}
        return self._block_actions(view, action, container={"type": "view", "view_id": view["id"]})

    def click(self, action_id: str, value: str | None = None, *, view: JSON | None = None) -> Response:
        """Press a button in the open modal (or in `view`, e.g. App Home); `value` picks among equal ids."""
        view = view or self.modal()
        block, element = self._button(view, action_id, value)
        action = {"action_id": action_id, "block_id": block.get("block_id", ""), "type": "button",
                  "text": element["text"], "value": element.get("value"), "action_ts": f"{time.time():.6f}"}
        return self._block_actions(view, action, container={"type": "view", "view_id": view["id"]})

    def click_home(self, action_id: str, value: str | None = None) -> Response:
        home = self.double.home(self.user_id)
        if home is None:
            raise LookupError(f"{self.user_id} has no App Home published")
        return self.click(action_id, value, view=home)

    def click_message(self, blocks: list[JSON], action_id: str, value: str | None = None) -> Response:
        block, element = self._button({"blocks": blocks}, action_id, value)
        action = {"action_id": action_id, "block_id": block.get("block_id", ""), "type": "button",
                  "text": element["text"], "value": element.get("value"), "action_ts": f"{time.time():.6f}"}
        payload: JSON = {
            "type": "block_actions", "user": self._user, "api_app_id": APP_ID, "token": "legacy-verification-token",
            "container": {"type": "message", "message_ts": "1.000001", "channel_id": self.channel_id,
                          "is_ephemeral": True},
            "trigger_id": self.double.new_trigger(self.user_id), "team": self._team, "enterprise": None,
            "is_enterprise_install": False, "channel": {"id": self.channel_id, "name": self.channel_name},
            "state": {"values": {}}, "response_url": self.double.response_url(), "actions": [action],
        }
        return self._interactive(payload)

    @staticmethod
    def _button(view: JSON, action_id: str, value: str | None) -> tuple[JSON, JSON]:
        for block in view.get("blocks", []):
            for element in [block.get("accessory"), *block.get("elements", [])]:
                if (isinstance(element, dict) and element.get("action_id") == action_id
                        and (value is None or element.get("value") == value)):
                    return block, element
        raise KeyError(f"no button {action_id!r} (value {value!r})")

    def _block_actions(self, view: JSON, action: JSON, *, container: JSON) -> Response:
        payload = {
            "type": "block_actions", "user": self._user, "api_app_id": APP_ID, "token": "legacy-verification-token",
            "container": container, "trigger_id": self.double.new_trigger(self.user_id), "team": self._team,
            "enterprise": None, "is_enterprise_install": False, "view": view, "actions": [action],
        }
        return self._interactive(payload)

    def submit(self) -> Response:
        """Submit the open modal; applies Slack's handling of the answer (errors/update/push/clear)."""
        view = self.modal()
        payload = {
            "type": "view_submission", "team": self._team, "user": self._user, "api_app_id": APP_ID,
            "token": "legacy-verification-token", "trigger_id": self.double.new_trigger(self.user_id),
            "view": view, "response_urls": [], "is_enterprise_install": False, "enterprise": None,
        }
        response = self._interactive(payload)
        if response.status == 200:
            answer = response.json()
            if answer.get("response_action") != "errors":
                self.double.apply_submission_answer(self.user_id, view["id"], answer or None)
        return response

    def suggest(self, action_id: str, query: str, *, view: JSON | None = None) -> list[JSON]:
        """Type `query` into the external select `action_id`; the options the bot answers."""
        view = view or self.modal()
        block, _element = _find_element(view, action_id)
        payload = {
            "type": "block_suggestion", "user": self._user, "container": {"type": "view", "view_id": view["id"]},
            "api_app_id": APP_ID, "token": "legacy-verification-token", "action_id": action_id,
            "block_id": block["block_id"], "value": query, "team": self._team, "enterprise": None,
            "is_enterprise_install": False, "view": view,
        }
        response = self._interactive(payload)
        if response.status != 200:
            raise RuntimeError(f"options request failed: HTTP {response.status} {response.text[:200]}")
        return list(response.json().get("options", []))

    # --- events --------------------------------------------------------------------------------------------
    def open_home(self) -> Response:
        now = int(time.time())
        body = {
            "token": "legacy-verification-token", "team_id": TEAM_ID, "api_app_id": APP_ID,
            "event": {"type": "app_home_opened", "user": self.user_id, "channel": "D0CSYNC01", "tab": "home",
                      "event_ts": f"{now}.000100"},
            "type": "event_callback", "event_id": f"Ev{now}{self.user_id}", "event_time": now,
            "authorizations": [{"enterprise_id": None, "team_id": TEAM_ID, "user_id": "UBOTCSYNC", "is_bot": True,
                                "is_enterprise_install": False}],
            "is_ext_shared_channel": False,
        }
        return self._send_event(body)


class SocketModeUser(SlackUser):
    """A person whose actions reach a Socket Mode bot: the double sends each as an envelope on the bot's
    websocket and waits for the ack, whose payload is the answer (a view_submission's response_action...)."""

    def __init__(self, double: SlackDouble, *, user_id: str, ack_timeout: float = 10.0, **kw: Any) -> None:
        super().__init__(double, bot_url="", signing_secret="", user_id=user_id, **kw)
        self.ack_timeout = ack_timeout

    def post(self, body: bytes, content_type: str, *, timestamp: int | None = None,
             signature: str | None = None) -> Response:
        raise TypeError("a Socket Mode bot has no HTTP endpoint; actions go through the double's websocket")

    def _envelope(self, kind: str, payload: JSON) -> Response:
        ack = self.double.socket_mode.deliver(kind, payload, timeout=self.ack_timeout)
        return Response(200, json.dumps(ack.payload) if ack.payload else "")

    def _send_command(self, fields: dict[str, str]) -> Response:
        return self._envelope("slash_commands", dict(fields))

    def _interactive(self, payload: JSON) -> Response:
        return self._envelope("interactive", payload)

    def _send_event(self, body: JSON) -> Response:
        return self._envelope("events_api", body)
