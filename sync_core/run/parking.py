"""Parking: how a target waits for its user's quota window without holding a worker.

A target's sync is a generator of `Park`s (`Steps`): before a write that its user's quota has no room for yet,
it yields `Park(seconds)` and returns its worker to the run; the run's `TargetPool` resumes it, on whichever
worker is free, once the window has opened. So the number of targets a run has started is not bounded by its
workers (each of which would otherwise sleep through a minute-long window), and a parked target holds only its
generator's frame: what it still has to write (see sync_core.run.target_pool).

`drive` runs such a generator on the calling thread, sleeping through each park: one target alone (a dry run
of one account, a job deletion's clean-up, tests) needs no pool.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Protocol, TypeVar

from sync_core.google.errors import GoogleError

T = TypeVar("T")


class ShuttingDown(GoogleError):
    """Thrown into a parked target at its park when the process shuts down: like any failure of Google's mid-way,
    the target reports what it wrote and stops (the next run goes on from there)."""


@dataclass(frozen=True)
class Park:
    """Give up the worker for `seconds` (the user's quota window opens then), then go on."""

    seconds: float


Steps = Generator[Park, None, T]


# A wait shorter than this is slept through in the call (the pacer's `reserve`): handing the worker over and
# back costs more than such a wait holds it (a quota window is a minute; an emulator's may be a fraction of
# a second).
PARK_AT_LEAST = 0.5


class QuotaPeek(Protocol):
    def quota_wait(self, method: str, *, contacts: int = 0, at_least: float = 0.0) -> float: ...


def room_for(account: QuotaPeek, method: str, *, contacts: int = 0) -> Steps[None]:
    """Park until the account's user has room for a call of `method` (nothing when it has room now, or
    within `PARK_AT_LEAST`)."""
    wait = account.quota_wait(method, contacts=contacts, at_least=PARK_AT_LEAST)
    if wait > 0:
        yield Park(wait)


def drive(steps: Steps[T], sleep: Callable[[float], None] = time.sleep) -> T:
    """Run `steps` to its end on this thread, sleeping through each park; its result."""
    try:
        park = next(steps)
        while True:
            sleep(park.seconds)
            park = steps.send(None)
    except StopIteration as done:
        return done.value
