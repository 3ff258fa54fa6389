"""`serve` in its own process brings a source edit to every target long before the job's hourly slot, and
costs one People call per job per watch while nothing changes."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from slack_double import SlackDouble
from sync_core import store
from sync_core.domain.models import RunTrigger
from sync_core.runtime import Runtime
from sync_core.service import PersonalJobSpec
from sync_core.service.create import create_personal_job
from tests.conftest import Google
from tests.integration.helpers import as_user, given_name, make_runtime, ours, source_keys

from .test_serve import serve_env, serve_process, wait_until

TARGETS = ("bob@example.com", "carol@example.com", "zoe@example.com", "lilei@example.org", "dave@example.com")
WATCH_SECONDS = 1.0
CLI = "from contactsync.cli import main; main()"


def _hourly_job_synced_once(google: Google, tmp_path: Path) -> tuple[Runtime, int, str]:
    """A job to TARGETS, first synced: its next scheduled run is an hour away. (runtime, job id, DATABASE_URL)"""
    db_url = f"sqlite:///{tmp_path / 'serve.db'}"
    runtime = make_runtime(google, db_url)
    spec = PersonalJobSpec(name="Partners", source_email=google.seed.source_email,
                           group_name=google.seed.source_group_name, targets=[f"email:{t}" for t in TARGETS],
                           schedule="every 1h")
    job = create_personal_job(runtime.db, spec=spec, directory=runtime.directory(), people_for=runtime.people)
    assert job.id is not None
    runtime.engine.run(job.id)
    return runtime, job.id, db_url


def _people_calls(google: Google) -> dict[str, int]:
    return {m: n for m, n in google.handle.control.calls()["byMethod"].items() if m.startswith("people.")}


def test_a_source_edit_reaches_every_target_without_waiting_for_the_schedule(google: Google, tmp_path: Path) -> None:
    runtime, job_id, db_url = _hourly_job_synced_once(google, tmp_path)
    with SlackDouble() as double:
        env = serve_env(google, db_url, double.api_url, CONTACTSYNC_RETRY_MAX_WAIT_SECONDS="0.01",
                        CONTACTSYNC_SCHEDULER_WATCH_SECONDS=str(WATCH_SECONDS))
        with serve_process(env) as process:
            google.handle.control.reset_calls()
            wait_until(lambda: _people_calls(google) != {}, timeout=60)  # started, and watching
            google.handle.control.reset_calls()
            time.sleep(4 * WATCH_SECONDS)
            people = _people_calls(google)
            assert set(people) == {"people.people.connections.list"}, people  # nothing but the watch's read
            assert 2 <= people["people.people.connections.list"] <= 6  # one a watch: about 4 in 4 watches

            edited = sorted(source_keys(google))[0]
            alice = as_user(runtime, google.seed.source_email).people()
            person = alice.get(resourceName=edited, personFields="names").execute()
            alice.updateContact(resourceName=edited, updatePersonFields="names",
                                body={"etag": person["etag"], "names": [{"givenName": "Fresh", "familyName": "Edit"}]},
                                ).execute()
            edited_at = time.monotonic()

            def everywhere() -> bool:
                return all(given_name(ours(google, t)[edited]) == "Fresh" for t in TARGETS)

            wait_until(everywhere, timeout=60)
            took = time.monotonic() - edited_at
            assert took < 30, f"the edit took {took:.1f}s to reach every target"
            wait_until(lambda: _reached(runtime, job_id), timeout=30)
            with store.session_scope(runtime.db) as session:
                triggers = [r.trigger for r in store.last_runs(session, job_id=job_id)]
            assert triggers[0] is RunTrigger.watch and RunTrigger.schedule not in triggers

            shown = subprocess.run(
                [sys.executable, "-c", CLI, "jobs", "show", "Partners", "--json"],
                env=env, capture_output=True, text=True, timeout=60, check=True,
            )
            data = json.loads(shown.stdout)
            assert data["source_changed_at"] and data["source_change_reached_at"]
            assert 0 <= data["source_change_took_seconds"] < 60
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=30) == 0


def _reached(runtime: Runtime, job_id: int) -> bool:
    with store.session_scope(runtime.db) as session:
        job = store.get_job(session, job_id=job_id)
        return bool(job and job.source_change_reached_at and job.source_changed_at
                    and job.source_change_reached_at >= job.source_changed_at)


def test_with_default_settings_an_edit_is_everywhere_within_two_minutes(google: Google, tmp_path: Path) -> None:
    """The issue's promise as a user gets it: nothing about the watch configured, an hourly schedule."""
    runtime, _job_id, db_url = _hourly_job_synced_once(google, tmp_path)
    with SlackDouble() as double:
        env = serve_env(google, db_url, double.api_url)
        for name in [n for n in env if n.startswith("CONTACTSYNC_SCHEDULER_")]:
            env.pop(name)
        with serve_process(env) as process:
            wait_until(lambda: double.calls_to("auth.test") != [], timeout=60)  # serve is up
            edited = sorted(source_keys(google))[0]
            alice = as_user(runtime, google.seed.source_email).people()
            person = alice.get(resourceName=edited, personFields="names").execute()
            alice.updateContact(resourceName=edited, updatePersonFields="names",
                                body={"etag": person["etag"], "names": [{"givenName": "Default"}]}).execute()
            edited_at = time.monotonic()
            wait_until(lambda: all(given_name(ours(google, t)[edited]) == "Default" for t in TARGETS),
                       timeout=150)
            took = time.monotonic() - edited_at
            assert took <= 120, f"the edit took {took:.0f}s to reach every target"
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=30) == 0
