"""Job schedules: "every 30m" / "every 2h" / "every 1d", or "cron <5-field crontab>". Pure parsing."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger

EVERY_RE = re.compile(r"^\s*(?:every\s+)?(\d+)\s*(m|min|mins|minutes?|h|hours?|d|days?)\s*$", re.I)
MIN_INTERVAL = timedelta(minutes=5)
DEFAULT_SCHEDULE = "every 60m"


class ScheduleError(ValueError):
    pass


@dataclass(frozen=True)
class Schedule:
    interval: timedelta | None = None
    cron: str | None = None

    def __str__(self) -> str:
        if self.cron is not None:
            return f"cron {self.cron}"
        assert self.interval is not None
        minutes = int(self.interval.total_seconds() // 60)
        if minutes % (24 * 60) == 0:
            return f"every {minutes // (24 * 60)}d"
        if minutes % 60 == 0:
            return f"every {minutes // 60}h"
        return f"every {minutes}m"


def parse_schedule(text: str) -> Schedule:
    """Parse and normalise a schedule; raises ScheduleError with a message for humans."""
    text = text.strip()
    if text.lower().startswith("cron "):
        expr = " ".join(text[5:].split())
        if len(expr.split()) != 5:
            raise ScheduleError(f"bad schedule {text!r}: a cron expression has 5 fields (min hour day month weekday)")
        try:
            crontab_trigger(expr)
        except ValueError as exc:
            raise ScheduleError(f"bad schedule {text!r}: {exc}") from None
        return Schedule(cron=expr)
    match = EVERY_RE.match(text)
    if not match:
        raise ScheduleError(
            f"bad schedule {text!r}: use e.g. 'every 30m', 'every 6h', 'every 1d' or 'cron 0 7 * * 1-5'"
        )
    amount, unit = int(match.group(1)), match.group(2).lower()[0]
    try:
        interval = {"m": timedelta(minutes=amount), "h": timedelta(hours=amount), "d": timedelta(days=amount)}[unit]
    except OverflowError:  # more days than a timedelta holds
        raise ScheduleError(f"bad schedule {text!r}: that interval is too long") from None
    if interval < MIN_INTERVAL:
        raise ScheduleError(
            f"bad schedule {text!r}: the shortest interval is {int(MIN_INTERVAL.total_seconds() // 60)}m"
        )
    return Schedule(interval=interval)


_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def _weekday(token: str, *, range_end: bool = False) -> int:
    """A crontab weekday: 0-7 (0 and 7 are Sunday) or a three-letter name."""
    if token.isdigit():
        day = int(token)
        if day > 7:
            raise ValueError(f"bad day of week {token!r} (0-7, 0 and 7 are Sunday)")
        return day
    if token not in _WEEKDAYS:
        raise ValueError(f"bad day of week {token!r}")
    day = _WEEKDAYS.index(token)
    return 7 if range_end and day == 0 else day  # "mon-sun"


def crontab_weekdays(field_text: str) -> str:
    """Translate a crontab day-of-week field into APScheduler 3 weekday names.

    APScheduler 3 numbers weekdays from Monday (0 = Monday), crontab from Sunday (0 or 7 = Sunday),
    so "1-5" must become "mon,tue,wed,thu,fri", not be passed through (it would mean Tuesday to
    Saturday). Names are the same in both and always safe.
    """
    text = field_text.strip().lower()
    if text == "*":
        return "*"
    days: set[int] = set()
    for part in text.split(","):
        span, slash, step_text = part.partition("/")
        step = int(step_text) if slash else 1
        if step < 1:
            raise ValueError(f"bad step in day of week {part!r}")
        if span == "*":
            first, last = 0, 6
        elif "-" in span:
            start, end = span.split("-", 1)
            first, last = _weekday(start), _weekday(end, range_end=True)
        else:
            first = _weekday(span)
            last = 6 if slash else first
        if first > last:
            raise ValueError(f"bad day-of-week range {span!r}")
        days.update(day % 7 for day in range(first, last + 1, step))
    return ",".join(_WEEKDAYS[day] for day in sorted(days))


def crontab_trigger(expr: str) -> BaseTrigger:
    """A UTC trigger for a 5-field crontab expression, with crontab's meaning (see module doc)."""
    fields = expr.split()
    if len(fields) != 5:
        raise ValueError(f"a cron expression has 5 fields, got {len(fields)}: {expr!r}")
    minute, hour, day, month, weekday = fields
    weekdays = crontab_weekdays(weekday)
    common: dict[str, Any] = {"minute": minute, "hour": hour, "month": month, "timezone": UTC}
    if not day.startswith("*") and not weekday.startswith("*"):
        # crontab: when both are restricted, a day matching either one fires.
        return OrTrigger(
            [CronTrigger(day=day, day_of_week="*", **common), CronTrigger(day="*", day_of_week=weekdays, **common)]
        )
    return CronTrigger(day=day, day_of_week=weekdays, **common)


# A cron expression's gaps are measured over this window: four years from a leap year's first day hold
# every month length (Feb 29 included) and every weekday on every date.
_GAP_WINDOW_START = datetime(2024, 1, 1, tzinfo=UTC)
_GAP_WINDOW = timedelta(days=4 * 365 + 1)
_DAY = timedelta(days=1)


def _fire_times(trigger: BaseTrigger, start: datetime, end: datetime) -> list[datetime]:
    times: list[datetime] = []
    moment = start
    while True:
        nxt = trigger.get_next_fire_time(times[-1] if times else None, moment)
        if nxt is None or nxt >= end:
            return times
        times.append(nxt)
        moment = nxt + timedelta(seconds=1)


@lru_cache(maxsize=256)
def cron_gaps(expr: str) -> tuple[timedelta, timedelta] | None:
    """The shortest and the longest time between two successive fire times of a 5-field crontab
    expression, or None when it fires fewer than twice in four years.

    Crontab's minute and hour fields apply alike to every day it fires, so fire times are (fire days) x
    (times of day): the gaps are those within one day and those from a day's last time to the next fire
    day's first. That needs one day's times and four years of days (about 1,500 steps for a daily
    expression) instead of every fire time (420,000 for "*/5 * * * *").
    """
    minute, hour, day, month, weekday = expr.split()
    times = _fire_times(crontab_trigger(f"{minute} {hour} * * *"), _GAP_WINDOW_START, _GAP_WINDOW_START + _DAY)
    days = _fire_times(crontab_trigger(f"0 0 {day} {month} {weekday}"), _GAP_WINDOW_START,
                       _GAP_WINDOW_START + _GAP_WINDOW)
    if not times or not days or len(times) * len(days) < 2:
        return None
    within = [b - a for a, b in zip(times, times[1:], strict=False)]
    span = times[-1] - times[0]  # from the day's first fire time to its last
    across = [b - a - span for a, b in zip(days, days[1:], strict=False)]
    gaps = within + across if len(days) > 1 else within
    return min(gaps), max(gaps)
