"""Garbage-collector settings for the standalone emulator process (`python -m emulator`), whose heap is
mostly the tenant: every contact the bench creates stays stored, a dozen tracked dicts and lists each.

By default CPython's cycle collector walks each of those objects again in every older-generation
collection, and runs a full collection each time the heap has grown by a quarter: over a bench run that
was a third to a half of the emulator's CPU. The stored data is plain JSON trees (no reference cycles; a
deleted contact is freed by reference counting), so it never needs the cycle collector. So after each
collection whatever survived it is moved out of the collector's sight (`gc.freeze`): every object is
walked once, by the young collection it survives. The price: a reference cycle that is alive during a
collection and dies later is never freed. The server makes cycles only on error paths (an ApiError's
traceback, some twenty objects, garbage as soon as the error is answered), so at most one such cycle per
request that errs exactly while a collection runs. Tests run the emulator in their own process and keep
CPython's defaults.
"""

from __future__ import annotations

import gc
from typing import Any

YOUNG_THRESHOLD = 10_000  # allocations between collections (CPython's default is 700)


def tune_gc() -> None:
    """Call once the state is loaded, before serving."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
    if _freeze_survivors not in gc.callbacks:
        gc.callbacks.append(_freeze_survivors)


def _freeze_survivors(phase: str, info: dict[str, Any]) -> None:
    if phase == "stop":
        gc.freeze()  # what survived is live: later collections skip it
