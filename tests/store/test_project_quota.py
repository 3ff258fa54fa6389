"""The per-project quota budget in the database: shared by every process, all of a call's units or none."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from sqlalchemy import Engine

from sync_core.google.pacer import Pacer
from sync_core.google.quota import Metric, QuotaLimits, parse_project_quotas
from sync_core.google.quota_store import DatabaseProjectBudget

WRITE = {Metric.critical_read: 6, Metric.critical_write: 6}


class Clock:
    def __init__(self, now: float = 6_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_parse_project_quotas() -> None:
    assert parse_project_quotas("") == {}
    assert parse_project_quotas(" critical_write=1200, critical_read=2400 ") == {
        Metric.critical_write: 1200,
        Metric.critical_read: 2400,
    }
    for bad in ("critical_write", "critical_write=0", "critical_write=x", "nope=3", "daily_write=5"):
        with pytest.raises(ValueError):
            parse_project_quotas(bad)


def test_the_budget_refuses_past_the_limit_and_frees_room_as_the_window_slides(engine: Engine) -> None:
    clock = Clock()
    budget = DatabaseProjectBudget(engine, {Metric.critical_write: 30}, clock=clock)
    assert [budget.take(WRITE) for _ in range(5)] == [0.0] * 5
    assert budget.take(WRITE) > 0  # 36 > 30 in this window
    clock.now += 60  # the next window: the previous one still counts in full at its very start
    assert budget.take(WRITE) > 0
    clock.now += 30  # half of it has slid out: 15 carried, 15 of room
    assert budget.take(WRITE) == 0.0 and budget.take(WRITE) == 0.0
    assert budget.take(WRITE) > 0
    assert budget.take({Metric.group_read: 1000}) == 0.0  # no budget set for that metric


def test_a_call_takes_all_of_its_units_or_none(engine: Engine) -> None:
    clock = Clock()
    budget = DatabaseProjectBudget(engine, {Metric.critical_read: 12, Metric.critical_write: 100}, clock=clock)
    assert budget.take(WRITE) == 0.0 and budget.take(WRITE) == 0.0
    assert budget.take(WRITE) > 0  # reads are spent: the writes are not taken either
    # The refused call took no writes either: 12 are spent, so a budget of 24 writes has room for two more.
    other = DatabaseProjectBudget(engine, {Metric.critical_write: 24}, clock=clock)
    assert other.take(WRITE) == 0.0 and other.take(WRITE) == 0.0
    assert other.take(WRITE) > 0


def test_budgets_on_one_database_share_it(engine: Engine) -> None:
    clock = Clock()
    limits = {Metric.critical_write: 60}
    first = DatabaseProjectBudget(engine, limits, clock=clock)
    second = DatabaseProjectBudget(engine, limits, clock=clock)
    granted = [budget.take(WRITE) == 0.0 for _ in range(6) for budget in (first, second)]
    assert granted.count(True) == 10  # 60 units between them, 6 a call


@pytest.mark.postgres
def test_concurrent_processes_never_pass_the_project_budget_together(postgres_url: str) -> None:
    """Three real processes spend as fast as they can from one budget: together they get exactly the limit."""
    script = textwrap.dedent(
        f"""
        import time
        from sync_core.store import open_database
        from sync_core.google.quota import Metric
        from sync_core.google.quota_store import DatabaseProjectBudget
        budget = DatabaseProjectBudget(open_database({postgres_url!r}), {{Metric.critical_write: 300}},
                                       window_seconds=3600, clock=lambda: 7_200_000.0)
        print(sum(budget.take({{Metric.critical_write: 6}}) == 0.0 for _ in range(40)))
        """
    )
    from sync_core.store import open_database

    open_database(postgres_url).dispose()  # migrate once, before the processes race
    procs = [subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True) for _ in range(3)]
    granted = [int(p.communicate(timeout=120)[0].strip()) for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert sum(granted) == 50  # 300 units / 6 a call, whoever got them


def test_the_pacer_waits_for_the_project_budget(engine: Engine) -> None:
    clock = Clock()
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.now += seconds

    budget = DatabaseProjectBudget(engine, {Metric.critical_write: 12}, clock=clock)
    pacer = Pacer(QuotaLimits(), clock=clock, sleep=sleep, project=budget)
    users = [pacer.for_user(f"user{i}@example.com") for i in range(3)]
    for user in users:  # three users, each well within their own quota: the project's is what binds
        user.reserve("people.batchCreateContacts", contacts=200)
    assert slept and sum(slept) >= 6.0  # the third waited for the window to slide
    # ...and while it waited, its own user's units were given back: nothing was spent twice.
    assert pacer.spent("user2@example.com", Metric.critical_write) == 6


def test_peek_says_what_take_would_and_takes_nothing(engine: Engine) -> None:
    clock = Clock()
    budget = DatabaseProjectBudget(engine, {Metric.critical_write: 12}, clock=clock)
    assert budget.peek(WRITE) == 0.0
    assert budget.peek(WRITE) == 0.0  # nothing was taken
    assert budget.take(WRITE) == 0.0 and budget.take(WRITE) == 0.0
    waiting = budget.peek(WRITE)
    assert waiting > 0 and waiting == budget.take(WRITE)
    assert budget.peek({Metric.critical_read: 1}) == 0.0  # a metric with no project limit never waits
    clock.now += 120  # two windows on: the budget is whole again
    assert budget.peek(WRITE) == 0.0


def test_a_target_parks_for_a_spent_project_budget_instead_of_holding_its_worker(engine: Engine) -> None:
    clock = Clock()
    slept: list[float] = []
    budget = DatabaseProjectBudget(engine, {Metric.critical_write: 12}, clock=clock)
    pacer = Pacer(QuotaLimits(), clock=clock, sleep=slept.append, project=budget)
    for i in range(2):
        pacer.for_user(f"user{i}@example.com").reserve("people.batchCreateContacts", contacts=200)
    third = pacer.for_user("user2@example.com")
    park = third.park_for("people.batchCreateContacts", contacts=200, at_least=0.5)
    assert park > 0.5 and slept == []  # the user's own quota has room: the project's is what it waits for
    assert third.waited == park  # counted against the target's wait budget, as a sleep in reserve is
    assert pacer.spent("user2@example.com", Metric.critical_write) == 0  # nothing spent by looking
