"""CONTACTSYNC_LOG_FORMAT=json: one JSON object per line, the run, job and target as fields (from the engine's
contextvars, across the thread pool of targets), and redaction as in text lines."""

from __future__ import annotations

import io
import json
import logging
import string
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contactsync.logs import REDACTED, SecretRedactor, formatter
from sync_core.domain.reports import TargetReport
from sync_core.domain.status import TargetStatus
from sync_core.observability import log_context
from sync_core.observability.log_context import RunContextFilter
from sync_core.observability.metrics import Metrics
from sync_core.observability.observe import observed_target
from sync_core.run.parking import Park, Steps

TOKEN = "xoxb-1234-5678-AbCdEfGhIjKlMnOp"


@contextmanager
def json_logger(name: str) -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger writing JSON lines into a buffer through the product's formatter and filters."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter("json"))
    handler.addFilter(SecretRedactor())
    handler.addFilter(RunContextFilter())
    logger = logging.getLogger(name)
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    try:
        yield logger, out
    finally:
        logger.removeHandler(handler)


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    with json_logger("tests.json_logs") as logged:
        yield logged


def lines(out: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_lines_carry_the_run_job_and_target_of_their_thread(
        captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, out = captured
    logger.info("before any run")
    RUN_ID, JOB = log_context.RUN_ID, log_context.JOB

    class User:
        def __init__(self, email: str) -> None:
            self.email = email

    def in_run() -> None:
        JOB.set("Partners")
        RUN_ID.set(42)
        logger.info("the run starts")

        @observed_target(Metrics(), dry_run=False)
        def work(user: User, leaving: bool) -> Steps[TargetReport]:
            logger.info("syncing")
            yield Park(0.0)  # resumed on another thread
            logger.info("syncing")
            return TargetReport(user.email, "1", TargetStatus.ok)

        targets = [work(User("bob@example.com"), False), work(User("carol@example.com"), False)]
        with ThreadPoolExecutor(2) as first, ThreadPoolExecutor(2) as then:  # no context of their own
            list(first.map(next, targets))
            with pytest.raises(StopIteration):
                then.submit(targets[0].send, None).result()
            with pytest.raises(StopIteration):
                then.submit(targets[1].send, None).result()

    import contextvars
    contextvars.copy_context().run(in_run)
    logger.info("after the run")
    got = lines(out)
    assert "run_id" not in got[0] and "job" not in got[0]
    assert (got[1]["run_id"], got[1]["job"], "target" in got[1]) == (42, "Partners", False)
    syncing = [line for line in got if line["message"] == "syncing"]
    assert sorted(str(line["target"]) for line in syncing) == ["bob@example.com"] * 2 + ["carol@example.com"] * 2
    assert all(line["run_id"] == 42 and line["job"] == "Partners" for line in syncing)
    assert "run_id" not in got[-1] and got[-1]["message"] == "after the run"
    assert {"time", "level", "logger", "message"} <= got[0].keys() and got[0]["level"] == "INFO"


@given(words=st.text(string.printable, max_size=80))
def test_every_line_is_one_json_object_without_the_secret(words: str) -> None:
    token = log_context.JOB.set(f"job {TOKEN}")
    try:
        with json_logger("tests.json_logs.any") as (logger, out):
            logger.warning("%s with %s", words, TOKEN)
            try:
                raise ValueError(f"bad {TOKEN}\n{words}")
            except ValueError:
                logger.exception("failed: %s", words)
    finally:
        log_context.JOB.reset(token)
    written = out.getvalue()
    assert TOKEN not in written
    got = [json.loads(line) for line in written.splitlines()]
    assert len(got) == 2  # a newline in a message or a traceback stays inside its JSON string
    assert got[1]["exception"].startswith("Traceback") and REDACTED in got[1]["exception"]
    assert got[0]["job"] == f"job {REDACTED}"


def test_text_stays_the_default() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", (), None)
    assert formatter("text").format(record).endswith("INFO x: hello")


def test_text_lines_name_the_run_job_and_target_in_a_bracket_redacted_alike() -> None:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter("text"))
    handler.addFilter(SecretRedactor())
    handler.addFilter(RunContextFilter())
    logger = logging.getLogger("tests.text_logs")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False

    def in_run() -> None:
        log_context.RUN_ID.set(12)
        log_context.JOB.set("Partners for Sales")
        logger.info("the run starts")
        log_context.TARGET.set("bob@example.com")
        logger.warning("bob's quota with %s", TOKEN)
        log_context.JOB.set(f"leaky {TOKEN}")
        logger.info("renamed")

    import contextvars
    try:
        logger.info("outside any run")
        contextvars.copy_context().run(in_run)
    finally:
        logger.removeHandler(handler)
    got = [line.split(" ", 2)[2] for line in out.getvalue().splitlines()]  # after the date and time
    assert got == [
        "INFO tests.text_logs: outside any run",
        'INFO tests.text_logs: [run=12 job="Partners for Sales"] the run starts',
        'WARNING tests.text_logs: [run=12 job="Partners for Sales" target=bob@example.com] '
        f"bob's quota with {REDACTED}",
        f'INFO tests.text_logs: [run=12 job="leaky {REDACTED}" target=bob@example.com] renamed',
    ]
