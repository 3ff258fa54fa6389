"""The per-project quota budget, kept in the database so that every process of a deployment shares it.

Google's per-project per-minute limits differ by project and are not published; an admin who knows theirs
sets `CONTACTSYNC_PROJECT_QUOTAS` (e.g. `critical_write=1200,critical_read=2400` per minute). Each People
call then takes its units from the current window's row of `quota_usage`, in one atomic conditional upsert,
and waits when the budget is spent. The window is approximated as sliding: the previous window's units
count in proportion to how much of it still overlaps the last `window` seconds (the usual sliding-window
counter), so a burst at a window's edge cannot pass twice the limit.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping

from sqlalchemy import Engine
from sqlalchemy import delete as sa_delete
from sqlalchemy import select as sa_select
from sqlmodel import col

from sync_core.domain.models import QuotaUsage
from sync_core.google.quota import Metric
from sync_core.store.database import upsert_insert

MIN_WAIT = 0.05  # never spin: a refused call waits at least this long before it asks again


class DatabaseProjectBudget:
    """`take(cost)` -> 0 when the units were taken, else the seconds to wait before asking again."""

    def __init__(
        self,
        db: Engine,
        limits: Mapping[Metric, int],
        *,
        window_seconds: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.limits = dict(limits)
        self.window = window_seconds
        self.clock = clock  # wall clock: windows must mean the same thing in every process

    def take(self, cost: Mapping[Metric, int]) -> float:
        wanted = {m: u for m, u in cost.items() if m in self.limits and u > 0}
        if not wanted:
            return 0.0
        now = self.clock()
        index = math.floor(now / self.window)
        overlap = 1.0 - (now / self.window - index)  # the share of the previous window still in view
        with self.db.begin() as conn:
            previous = dict(
                conn.execute(
                    sa_select(col(QuotaUsage.metric), col(QuotaUsage.units)).where(
                        col(QuotaUsage.window_start) == index - 1,
                        col(QuotaUsage.metric).in_([m.name for m in wanted]),
                    )
                ).all()
            )
            waits = []
            for metric, units in wanted.items():
                carried = previous.get(metric.name, 0) * overlap
                room = self.limits[metric] - carried
                if not self._spend(conn, metric.name, index, units, room):
                    waits.append(self._wait(previous.get(metric.name, 0), units, metric, overlap))
            if waits:
                conn.rollback()  # all of a call's units, or none
                return max(MIN_WAIT, max(waits))
            conn.execute(sa_delete(QuotaUsage).where(col(QuotaUsage.window_start) < index - 1))
        return 0.0

    def peek(self, cost: Mapping[Metric, int]) -> float:
        """What `take(cost)` would answer now, taking nothing: 0 when there is room, else the seconds to wait.
        A target about to write parks that long rather than hold its worker while it waits (the room may be
        gone by the time it takes it: `take` decides)."""
        wanted = {m: u for m, u in cost.items() if m in self.limits and u > 0}
        if not wanted:
            return 0.0
        now = self.clock()
        index = math.floor(now / self.window)
        overlap = 1.0 - (now / self.window - index)
        with self.db.connect() as conn:
            rows = conn.execute(
                sa_select(col(QuotaUsage.window_start), col(QuotaUsage.metric), col(QuotaUsage.units)).where(
                    col(QuotaUsage.window_start).in_([index - 1, index]),
                    col(QuotaUsage.metric).in_([m.name for m in wanted]),
                )
            ).all()
        spent = {(start, metric): units for start, metric, units in rows}
        waits = [
            self._wait(spent.get((index - 1, metric.name), 0), units, metric, overlap)
            for metric, units in wanted.items()
            if spent.get((index, metric.name), 0) + units
            > math.floor(self.limits[metric] - spent.get((index - 1, metric.name), 0) * overlap)
        ]
        return max(MIN_WAIT, max(waits)) if waits else 0.0

    def _spend(self, conn: object, metric: str, index: int, units: int, room: float) -> bool:
        if units > room:
            return False
        insert = upsert_insert(self.db.dialect.name)
        table = QuotaUsage.__table__  # type: ignore[attr-defined]
        statement = (
            insert(table)
            .values(metric=metric, window_start=index, units=units)
            .on_conflict_do_update(
                index_elements=["metric", "window_start"],
                set_={"units": table.c.units + units},
                where=table.c.units + units <= math.floor(room),
            )
            .returning(table.c.units)
        )
        return conn.execute(statement).first() is not None  # type: ignore[attr-defined]

    def _wait(self, previous: int, units: int, metric: Metric, overlap: float) -> float:
        """Until the next window starts, or a tenth of a window if that is sooner: the previous window's
        share shrinks as time goes, and other processes may be waiting for the same room."""
        return min(overlap * self.window, self.window / 10)
