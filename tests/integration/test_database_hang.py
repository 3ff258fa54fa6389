"""A database server that stops answering (frozen, or a host dropping packets) must not hang the readiness
probe: /readyz says so within its bound, and answers again once the server does. The server is the test's
own (tests/pg_instance.py), frozen with SIGSTOP: a real connect that gets no answer."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator

import pytest

from bot.health import DATABASE_TIMEOUT_SECONDS, database_check
from sync_core import store
from sync_core.service.health import database_problem
from tests.pg_instance import PostgresInstance, postgres_instance


@pytest.fixture
def own_postgres() -> Iterator[PostgresInstance]:
    with postgres_instance() as instance:
        yield instance


def _postmaster_pid(instance: PostgresInstance) -> int:
    return int((instance.data / "postmaster.pid").read_text().splitlines()[0])


def test_readiness_answers_within_its_bound_while_the_database_hangs(own_postgres: PostgresInstance) -> None:
    engine = store.make_engine(own_postgres.url)
    check = database_check(lambda: database_problem(engine))
    assert check() is None

    engine.dispose()  # no pooled connection left: the next check must connect, as after a restart
    pid = _postmaster_pid(own_postgres)
    os.kill(pid, signal.SIGSTOP)
    try:
        assert check() == f"no answer within {DATABASE_TIMEOUT_SECONDS:g} s"
        assert check() == f"no answer within {DATABASE_TIMEOUT_SECONDS:g} s"  # still out: not asked twice
    finally:
        os.kill(pid, signal.SIGCONT)

    deadline = time.monotonic() + 30
    answer = check()
    while answer is not None and time.monotonic() < deadline:
        time.sleep(0.2)
        answer = check()
    assert answer is None, answer
    engine.dispose()
