"""Never two runs of one job at once, across real processes: two `contactsync run` started together on
one PostgreSQL store. The database lease lets exactly one run; the other says so and records nothing."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from sync_core import store
from tests.conftest import Google
from tests.integration.helpers import create_job, make_runtime


@pytest.mark.postgres
def test_two_processes_never_run_one_job_at_once(google: Google, postgres_url: str) -> None:
    rt = make_runtime(google, postgres_url)
    create_job(rt, google, "email:bob@example.com")
    google.handle.control.set_latency(150)  # a run now takes seconds: the two will overlap
    env = {
        **os.environ,
        "DATABASE_URL": postgres_url,
        "GOOGLE_APPLICATION_CREDENTIALS": str(google.handle.credentials_file),
        "CONTACTSYNC_ADMIN_EMAIL": google.seed.admin_email,
        "CONTACTSYNC_GOOGLE_API_ENDPOINT": google.handle.url,
    }
    command = [sys.executable, "-c", "from contactsync.cli import main; main()", "run", "Partners"]
    procs = [
        subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)
    ]
    outcomes = [(p.wait(timeout=120), *p.communicate()) for p in procs]
    google.handle.control.set_latency(0)
    codes = sorted(code for code, _out, _err in outcomes)
    assert codes == [0, 2], outcomes
    refused = next(err for code, _out, err in outcomes if code == 2)
    assert "already running" in refused
    with store.session_scope(rt.db) as session:
        runs = store.last_runs(session, job_id=1)
    assert len(runs) == 1 and runs[0].created == google.seed.contact_count
