"""The scheduler's decisions, as pure functions of explicit times: next run, catch-up, store changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sync_core.domain.schedule import crontab_trigger, crontab_weekdays, parse_schedule
from sync_core.scheduling.scheduler import Change, JobSpec, plan_change, plan_next_run

GRACE = timedelta(minutes=15)


def t(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2030, 1, day, hour, minute, second, tzinfo=UTC)  # 2030-01-07 is a Monday


def plan(schedule: str, reference: datetime, now: datetime):  # type: ignore[no-untyped-def]
    return plan_next_run(parse_schedule(schedule), reference=reference, now=now, grace=GRACE)


# --- intervals -----------------------------------------------------------------------------------
def test_interval_counts_from_the_last_run_so_a_restart_does_not_reset_the_clock() -> None:
    nxt = plan("every 30m", reference=t(7, 10, 0, 12), now=t(7, 10, 20))
    assert (nxt.at, nxt.missed, nxt.catch_up) == (t(7, 10, 30, 12), False, False)


def test_missed_slots_within_grace_run_once_at_the_latest() -> None:
    # 10:30, 11:00 and 11:30 were missed; the latest is 10 minutes old: one run, now.
    nxt = plan("every 30m", reference=t(7, 10), now=t(7, 11, 40))
    assert (nxt.at, nxt.missed, nxt.catch_up) == (t(7, 11, 30), True, True)


def test_missed_slot_exactly_at_the_grace_limit_still_runs() -> None:
    assert plan("every 30m", reference=t(7, 10), now=t(7, 10, 45)).catch_up


def test_missed_slots_beyond_grace_wait_for_the_next_slot_on_the_same_grid() -> None:
    nxt = plan("every 30m", reference=t(7, 10), now=t(7, 11, 50))
    assert (nxt.at, nxt.missed, nxt.catch_up) == (t(7, 12), True, False)


def test_the_grid_follows_the_reference_not_the_hour() -> None:
    assert plan("every 1h", reference=t(7, 9, 17, 45), now=t(7, 12, 20)).at == t(7, 12, 17, 45)  # caught up
    assert plan("every 1h", reference=t(7, 9, 17, 45), now=t(7, 12, 40)).at == t(7, 13, 17, 45)  # too late


def test_the_trigger_continues_the_grid_after_the_catch_up_run() -> None:
    nxt = plan("every 30m", reference=t(7, 10), now=t(7, 11, 40))
    assert nxt.trigger.get_next_fire_time(nxt.at, t(7, 11, 40)) == t(7, 12)


# --- cron ----------------------------------------------------------------------------------------
def test_cron_weekdays_mean_what_crontab_means() -> None:
    # Friday's 07:00 ran; the next weekday 07:00 is Monday's, not Saturday's (APScheduler's own numbering).
    nxt = plan("cron 0 7 * * 1-5", reference=t(11, 7, 0, 3), now=t(12, 12))
    assert (nxt.at, nxt.missed) == (t(14, 7), False)
    assert nxt.at is not None and nxt.at.strftime("%A") == "Monday"


def test_cron_missed_within_grace_runs_once() -> None:
    nxt = plan("cron */10 * * * *", reference=t(7, 9, 0, 5), now=t(7, 9, 44))
    assert (nxt.at, nxt.catch_up) == (t(7, 9, 40), True)


def test_cron_missed_beyond_grace_waits_for_the_next_slot() -> None:
    nxt = plan("cron 0 7 * * *", reference=t(7, 7, 0, 1), now=t(8, 8))
    assert (nxt.at, nxt.missed, nxt.catch_up) == (t(9, 7), True, False)


@pytest.mark.parametrize(
    ("field", "names"),
    [
        ("*", "*"),
        ("1-5", "mon,tue,wed,thu,fri"),
        ("0", "sun"),
        ("7", "sun"),
        ("5-7", "sun,fri,sat"),
        ("*/2", "sun,tue,thu,sat"),
        ("1,3,5", "mon,wed,fri"),
        ("mon-fri", "mon,tue,wed,thu,fri"),
        ("sat,sun", "sun,sat"),
        ("mon-sun", "sun,mon,tue,wed,thu,fri,sat"),
        ("1/2", "mon,wed,fri"),
    ],
)
def test_crontab_weekdays_are_translated_to_names(field: str, names: str) -> None:
    assert crontab_weekdays(field) == names


@pytest.mark.parametrize("field", ["8", "5-1", "funday", "*/0"])
def test_bad_crontab_weekdays_are_refused(field: str) -> None:
    with pytest.raises(ValueError):
        crontab_weekdays(field)


def test_day_of_month_and_weekday_both_restricted_means_either() -> None:
    trigger = crontab_trigger("0 7 1 * 1")  # the 1st of the month, and every Monday
    fires, now = [], t(1, 0)
    previous = None
    for _ in range(4):
        previous = trigger.get_next_fire_time(previous, previous or now)
        fires.append(previous.day)
    assert fires == [1, 7, 14, 21]  # Tue 1 Jan 2030 (the 1st), then Mondays


# --- following the store ---------------------------------------------------------------------------
ON = JobSpec("every 30m", True)
ON_HOURLY = JobSpec("every 1h", True)
OFF = JobSpec("every 30m", False)
BROKEN = JobSpec("every 1s", True, valid=False)
BROKEN_OFF = JobSpec("every 1s", False, valid=False)


@pytest.mark.parametrize(
    ("known", "current", "change"),
    [
        (None, ON, Change.schedule),  # created (or first seen after a restart)
        (None, OFF, None),  # created paused
        (OFF, ON, Change.schedule),  # resumed
        (ON, OFF, Change.unschedule),  # paused
        (ON, None, Change.unschedule),  # deleted
        (OFF, None, None),  # a paused job deleted
        (ON, ON_HOURLY, Change.reschedule),  # schedule edited
        (ON, ON, None),  # something else edited
        (None, BROKEN, Change.invalid),  # reported, once
        (BROKEN, BROKEN, None),
        (ON, BROKEN, Change.unschedule),
        (BROKEN, ON, Change.schedule),  # fixed
        (None, BROKEN_OFF, None),
        (None, None, None),
    ],
)
def test_store_changes_map_to_scheduler_actions(
    known: JobSpec | None, current: JobSpec | None, change: Change | None
) -> None:
    assert plan_change(known, current) == change


def test_job_spec_normalises_the_schedule_text() -> None:
    class Row:
        schedule, enabled = "every 60m", True

    assert JobSpec.of(Row()) == JobSpec("every 1h", True)  # type: ignore[arg-type]
    assert plan_change(JobSpec("every 1h", True), JobSpec.of(Row())) is None  # type: ignore[arg-type]
