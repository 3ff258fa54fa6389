"""Job schedules: "every 30m" / "every 2h" / "every 1d", or "cron <5-field crontab>". Pure parsing."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

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
            raise ScheduleError(
                f"bad schedule {text!r}: a cron expression has 5 fields (min hour day month weekday)"
            )
        from apscheduler.triggers.cron import CronTrigger

        try:
            CronTrigger.from_crontab(expr)
        except ValueError as exc:
            raise ScheduleError(f"bad schedule {text!r}: {exc}") from None
        return Schedule(cron=expr)
    match = EVERY_RE.match(text)
    if not match:
        raise ScheduleError(
            f"bad schedule {text!r}: use e.g. 'every 30m', 'every 6h', 'every 1d' or 'cron 0 7 * * 1-5'"
        )
    amount, unit = int(match.group(1)), match.group(2).lower()[0]
    interval = {"m": timedelta(minutes=amount), "h": timedelta(hours=amount), "d": timedelta(days=amount)}[
        unit
    ]
    if interval < MIN_INTERVAL:
        raise ScheduleError(
            f"bad schedule {text!r}: the shortest interval is {int(MIN_INTERVAL.total_seconds() // 60)}m"
        )
    return Schedule(interval=interval)
