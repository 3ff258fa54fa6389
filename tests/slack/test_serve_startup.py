"""`contactsync serve` start-up, as a user runs it: each failure is one stderr line naming what to fix and
exit 2, quickly; a partial configuration is an error, never the demo."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from slack_double import SlackDouble
from tests.conftest import Google

from .conftest import SECRET, TOKEN
from .test_serve import free_port

ROOT = Path(__file__).parents[2]
SETTINGS = ("GOOGLE_APPLICATION_CREDENTIALS", "CONTACTSYNC_ADMIN_EMAIL", "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET",
            "SLACK_APP_TOKEN", "SLACK_API_URL", "CONTACTSYNC_ADMINS", "DATABASE_URL", "PORT", "CONTACTSYNC_HOST")


def serve(tmp_path: Path, **settings: str) -> tuple[int, list[str], float]:
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS}
    env.update(settings, PYTHONPATH=str(ROOT))
    env.setdefault("DATABASE_URL", f"sqlite:///{tmp_path / 'serve.db'}")
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "contactsync.cli", "serve"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    return done.returncode, done.stderr.splitlines(), time.monotonic() - started


@pytest.fixture
def full(google: Google, tmp_path: Path) -> dict[str, str]:
    """Every setting the bot needs, Slack's pointing at a port where nothing listens (tests override)."""
    return {"GOOGLE_APPLICATION_CREDENTIALS": str(google.handle.credentials_file),
            "CONTACTSYNC_ADMIN_EMAIL": google.seed.admin_email, "CONTACTSYNC_GOOGLE_API_ENDPOINT": google.handle.url,
            "SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": f"http://127.0.0.1:{free_port()}/api/", "PORT": str(free_port())}


def test_slack_unreachable(full: dict[str, str], tmp_path: Path) -> None:
    code, lines, took = serve(tmp_path, **full)
    assert code == 2 and len(lines) == 1, lines
    assert lines[0].startswith("error: SLACK_API_URL: Slack cannot be reached at http://127.0.0.1:")
    assert took < 20


def test_slack_refuses_the_token(full: dict[str, str], tmp_path: Path) -> None:
    with SlackDouble() as double:
        code, lines, _ = serve(tmp_path, **{**full, "SLACK_API_URL": double.api_url, "SLACK_BOT_TOKEN": "revoked"})
        assert [c.method for c in double.calls] == ["auth.test"]
    assert code == 2 and lines == ["error: SLACK_BOT_TOKEN: Slack refused it at auth.test (not_authed); "
                                   "check the bot token"]
    assert "revoked" not in "".join(lines)


@pytest.mark.parametrize("key", ["not json", '{"type": "authorized_user"}'])
def test_google_key_unreadable(full: dict[str, str], tmp_path: Path, key: str) -> None:
    path = tmp_path / "key.json"
    path.write_text(key)
    code, lines, _ = serve(tmp_path, **{**full, "GOOGLE_APPLICATION_CREDENTIALS": str(path)})
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: GOOGLE_APPLICATION_CREDENTIALS: "), lines


def test_google_key_missing(full: dict[str, str], tmp_path: Path) -> None:
    code, lines, _ = serve(tmp_path, **{**full, "GOOGLE_APPLICATION_CREDENTIALS": str(tmp_path / "gone.json")})
    assert code == 2 and lines == [f"error: GOOGLE_APPLICATION_CREDENTIALS: Value error, no such file: "
                                   f"{tmp_path / 'gone.json'}"]


def test_database_unreachable(full: dict[str, str], tmp_path: Path) -> None:
    code, lines, _ = serve(tmp_path, **{**full, "DATABASE_URL": f"postgresql://nobody@127.0.0.1:{free_port()}/x"})
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: cannot open the database"), lines


@pytest.mark.parametrize(
    ("given", "missing"),
    [
        (("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"), "GOOGLE_APPLICATION_CREDENTIALS and CONTACTSYNC_ADMIN_EMAIL"),
        (("GOOGLE_APPLICATION_CREDENTIALS", "CONTACTSYNC_ADMIN_EMAIL"), "SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET"),
        (("GOOGLE_APPLICATION_CREDENTIALS", "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"), "CONTACTSYNC_ADMIN_EMAIL"),
        (("SLACK_BOT_TOKEN",), "GOOGLE_APPLICATION_CREDENTIALS and CONTACTSYNC_ADMIN_EMAIL and SLACK_SIGNING_SECRET"),
    ],
)
def test_a_partial_configuration_names_what_is_missing_and_never_runs_the_demo(
    full: dict[str, str], tmp_path: Path, given: tuple[str, ...], missing: str
) -> None:
    code, lines, _ = serve(tmp_path, **{k: v for k, v in full.items() if k in given})
    assert code == 2 and len(lines) == 1, lines
    assert lines[0].startswith(f"error: {missing}: not set; with {' and '.join(given)} set"), lines


def test_a_bind_address_that_is_not_an_ip_address_is_named(full: dict[str, str], tmp_path: Path) -> None:
    code, lines, _ = serve(tmp_path, **{**full, "CONTACTSYNC_HOST": "my-laptop"})
    assert code == 2 and lines == ["error: CONTACTSYNC_HOST: Value error, must be an IP address of this host, "
                                   "e.g. 0.0.0.0 or 127.0.0.1"]


def test_an_address_already_in_use_is_one_line(full: dict[str, str], tmp_path: Path) -> None:
    with SlackDouble() as double, socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, lines, _ = serve(tmp_path, **{**full, "SLACK_API_URL": double.api_url, "CONTACTSYNC_HOST": "127.0.0.1",
                                            "PORT": str(port)})
    # (serve's log lines come first: the scheduler had started, and stopped again)
    assert code == 2 and lines[-1] == f"error: CONTACTSYNC_HOST, PORT: cannot listen on 127.0.0.1:{port} " \
                                      "(Address already in use)", lines
    assert not [line for line in lines if "Traceback" in line or " ERROR " in line], lines
