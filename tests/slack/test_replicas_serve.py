"""Three `serve` processes on one PostgreSQL database, one Slack double and one Google emulator, as several
replicas behind a load balancer run: a job due at start runs once across the three, its alert is posted
once, and a create modal opened through one replica is carried on and finished through the others."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path

from slack_double import Call, SlackDouble, SlackUser
from sync_core import store
from sync_core.domain.models import Run, RunTrigger, SyncJob, utcnow
from sync_core.service import PersonalJobSpec
from sync_core.service.create import create_personal_job
from tests.conftest import Google
from tests.integration.helpers import make_runtime

from .conftest import ADMIN, CHANNEL, SECRET, TOKEN
from .test_serve import SERVE, free_port, wait_until

REPLICAS = 3
# Each replica logs as `contactsync serve` would, to its stderr (its log file here).
LOGGED_SERVE = "from contactsync.logs import configure_logging; configure_logging('INFO'); " + SERVE
START_TIMEOUT = 60.0


def _answers(port: int) -> bool:
    """Whether a replica's HTTP server is up (SlackGuard answers a GET with 405 before anything else)."""
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/slack/events", timeout=1)
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False
    return True


def _is_alert(call: Call) -> bool:
    return (call.method == "chat.postMessage" and not call.args.get("thread_ts")
            and "needs attention" in str(call.args.get("text")))


def test_three_replicas_run_a_slot_once_post_an_alert_once_and_share_a_modal(
    google: Google, postgres_url: str, tmp_path: Path
) -> None:
    runtime = make_runtime(google, postgres_url)
    spec = PersonalJobSpec(name="Partners", source_email=google.seed.source_email,
                           group_name=google.seed.source_group_name,
                           targets=["email:bob@example.com", "email:dave@example.com"], schedule="every 1h",
                           alert_channel=CHANNEL)
    job = create_personal_job(runtime.db, spec=spec, directory=runtime.directory(), people_for=runtime.people)
    assert job.id is not None
    google.handle.control.delete_user("dave@example.com")  # the first run alerts it
    with store.session_scope(runtime.db) as session:  # its slot came while no replica ran: due at start
        row = session.get(SyncJob, job.id)
        assert row is not None
        row.created_at = utcnow() - timedelta(hours=1, minutes=1)
        session.add(row)

    def scheduled_runs() -> list[Run]:
        with store.session_scope(runtime.db) as session:
            assert job.id is not None
            return [r for r in store.last_runs(session, job_id=job.id) if r.trigger is RunTrigger.schedule]

    ports = [free_port() for _ in range(REPLICAS)]
    with SlackDouble() as double:
        env = {**os.environ, "DATABASE_URL": postgres_url, "SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET,
               "SLACK_API_URL": double.api_url, "CONTACTSYNC_ADMINS": ADMIN,
               "GOOGLE_APPLICATION_CREDENTIALS": str(google.handle.credentials_file),
               "CONTACTSYNC_ADMIN_EMAIL": google.seed.admin_email,
               "CONTACTSYNC_GOOGLE_API_ENDPOINT": google.handle.url, "CONTACTSYNC_RETRY_MAX_WAIT_SECONDS": "0.01",
               "CONTACTSYNC_SCHEDULER_RECONCILE_SECONDS": "0", "CONTACTSYNC_SCHEDULER_WATCH_SECONDS": "0",
               # SIGTERM lets a run in flight finish for up to this long (60 s by default): within the wait below
               "CONTACTSYNC_SCHEDULER_SHUTDOWN_TIMEOUT_SECONDS": "15"}
        env.pop("SLACK_APP_TOKEN", None)
        processes = [subprocess.Popen([sys.executable, "-c", LOGGED_SERVE], env={**env, "PORT": str(port)},
                                      cwd=Path(__file__).parents[2],
                                      stdout=subprocess.DEVNULL,
                                      stderr=open(tmp_path / f"replica-{i}.log", "wb"))  # noqa: SIM115
                     for i, port in enumerate(ports)]  # started together: each fires the due slot at start
        try:
            wait_until(lambda: all(_answers(port) for port in ports), timeout=START_TIMEOUT)
            wait_until(lambda: [r.finished_at is not None for r in scheduled_runs()] == [True], timeout=30)
            time.sleep(2)  # the later replicas' fires of the same slot have come and gone by now
            assert len(scheduled_runs()) == 1
            alerts = [c for c in double.calls if _is_alert(c)]
            assert len(alerts) == 1 and "dave@example.com" in str(alerts[0].args["blocks"])

            _create_across_replicas(double, [f"http://127.0.0.1:{port}/slack/events" for port in ports], google)
            with store.session_scope(runtime.db) as session:
                created = store.get_job_by_name(session, name="Partners for Sales")
                assert created is not None and created.created_by == ADMIN
                kinds = {(s.kind.value, s.value) for s in store.list_selectors(session, job_id=created.id or 0)}
                assert kinds == {("email", "bob@example.com")}
            for process in processes:
                process.send_signal(signal.SIGTERM)
            for i, process in enumerate(processes):
                try:
                    assert process.wait(timeout=30) == 0
                except subprocess.TimeoutExpired:
                    said = (tmp_path / f"replica-{i}.log").read_text(errors="replace")[-3000:]
                    stuck = f"replica {i} still running 30 s after SIGTERM; its last lines:\n{said}"
                    raise AssertionError(stuck) from None
        finally:
            for process in processes:
                if process.poll() is None:
                    process.kill()
                    process.wait()
    assert len(scheduled_runs()) == 1
    assert len([c for c in double.calls if _is_alert(c)]) == 1
    logs = "".join((tmp_path / f"replica-{i}.log").read_text() for i in range(REPLICAS))
    assert "Traceback" not in logs


def _create_across_replicas(double: SlackDouble, urls: list[str], google: Google) -> None:
    """Step 1 through replica A, its submission through B, step 2's pick through C, the submit through B."""
    seed = google.seed
    at_a = SlackUser(double, urls[0], SECRET, user_id=ADMIN, user_name="ada")
    at_b, at_c = at_a.via(urls[1]), at_a.via(urls[2])

    def updated(mark: int) -> None:
        double.wait_for(lambda c: c.method == "views.update", after=mark, timeout=15)

    mark = double.mark()
    assert at_a.command("create").status == 200
    double.wait_for(lambda c: c.method == "views.open", after=mark, timeout=15)
    at_a.enter("name", "Partners for Sales")
    mark = double.mark()
    at_a.choose("source_user", (seed.source_email, seed.source_email))
    updated(mark)
    mark = double.mark()
    at_a.choose("group_select", (seed.source_group_name, seed.source_group_name))
    updated(mark)
    at_a.enter("target_group_name", "Partners in Sales")  # "Partners" is the first sync's label at bob's
    at_a.enter("schedule", "every 2h")
    at_a.enter("alert_channel", CHANNEL)

    answer = at_b.submit()
    assert answer.status == 200 and answer.json()["response_action"] == "push", answer.text
    assert at_b.modal()["callback_id"] == "cs_targets"

    at_c.fill({"pick_users": [("email:bob@example.com", "Bob")]})
    mark = double.mark()
    at_c.click("targets_add")
    updated(mark)
    assert "bob@example.com" in str(at_c.modal()["blocks"])

    mark = double.mark()
    answer = at_b.submit()
    assert answer.status == 200 and answer.json() == {"response_action": "clear"}, answer.text
    double.wait_for(lambda c: c.method == "chat.postMessage" and "created" in str(c.args.get("text")), after=mark,
                    timeout=15)
