"""Garbage-collector settings for the standalone emulator process (`python -m emulator`), whose heap is
mostly the tenant: every contact the bench creates stays stored, a dozen tracked dicts and lists each.

By default CPython runs a full collection each time the heap has grown by a quarter, and every one walks
every object ever stored, so over a bench run each contact is walked several times over: that was a third
of the emulator's CPU. The stored data is plain JSON trees (no reference cycles; a deleted contact is
freed by reference counting), so it never needs the cycle collector. Here the loaded state and whatever
survives a full collection are moved out of the collector's sight (`gc.freeze`): the next full collection
walks only what is newer. The price: a reference cycle among frozen objects that later becomes garbage is
never freed; request handling makes none worth counting. Young collections run less often, too (their
cost is per call, not per stored object). Tests run the emulator in their own process and keep defaults.
"""

from __future__ import annotations

import gc
from typing import Any

YOUNG_THRESHOLD = 10_000  # allocations between young collections (CPython's default is 700)


def tune_gc() -> None:
    """Call once the state is loaded, before serving."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
    if _freeze_after_full not in gc.callbacks:
        gc.callbacks.append(_freeze_after_full)


def _freeze_after_full(phase: str, info: dict[str, Any]) -> None:
    if phase == "stop" and info.get("generation") == 2:
        gc.freeze()  # what survived a full collection is live: later full collections skip it
