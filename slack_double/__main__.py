"""`python -m slack_double`: the Slack double by hand, for local development.

    python -m slack_double [--host H] [--port P] [--bot-url URL] [--signing-secret S]
        serves Slack's Web API (SLACK_API_URL) and Socket Mode until SIGTERM or Ctrl-C, printing every call the
        bot makes (messages and modals as text);
    python -m slack_double send "/contactsync list" [--double URL] [--user U...]
        has that running double deliver a slash command to the bot, as an envelope if the bot is connected in
        Socket Mode, else as a signed HTTP request to --bot-url, and prints what the bot answered and sent.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
import urllib.request
from types import FrameType
from typing import Any

from .driver import SlackUser, SocketModeUser
from .render import call_text
from .server import Call, SlackDouble

JSON = dict[str, Any]
DEFAULT_PORT = 3001
DEFAULT_BOT_URL = "http://127.0.0.1:3000/slack/events"
# The double accepts any token of the right kind and any secret; these are only what it suggests.
SIGNING_SECRET = "local-signing-secret"
ADMIN = "U0LOCALADMIN"
COMMAND = "/contactsync"


class Sender:
    """The `send` control: delivers a slash command from a user, then gathers the calls the bot makes."""

    def __init__(self, double: SlackDouble, *, bot_url: str, signing_secret: str) -> None:
        self.double, self.bot_url, self.signing_secret = double, bot_url, signing_secret

    def _user(self, user_id: str) -> tuple[str, SlackUser]:
        # A bot that opened a Socket Mode connection takes envelopes; otherwise it listens over HTTP.
        if self.double.calls_to("apps.connections.open") and self.double.socket_mode.connected:
            return "Socket Mode", SocketModeUser(self.double, user_id=user_id, user_name="you")
        return f"HTTP {self.bot_url}", SlackUser(self.double, self.bot_url, self.signing_secret, user_id=user_id,
                                                 user_name="you")

    def __call__(self, args: JSON) -> JSON:
        text = str(args.get("text") or "").strip()
        text = text.removeprefix(COMMAND).strip()
        via, user = self._user(str(args.get("user_id") or ADMIN))
        mark = self.double.mark()
        try:
            response = user.command(text)
        except (OSError, TimeoutError) as exc:
            return {"ok": False, "via": via, "error": f"the bot did not answer: {exc}"}
        calls = self._settle(mark, float(args.get("wait") or 3.0))
        return {"ok": response.status == 200, "via": via, "status": response.status, "answer": response.text,
                "calls": [call_text(c.method, c.args, c.answer) for c in calls]}

    def _settle(self, mark: int, wait: float) -> list[Call]:
        """The calls since `mark`, once a second has passed without one (at most `wait` seconds)."""
        deadline, seen, quiet_since = time.monotonic() + wait, mark, time.monotonic()
        while time.monotonic() < deadline and time.monotonic() - quiet_since < 1.0:
            time.sleep(0.1)
            if self.double.mark() != seen:
                seen, quiet_since = self.double.mark(), time.monotonic()
        return self.double.calls_after(mark)


def serve(options: argparse.Namespace) -> int:
    double = SlackDouble(host=options.host, port=options.port)
    double.on_call = lambda call: print(call_text(call.method, call.args, call.answer), flush=True)
    double.controls["send"] = Sender(double, bot_url=options.bot_url, signing_secret=options.signing_secret)
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, on_signal)
    with double:
        settings = [
            (f"SLACK_API_URL={double.api_url}", ""),
            ("SLACK_BOT_TOKEN=xoxb-local", "any token starting xoxb-"),
            ("SLACK_APP_TOKEN=xapp-local", "Socket Mode: any token starting xapp-; leave it unset for HTTP"),
            (f"SLACK_SIGNING_SECRET={options.signing_secret}", f"HTTP: `send` signs its requests to {options.bot_url}"),
            (f"CONTACTSYNC_ADMINS={ADMIN}", "the user `send` acts as"),
        ]
        width = max(len(setting) for setting, _why in settings)
        print(f"Slack double (Web API and Socket Mode) at {double.url}; point ContactSync at it with:", flush=True)
        for setting, why in settings:
            print(f"  {setting:<{width}}  {'# ' + why if why else ''}".rstrip(), flush=True)
        print(f'Send a command: python -m slack_double send "/contactsync help" --double {double.url}\n'
              "Stop with Ctrl-C.", flush=True)
        stop.wait()
    return 0


def send(options: argparse.Namespace) -> int:
    body = json.dumps({"text": options.text, "user_id": options.user, "wait": options.wait}).encode()
    request = urllib.request.Request(options.double.rstrip("/") + "/double/send", data=body,
                                     headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=options.wait + 30) as answer:
            result: JSON = json.loads(answer.read())
    except OSError as exc:
        print(f"no Slack double at {options.double}: {exc}", file=sys.stderr)
        return 2
    if not result.get("ok"):
        problem = result.get("error") or f"HTTP {result.get('status')} {result.get('answer')}"
        print(f"via {result.get('via')}: {problem}", file=sys.stderr)
        return 1
    print(f"via {result['via']}: acknowledged" + (f", answered {result['answer']}" if result["answer"] else ""))
    for call in result["calls"]:
        print(call)
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m slack_double", description=__doc__,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
    top.add_argument("--host", default="127.0.0.1")
    top.add_argument("--port", type=int, default=DEFAULT_PORT)
    top.add_argument("--bot-url", default=DEFAULT_BOT_URL, help="where a bot over HTTP takes events")
    top.add_argument("--signing-secret", default=SIGNING_SECRET, help="what HTTP requests to the bot are signed with")
    commands = top.add_subparsers(dest="command")
    sending = commands.add_parser("send", help="have a running double send the bot a slash command")
    sending.add_argument("text", help='e.g. "/contactsync list"')
    sending.add_argument("--double", default=f"http://127.0.0.1:{DEFAULT_PORT}", help="the running double's URL")
    sending.add_argument("--user", default=ADMIN, help="the Slack user id sending it")
    sending.add_argument("--wait", type=float, default=3.0, help="seconds to gather what the bot sends")
    return top


def main(argv: list[str] | None = None) -> int:
    options = parser().parse_args(argv)
    return send(options) if options.command == "send" else serve(options)


if __name__ == "__main__":
    sys.exit(main())
