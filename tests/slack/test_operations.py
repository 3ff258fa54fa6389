"""The operations endpoints of a real `contactsync serve` (its own process, the emulator, the Slack double):
/healthz, /readyz and /metrics over HTTP beside /slack/events, and in Socket Mode on PORT; JSON log lines
that name the run, the job and the target."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from slack_double import SlackDouble, SlackUser
from sync_core import store
from sync_core.domain.models import Run, SyncJob
from sync_core.service import PersonalJobSpec
from sync_core.service.create import create_personal_job
from tests.conftest import Google
from tests.integration.helpers import make_runtime

from .conftest import ADMIN, SECRET, TOKEN
from .test_serve import free_port, wait_until
from .test_socket_mode import serve_env

ROOT = Path(__file__).parents[2]
TARGETS = ["email:bob@example.com", "email:carol@example.com"]


@dataclass
class Answer:
    status: int
    body: bytes
    headers: dict[str, str]

    def json(self) -> dict[str, object]:
        return json.loads(self.body)  # type: ignore[no-any-return]


def get(base: str, path: str, method: str = "GET") -> Answer:
    request = urllib.request.Request(base + path, method=method)
    try:
        with urllib.request.urlopen(request, timeout=15) as answer:
            return Answer(answer.status, answer.read(), dict(answer.headers))
    except urllib.error.HTTPError as error:
        return Answer(error.code, error.read(), dict(error.headers))


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a Prometheus text exposition, parsed by prometheus_client's own parser."""
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(parsed: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float | None:
    return parsed.get((name, frozenset(labels.items())))


def total(parsed: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    """The sum of `name`'s samples whose labels include `labels`."""
    return sum(v for (n, ls), v in parsed.items() if n == name and set(labels.items()) <= ls)


def metrics(base: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    answer = get(base, "/metrics")
    assert answer.status == 200 and answer.headers["Content-Type"].startswith("text/plain")
    return samples(answer.body.decode())


def start_serve(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen([sys.executable, "-m", "contactsync.cli", "serve"], env=env, cwd=ROOT,
                                stdout=out, stderr=subprocess.STDOUT)


def stop_serve(process: subprocess.Popen[bytes]) -> int:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            return process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
    return process.wait()


def answering(base: str) -> bool:
    try:
        return get(base, "/healthz").status == 200
    except OSError:
        return False


def create_jobs(google: Google, db_url: str) -> tuple[SyncJob, SyncJob]:
    """An enabled job over two targets, and a paused one."""
    runtime = make_runtime(google, db_url)
    seed = google.seed
    jobs = []
    for name, group in (("Partners", seed.source_group_name), ("Paused one", seed.source_group_name)):
        spec = PersonalJobSpec(name=name, source_email=seed.source_email, group_name=group, targets=TARGETS,
                               target_group_name=name)
        jobs.append(create_personal_job(runtime.db, spec=spec, directory=runtime.directory(),
                                        people_for=runtime.people))
    with store.session_scope(runtime.db) as session:
        paused = session.get(SyncJob, jobs[1].id)
        assert paused is not None
        paused.enabled = False
        session.add(paused)
    runtime.db.dispose()
    return jobs[0], jobs[1]


def finished_runs(db_url: str, job_id: int) -> list[Run]:
    engine = store.make_engine(db_url)
    try:
        with store.session_scope(engine) as session:
            return [r for r in store.last_runs(session, job_id=job_id) if r.finished_at is not None]
    finally:
        engine.dispose()


def test_http_serve_answers_health_readiness_and_metrics_and_logs_json(
        google: Google, postgres_url: str, tmp_path: Path) -> None:
    job, _paused = create_jobs(google, postgres_url)
    assert job.id is not None
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    double = SlackDouble().start()
    env = {**serve_env(google, double, postgres_url), "PORT": str(port), "CONTACTSYNC_LOG_FORMAT": "json",
           "CONTACTSYNC_SCHEDULER_WATCH_SECONDS": "0", "CONTACTSYNC_READY_SLACK_CACHE_SECONDS": "2"}
    env.pop("SLACK_APP_TOKEN")
    process = start_serve(env, log)
    try:
        wait_until(lambda: answering(base))
        health = get(base, "/healthz")
        assert (health.status, health.body) == (200, b"ok\n")
        assert get(base, "/healthz", "HEAD").body == b""
        refused = get(base, "/metrics", "POST")
        assert refused.status == 405 and refused.headers["Allow"] == "GET, HEAD"
        assert get(base, "/nothing-here").status == 404  # the guard's answer, as before

        # the bot's directory snapshot (behind the pickers) reads Google once at start: wait for it to settle
        def settled_calls() -> float:
            first = total(metrics(base), "contactsync_google_calls_total")
            time.sleep(0.5)
            return first if first == total(metrics(base), "contactsync_google_calls_total") > 0 else -1

        wait_until(lambda: settled_calls() >= 0)
        calls_at_start = total(metrics(base), "contactsync_google_calls_total")

        # a run, asked for in Slack
        user = SlackUser(double, f"{base}/slack/events", SECRET, user_id=ADMIN)
        assert user.command("run Partners").status == 200
        wait_until(lambda: len(finished_runs(postgres_url, job.id)) == 1)
        run = finished_runs(postgres_url, job.id)[0]
        assert run.status.value == "ok" and run.api_calls > 0

        # counted once the run returns, after its row is recorded and Slack told
        wait_until(lambda: total(metrics(base), "contactsync_runs_total") > 0)
        parsed = metrics(base)
        assert value(parsed, "contactsync_runs_total", status="ok", trigger="slack") == 1
        assert total(parsed, "contactsync_runs_total") == 1
        assert value(parsed, "contactsync_targets_total", status="ok") == len(TARGETS)
        assert total(parsed, "contactsync_targets_total") == len(TARGETS)
        # every request the run sent, by method: the run's own count, which the run row keeps
        assert total(parsed, "contactsync_google_calls_total") - calls_at_start == run.api_calls
        assert total(parsed, "contactsync_google_calls_total", outcome="ok") == total(
            parsed, "contactsync_google_calls_total")
        assert value(parsed, "contactsync_google_calls_total", method="people.batchCreateContacts",
                     outcome="ok") == len(TARGETS)
        assert value(parsed, "contactsync_run_duration_seconds_count") == 1
        assert value(parsed, "contactsync_target_duration_seconds_count") == len(TARGETS)
        for state, count in (("enabled", 1), ("paused", 1), ("deleting", 0)):
            assert value(parsed, "contactsync_jobs", state=state) == count, state
        assert value(parsed, "contactsync_database_up") == 1
        # the first run took the source's contacts to both targets: a change, and when it reached the last one
        with store.session_scope(engine := store.make_engine(postgres_url)) as session:
            row = session.get(SyncJob, job.id)
            assert row is not None and row.source_changed_at and row.source_change_reached_at
            changed, reached = row.source_changed_at, row.source_change_reached_at
        engine.dispose()
        assert value(parsed, "contactsync_source_last_change_timestamp_seconds",
                     job="Partners") == pytest.approx(changed.timestamp())
        assert value(parsed, "contactsync_source_change_propagation_seconds",
                     job="Partners") == pytest.approx((reached - changed).total_seconds())
        assert value(parsed, "contactsync_source_last_change_timestamp_seconds", job="Paused one") is None
        # the run succeeded: its end is the job's last success (a paused job has none to show)
        assert run.finished_at is not None
        assert value(parsed, "contactsync_job_last_success_timestamp_seconds",
                     job="Partners") == pytest.approx(run.finished_at.timestamp())
        assert value(parsed, "contactsync_job_last_success_timestamp_seconds", job="Paused one") is None
        assert "@example.com" not in get(base, "/metrics").body.decode()  # no address is a label

        # ready: the database, the scheduler and Slack all answer; Slack is asked once per cache period
        calls_before = len(double.calls_to("auth.test"))
        started = time.monotonic()
        for _ in range(5):
            ready = get(base, "/readyz")
            assert ready.status == 200, ready.body
        assert ready.json() == {"status": "ready",
                                "checks": {"database": "ok", "scheduler": "ok", "slack": "ok"}}
        asked = len(double.calls_to("auth.test")) - calls_before
        assert asked <= 1 + int((time.monotonic() - started) / 2)
        assert get(base, "/readyz", "HEAD").status == 200

        # Slack goes away: not ready, naming Slack (once the cached answer is older than 2 s)
        double.stop()
        time.sleep(2.1)
        ready = get(base, "/readyz")
        assert ready.status == 503 and ready.json()["failed"] == ["slack"], ready.body
        assert "Slack cannot be reached" in str(ready.json()["checks"])

        # the database goes away too: named, and /metrics still answers its counters
        database = make_url(postgres_url).database
        admin = create_engine(make_url(postgres_url).set(database="test"), isolation_level="AUTOCOMMIT",
                              poolclass=NullPool)
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE "{database}" WITH (FORCE)')
        admin.dispose()
        ready = get(base, "/readyz")
        assert ready.status == 503 and ready.json()["failed"] == ["database", "slack"], ready.body
        assert "does not exist" in str(ready.json()["checks"])
        parsed = metrics(base)
        assert value(parsed, "contactsync_database_up") == 0
        assert value(parsed, "contactsync_runs_total", status="ok", trigger="slack") == 1
    finally:
        stop_serve(process)
        double.stop()
        text = log.read_text()
        print(text[-5000:])  # shown when the test fails

    # every line is one JSON object; the run's lines name the run and the job, a target's lines the target too
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    assert all({"time", "level", "logger", "message"} <= line.keys() for line in lines)
    ended = [line for line in lines if line["message"].startswith("run finished: ok")]
    assert [(line["run_id"], line["job"]) for line in ended] == [(run.id, "Partners")]
    assert "target" not in ended[0]
    targets = {line["target"] for line in lines if line.get("run_id") == run.id and "target" in line}
    assert targets == {"bob@example.com", "carol@example.com"}
    assert TOKEN not in text and SECRET not in text


@pytest.fixture
def socket_ops(google: Google, tmp_path: Path) -> Iterator[tuple[str, SlackDouble]]:
    db_url = f"sqlite:///{tmp_path / 'socket.db'}"
    create_jobs(google, db_url)
    port = free_port()
    with SlackDouble() as double:
        env = {**serve_env(google, double, db_url), "PORT": str(port)}
        log = tmp_path / "serve.log"
        process = start_serve(env, log)
        try:
            double.socket_mode.wait_connected(timeout=60)
            base = f"http://127.0.0.1:{port}"
            wait_until(lambda: answering(base))
            yield base, double
            assert stop_serve(process) == 0, log.read_text()
        except BaseException:
            print(log.read_text())
            raise
        finally:
            stop_serve(process)


def test_socket_mode_serves_health_readiness_and_metrics_on_port(socket_ops: tuple[str, SlackDouble]) -> None:
    base, double = socket_ops
    assert double.socket_mode.connected == 1
    assert (get(base, "/healthz").status, get(base, "/healthz").body) == (200, b"ok\n")
    ready = get(base, "/readyz")
    assert ready.status == 200 and ready.json()["checks"] == {"database": "ok", "scheduler": "ok", "slack": "ok"}
    parsed = metrics(base)
    for state, count in (("enabled", 1), ("paused", 1), ("deleting", 0)):
        assert value(parsed, "contactsync_jobs", state=state) == count, state
    assert total(parsed, "contactsync_runs_total") == 0
    # nothing else is served there: Slack's events come over the socket
    assert get(base, "/slack/events", "POST").status == 404
    assert get(base, "/readyz", "DELETE").status == 405
