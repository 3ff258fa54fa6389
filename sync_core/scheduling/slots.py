"""Which replica runs a scheduled slot. Pure.

Every `serve` replica schedules every job, so each slot fires once per replica, within a few seconds of
each other (their clocks, their APScheduler wake-ups). The job's lease keeps two of those runs from
overlapping, but not from following each other: a replica whose fire comes after the first run has ended
would run the slot again. So a fire first claims the slot on the job's row (`store.claim_slot`, one
conditional UPDATE): it succeeds only if no claim was made within the slot's *claim window* before it.

The window is half the spacing of the job's slots:
- an interval schedule: half the interval. Replicas count intervals from the last run each one saw when
  it scheduled the job, so their slots may drift apart; with this window the job still runs at most once
  per half interval however they drift, and the first replica's cadence wins.
- a cron schedule: its slots are absolute (the same on every replica), at least `MIN_INTERVAL` (5 minutes)
  apart, so half of that: 150 s, far more than replicas' fires of one slot are apart.
A fire delayed by less than the window (a busy run pool) still claims its slot.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sync_core.domain.schedule import MIN_INTERVAL, Schedule


def claim_window(schedule: Schedule) -> timedelta:
    """Fires of one job closer together than this are one slot."""
    if schedule.interval is not None:
        return schedule.interval / 2
    return MIN_INTERVAL / 2


def free_before(schedule: Schedule, fired_at: datetime) -> datetime:
    """A fire at `fired_at` may claim the slot if the job's last claim is at or before this moment."""
    return fired_at - claim_window(schedule)


def may_claim(schedule: Schedule, fired_at: datetime, last_claim: datetime | None) -> bool:
    """The rule `store.claim_slot` applies in one UPDATE, for tests and for reading."""
    return last_claim is None or last_claim <= free_before(schedule, fired_at)
