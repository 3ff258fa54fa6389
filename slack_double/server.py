"""`SlackDouble`: answers the Slack Web API methods the bot calls, like Slack does, and records each call.

It also keeps what Slack keeps: the modals open per user (views.open/push/update with `hash` checks, view
state that survives an update for blocks that keep their id), each user's App Home, the trigger ids it
issued, and every message and `response_url` reply.
"""

from __future__ import annotations

import itertools
import json
import secrets
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlparse

if TYPE_CHECKING:
    from .socket_mode import SocketModeServer

JSON = dict[str, Any]
TEAM_ID = "T0CSYNC01"
BOT_USER_ID = "UBOTCSYNC"
APP_ID = "A0CSYNC01"
# Methods Slack answers only for an app-level token (xapp-); every other method wants the bot token (xoxb-).
APP_TOKEN_METHODS = frozenset({"apps.connections.open"})


@dataclass
class Call:
    method: str  # a Web API method, or "response_url" for a reply to a response_url
    args: JSON
    token: str | None = None
    answer: JSON = field(default_factory=dict)  # what the double replied
    at: float = field(default_factory=time.monotonic)


def _maybe_json(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("{", "["):
        with suppress(json.JSONDecodeError):
            return json.loads(value)
    return value


def initial_state(element: JSON) -> JSON:
    """What Slack reports in view.state.values for an input the user has not touched (its initial value)."""
    kind = str(element.get("type"))
    entry: JSON = {"type": kind}
    if kind in ("static_select", "external_select", "radio_buttons"):
        entry["selected_option"] = element.get("initial_option")
    elif kind in ("multi_static_select", "multi_external_select", "checkboxes"):
        entry["selected_options"] = list(element.get("initial_options") or [])
    elif kind == "conversations_select":
        entry["selected_conversation"] = element.get("initial_conversation")
    elif kind == "users_select":
        entry["selected_user"] = element.get("initial_user")
    else:
        entry["value"] = element.get("initial_value")
    return entry


def _input_block_ids(view: JSON) -> set[str]:
    return {str(b.get("block_id")) for b in view.get("blocks", []) if b.get("type") == "input" and b.get("block_id")}


class SlackDouble:
    def __init__(self, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.calls: list[Call] = []
        self.views: dict[str, JSON] = {}  # view id -> the view as displayed (with id, hash, state)
        self.stacks: dict[str, list[str]] = {}  # user id -> open modal view ids, bottom first
        self.homes: dict[str, str] = {}  # user id -> App Home view id
        self.triggers: dict[str, tuple[str, float]] = {}  # trigger id -> (user id, issued at)
        self.usergroups: dict[str, list[str]] = {}
        # users.info: Slack user id -> profile address (None: a profile without one, as a bot or a guest may
        # have); `unconfirmed` users' addresses are not verified by Slack (is_email_confirmed false).
        self.user_emails: dict[str, str | None] = {}
        self.unconfirmed: set[str] = set()
        self.unreachable_channels: set[str] = set()  # chat.postMessage answers not_in_channel
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._ids = itertools.count(1)
        self._socket_mode: SocketModeServer | None = None
        self.on_call: Callable[[Call], None] | None = None  # told of every call once answered (python -m slack_double)
        # POST /double/<name> runs controls[name](args): how `python -m slack_double send` reaches a running double
        self.controls: dict[str, Callable[[JSON], JSON]] = {}
        double = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return None

            def do_GET(self) -> None:
                self._serve(dict(parse_qsl(urlparse(self.path).query)))

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode("utf-8") if length else ""
                args: JSON = dict(parse_qsl(urlparse(self.path).query))
                if "json" in (self.headers.get("Content-Type") or ""):
                    args.update(json.loads(raw or "{}"))
                else:
                    args.update({k: _maybe_json(v) for k, v in parse_qsl(raw)})
                self._serve(args)

            def _serve(self, args: JSON) -> None:
                path = urlparse(self.path).path
                auth = self.headers.get("Authorization") or ""
                token = auth.removeprefix("Bearer ") or args.pop("token", None)
                if path.startswith("/response/"):
                    answer: JSON = double._record("response_url", {**args, "response_id": path.rsplit("/", 1)[1]},
                                                  None)
                elif path.startswith("/api/"):
                    answer = double.handle(path.removeprefix("/api/"), args, token)
                elif path.startswith("/double/") and path.removeprefix("/double/") in double.controls:
                    answer = double.controls[path.removeprefix("/double/")](args)
                else:
                    answer = {"ok": False, "error": "unknown_path"}
                body = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    # --- lifecycle ------------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def api_url(self) -> str:
        """What SLACK_API_URL should be."""
        return self.url + "/api/"

    def start(self) -> SlackDouble:
        self._thread = threading.Thread(target=self._server.serve_forever, name="slack-double", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._socket_mode is not None:
            self._socket_mode.stop()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> SlackDouble:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def socket_mode(self) -> SocketModeServer:
        """The Socket Mode websocket server, started on first use (apps.connections.open, or a driver)."""
        with self._lock:
            if self._socket_mode is None:
                from .socket_mode import SocketModeServer  # needs websockets, which only Socket Mode does

                host = str(self._server.server_address[0])
                self._socket_mode = SocketModeServer(app_id=APP_ID, host=host).start()
            return self._socket_mode

    # --- helpers for drivers and tests -----------------------------------------------------------------
    def new_trigger(self, user_id: str) -> str:
        trigger = f"{next(self._ids)}.{secrets.token_hex(6)}"
        with self._lock:
            self.triggers[trigger] = (user_id, time.monotonic())
        return trigger

    def response_url(self) -> str:
        return f"{self.url}/response/{secrets.token_hex(8)}"

    def top_view(self, user_id: str) -> JSON | None:
        with self._lock:
            stack = self.stacks.get(user_id) or []
            return self.views[stack[-1]] if stack else None

    def home(self, user_id: str) -> JSON | None:
        with self._lock:
            view_id = self.homes.get(user_id)
            return self.views.get(view_id) if view_id else None

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def sent_views(self) -> list[JSON]:
        """Every view the bot sent: through the Web API, or as a view_submission's answer."""
        with self._lock:
            return [c.args["view"] for c in self.calls
                    if c.method.startswith(("views.", "response_action.")) and "view" in c.args]

    def sent_messages(self) -> list[JSON]:
        with self._lock:
            return [c.args for c in self.calls
                    if c.method in ("chat.postMessage", "chat.postEphemeral", "chat.update", "response_url")]

    def wait_for(self, predicate: Callable[[Call], bool], *, timeout: float = 10.0, after: int = 0) -> Call:
        """The first call (from index `after`) matching `predicate`, waiting for it if need be."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for call in self.calls[after:]:
                    if predicate(call):
                        return call
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = ", ".join(c.method for c in self.calls[after:]) or "none"
                    raise TimeoutError(f"no matching Slack call within {timeout}s (calls seen: {seen})")
                self._changed.wait(left)

    def mark(self) -> int:
        with self._lock:
            return len(self.calls)

    def calls_after(self, mark: int) -> list[Call]:
        with self._lock:
            return list(self.calls[mark:])

    # --- the Web API -------------------------------------------------------------------------------------
    def _record(self, method: str, args: JSON, token: str | None, answer: JSON | None = None,
                *, answer_with: Callable[[JSON], JSON] | None = None) -> JSON:
        """Record a call; `answer_with` computes the answer under the same lock, so the calls' order is the
        order in which the double's state changed."""
        with self._changed:
            if answer_with is not None:
                answer = answer_with(args)
            call = Call(method, args, token, answer if answer is not None else {"ok": True})
            self.calls.append(call)
            self._changed.notify_all()
        if self.on_call is not None:
            self.on_call(call)
        return call.answer

    @staticmethod
    def _token_error(method: str, token: str | None) -> str | None:
        """Slack's answer to a call made with the wrong kind of token, or None if the token may call `method`."""
        wanted = "xapp-" if method in APP_TOKEN_METHODS else "xoxb-"
        if token and token.startswith(wanted):
            return None
        if token and token.startswith(("xapp-", "xoxb-", "xoxp-")):
            return "not_allowed_token_type"
        return "not_authed"

    def handle(self, method: str, args: JSON, token: str | None) -> JSON:
        args = {k: _maybe_json(v) for k, v in args.items()}
        error = self._token_error(method, token)
        if error is not None:
            return self._record(method, args, token, {"ok": False, "error": error})
        handler = getattr(self, "_" + method.replace(".", "_"), None)
        if handler is None:
            return self._record(method, args, token, {"ok": False, "error": "unknown_method"})
        return self._record(method, args, token, answer_with=handler)

    def _ts(self) -> str:
        return f"{int(time.time())}.{next(self._ids):06d}"

    def _auth_test(self, args: JSON) -> JSON:
        return {"ok": True, "url": "https://contactsync-test.slack.com/", "team": "ContactSync Test",
                "user": "contactsync", "team_id": TEAM_ID, "user_id": BOT_USER_ID, "bot_id": "BCSYNC01",
                "is_enterprise_install": False}

    def _apps_connections_open(self, args: JSON) -> JSON:
        return {"ok": True, "url": self.socket_mode.new_url()}

    def _chat_postMessage(self, args: JSON) -> JSON:
        channel = str(args.get("channel") or "")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if channel in self.unreachable_channels:
            return {"ok": False, "error": "not_in_channel"}
        if not args.get("text") and not args.get("blocks"):
            return {"ok": False, "error": "no_text"}
        ts = self._ts()
        message = {"type": "message", "user": BOT_USER_ID, "bot_id": "BCSYNC01", "ts": ts,
                   "text": args.get("text", ""), "blocks": args.get("blocks") or []}
        if args.get("thread_ts"):
            message["thread_ts"] = args["thread_ts"]
        return {"ok": True, "channel": channel, "ts": ts, "message": message}

    def _chat_postEphemeral(self, args: JSON) -> JSON:
        if args.get("channel") in self.unreachable_channels:
            return {"ok": False, "error": "not_in_channel"}
        return {"ok": True, "message_ts": self._ts()}

    def _chat_update(self, args: JSON) -> JSON:
        return {"ok": True, "channel": args.get("channel"), "ts": args.get("ts"), "text": args.get("text", "")}

    def _conversations_info(self, args: JSON) -> JSON:
        channel = str(args.get("channel") or "")
        return {"ok": True, "channel": {"id": channel, "name": channel.lower(), "is_channel": True,
                                        "is_member": channel not in self.unreachable_channels}}

    def _usergroups_users_list(self, args: JSON) -> JSON:
        group = str(args.get("usergroup") or "")
        if group not in self.usergroups:
            return {"ok": False, "error": "no_such_subteam"}
        return {"ok": True, "users": list(self.usergroups[group])}

    def _users_info(self, args: JSON) -> JSON:
        user = str(args.get("user") or "")
        if user not in self.user_emails:
            return {"ok": False, "error": "user_not_found"}
        email = self.user_emails[user]
        profile: JSON = {"real_name": user.lower(), "display_name": user.lower()}
        if email is not None:
            profile["email"] = email
        return {"ok": True, "user": {"id": user, "team_id": TEAM_ID, "name": user.lower(), "deleted": False,
                                     "is_bot": False, "is_email_confirmed": user not in self.unconfirmed,
                                     "profile": profile}}

    # --- views ---
    def _store_view(self, view: JSON, *, view_id: str | None = None, previous: JSON | None = None) -> JSON:
        stored = dict(view)
        stored["id"] = view_id or f"V{next(self._ids):08d}"
        stored["hash"] = f"{int(time.time())}.{secrets.token_hex(4)}"
        stored.setdefault("private_metadata", "")
        stored.setdefault("callback_id", "")
        stored["team_id"], stored["app_id"], stored["bot_id"] = TEAM_ID, APP_ID, "BCSYNC01"
        values: JSON = {}
        if previous is not None:  # Slack keeps what the user entered in blocks that keep their id
            keep = _input_block_ids(stored)
            values = {k: v for k, v in ((previous.get("state") or {}).get("values") or {}).items() if k in keep}
        for block in stored.get("blocks", []):
            element = block.get("element") or {}
            if block.get("type") == "input" and block.get("block_id") not in values and element.get("action_id"):
                values[block["block_id"]] = {element["action_id"]: initial_state(element)}
        stored["state"] = {"values": values}
        self.views[stored["id"]] = stored
        return stored

    def _trigger_user(self, args: JSON) -> str | None:
        found = self.triggers.pop(str(args.get("trigger_id") or ""), None)
        if found is None or time.monotonic() - found[1] > 3.0:
            return None
        return found[0]

    def _views_open(self, args: JSON) -> JSON:
        user = self._trigger_user(args)
        if user is None:
            return {"ok": False, "error": "invalid_trigger_id"}
        stored = self._store_view(args["view"])
        self.stacks[user] = [stored["id"]]
        return {"ok": True, "view": stored}

    def _views_push(self, args: JSON) -> JSON:
        user = self._trigger_user(args)
        if user is None or not self.stacks.get(user):
            return {"ok": False, "error": "invalid_trigger_id"}
        stored = self._store_view(args["view"])
        self.stacks[user].append(stored["id"])
        return {"ok": True, "view": stored}

    def _views_update(self, args: JSON) -> JSON:
        view_id = str(args.get("view_id") or "")
        current = self.views.get(view_id)
        if current is None:
            return {"ok": False, "error": "not_found"}
        if args.get("hash") and args["hash"] != current["hash"]:
            return {"ok": False, "error": "hash_conflict"}
        return {"ok": True, "view": self._store_view(args["view"], view_id=view_id, previous=current)}

    def _views_publish(self, args: JSON) -> JSON:
        user = str(args.get("user_id") or "")
        if not user:
            return {"ok": False, "error": "invalid_arguments"}
        stored = self._store_view(args["view"], view_id=self.homes.get(user))
        self.homes[user] = stored["id"]
        return {"ok": True, "view": stored}

    # --- what Slack does with a view_submission's answer ---
    def apply_submission_answer(self, user_id: str, view_id: str, answer: JSON | None) -> None:
        with self._lock:
            stack = self.stacks.get(user_id) or []
            action = (answer or {}).get("response_action")
            if action in (None, "clear"):
                if action == "clear":
                    stack.clear()
                elif stack and stack[-1] == view_id:
                    stack.pop()
            elif action == "update":
                self._store_view(answer["view"], view_id=view_id, previous=self.views.get(view_id))  # type: ignore[index]
                self.calls.append(Call("response_action.update", {"view": answer["view"]}))  # type: ignore[index]
            elif action == "push":
                stored = self._store_view(answer["view"])  # type: ignore[index]
                stack.append(stored["id"])
                self.calls.append(Call("response_action.push", {"view": answer["view"]}))  # type: ignore[index]

