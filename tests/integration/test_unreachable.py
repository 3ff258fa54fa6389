"""Google out of reach (connection refused) is its own failure, `unreachable`: retried for a few seconds,
not the 20 s of backoff a 5xx gets, and never reported as quota."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from sync_core.alerting.alerts import observe
from sync_core.domain.models import AlertKind, RunStatus
from sync_core.google.calls import Executor
from sync_core.google.errors import Unreachable, translate
from sync_core.runtime import Runtime
from sync_core.service import JobService
from sync_core.settings import load_settings
from tests.conftest import Google
from tests.integration.helpers import create_job, make_runtime


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # nothing listens once the socket is closed


def test_a_run_against_a_closed_port_reports_unreachable_quickly(google: Google, tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'cs.db'}"
    create_job(make_runtime(google, db_url), google, "email:bob@example.com")
    # Default retry settings (6 attempts, waits up to 60 s): what a user runs with.
    cut_off = Runtime(load_settings(
        DATABASE_URL=db_url,
        GOOGLE_APPLICATION_CREDENTIALS=str(google.handle.credentials_file),
        CONTACTSYNC_ADMIN_EMAIL=google.seed.admin_email,
        CONTACTSYNC_GOOGLE_API_ENDPOINT=f"http://127.0.0.1:{closed_port()}",
    ))

    started = time.monotonic()
    report = JobService(cut_off).run("Partners")
    took = time.monotonic() - started

    assert report.status is RunStatus.failed
    assert report.error_kind == "unreachable", (report.error_kind, report.error_reason)
    assert "could not be reached" in (report.error_reason or "")
    assert took < 10, took
    observation = observe(report)
    assert observation is not None
    assert {f.kind for f in observation.failures.values()} == {AlertKind.source_unreachable}


class Refused:
    """A request whose every attempt meets a closed port."""

    def __init__(self) -> None:
        self.attempts = 0

    def execute(self, http: object = None, num_retries: int = 0) -> object:
        self.attempts += 1
        raise ConnectionRefusedError(111, "Connection refused")


@pytest.mark.parametrize("budget", [0.3, 1.0])
def test_connection_refused_is_retried_within_its_budget_then_unreachable(budget: float) -> None:
    request = Refused()
    executor = Executor(attempts=50, base_wait=0.05, max_wait=60, unreachable_seconds=budget)
    started = time.monotonic()
    with pytest.raises(Unreachable) as raised:
        executor.execute(request, "people.get")
    took = time.monotonic() - started
    assert raised.value.kind == "unreachable"
    assert request.attempts > 1  # retried...
    assert budget <= took < budget + 0.5  # ...for its budget, not for 50 attempts of backoff


def test_a_network_error_translates_to_unreachable_not_quota() -> None:
    error = translate(ConnectionRefusedError(111, "Connection refused"))
    assert isinstance(error, Unreachable) and error.kind == "unreachable"
