"""`serve` as `contactsync serve` runs it, in its own process: the bot answers over HTTP, the scheduler runs a
job that is due, and SIGTERM stops both cleanly."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.serve import wsgi_server
from slack_double import SlackDouble, SlackUser
from sync_core import store
from sync_core.domain.models import Run, RunTrigger, SyncJob, utcnow
from sync_core.service import PersonalJobSpec
from sync_core.service.create import create_personal_job
from tests.conftest import Google
from tests.integration.helpers import make_runtime

from .conftest import ADMIN, SECRET, TOKEN

SERVE = "from bot.serve import serve; from sync_core.runtime import Runtime; " \
        "from sync_core.settings import load_settings; serve(Runtime(load_settings()))"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(predicate: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise TimeoutError("condition not met")


def serve_env(google: Google, db_url: str, slack_api_url: str, **extra: str) -> dict[str, str]:
    """The environment of a real `contactsync serve` over HTTP against the emulator and the Slack double."""
    env = {**os.environ, "DATABASE_URL": db_url, "PORT": str(free_port()), "SLACK_BOT_TOKEN": TOKEN,
           "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": slack_api_url, "CONTACTSYNC_ADMINS": ADMIN,
           "GOOGLE_APPLICATION_CREDENTIALS": str(google.handle.credentials_file),
           "CONTACTSYNC_ADMIN_EMAIL": google.seed.admin_email, "CONTACTSYNC_GOOGLE_API_ENDPOINT": google.handle.url,
           **extra}
    env.pop("SLACK_APP_TOKEN", None)
    return env


@contextmanager
def serve_process(env: dict[str, str], *, output: int = subprocess.DEVNULL) -> Iterator[subprocess.Popen[bytes]]:
    """`serve` in its own process for the block (its stdout and stderr to `output`); killed on the way out if
    the block did not stop it."""
    process = subprocess.Popen([sys.executable, "-c", SERVE], env=env, cwd=Path(__file__).parents[2],
                               stdout=output, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_serve_runs_due_jobs_and_stops_on_sigterm(google: Google, tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'serve.db'}"
    runtime = make_runtime(google, db_url)
    spec = PersonalJobSpec(name="Partners", source_email=google.seed.source_email,
                           group_name=google.seed.source_group_name, targets=["email:bob@example.com"],
                           schedule="every 1h")
    job = create_personal_job(runtime.db, spec=spec, directory=runtime.directory(), people_for=runtime.people)
    with store.session_scope(runtime.db) as session:  # its slot came while the bot was down: due at start
        row = session.get(SyncJob, job.id)
        assert row is not None and job.id is not None
        row.created_at = utcnow() - timedelta(hours=1, minutes=1)
        session.add(row)
    with SlackDouble() as double:
        env = serve_env(google, db_url, double.api_url, CONTACTSYNC_RETRY_MAX_WAIT_SECONDS="0.01",
                        CONTACTSYNC_SCHEDULER_RECONCILE_SECONDS="0")
        with serve_process(env, output=subprocess.PIPE) as process:
            def scheduled_runs() -> list[Run]:
                with store.session_scope(runtime.db) as session:
                    assert job.id is not None
                    return [r for r in store.last_runs(session, job_id=job.id) if r.trigger is RunTrigger.schedule
                            and r.finished_at is not None]

            wait_until(lambda: len(scheduled_runs()) == 1)
            user = SlackUser(double, f"http://127.0.0.1:{env['PORT']}/slack/events", SECRET, user_id=ADMIN)
            mark = double.mark()
            assert user.command("list").status == 200
            listing = double.wait_for(lambda c: c.method == "response_url", after=mark).args
            assert "<!date^" in str(listing["blocks"])  # the scheduler's next run time
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=30) == 0
    assert len(scheduled_runs()) == 1


def outward_address() -> str | None:
    """This host's address on its default route (no packet is sent), or None if it has only the loopback."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: only picks the route
        except OSError:
            return None
        address = str(probe.getsockname()[0])
    return None if address.startswith("127.") or address == "0.0.0.0" else address


@pytest.mark.parametrize(("host", "reachable_outside"), [("127.0.0.1", False), ("0.0.0.0", True)])
def test_the_server_listens_where_contactsync_host_says(host: str, reachable_outside: bool) -> None:
    outside = outward_address()
    if outside is None:
        pytest.skip("this host has no address but the loopback")

    def hello(_environ: Any, start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    with wsgi_server(hello, host=host, port=0, threads=1) as base:
        port = int(base.rsplit(":", 1)[1])
        with socket.socket() as local:
            assert local.connect_ex(("127.0.0.1", port)) == 0
        with socket.socket() as remote:
            remote.settimeout(5)
            assert (remote.connect_ex((outside, port)) == 0) is reachable_outside
