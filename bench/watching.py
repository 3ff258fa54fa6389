"""S7's product: `bench.watch_serve` (the scheduler and its source watch) running in a process of its own,
and the product's own record of when a source change reached every target (read from its database)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime
from itertools import count
from pathlib import Path
from typing import Any

from sync_core import store
from sync_core.domain.models import utcnow

from .emulator_proc import child_env

_serial = count()


class WatchingProduct:
    def __init__(self, settings: dict[str, Any], watch_seconds: float, workdir: Path) -> None:
        n = next(_serial)
        spec = workdir / f"watch_serve-{n}.json"
        spec.write_text(json.dumps({"settings": settings, "watch_seconds": watch_seconds}), encoding="utf-8")
        self.log = (workdir / f"watch_serve-{n}.log").open("w")
        self.db = store.open_database(str(settings["DATABASE_URL"]))
        self.edited_at = utcnow()  # when the bench made its edit (set by the scenario)
        self._proc = subprocess.Popen([sys.executable, "-m", "bench.watch_serve", str(spec)], cwd=workdir,
                                      env=child_env(), stdout=subprocess.PIPE, stderr=self.log, text=True)
        assert self._proc.stdout is not None
        ready = self._proc.stdout.readline()
        if not ready.startswith("{"):
            self.stop()
            raise RuntimeError(f"bench.watch_serve did not start; see {self.log.name}")

    def now(self) -> datetime:
        return utcnow()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def wait(self, predicate: Callable[[], bool], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise TimeoutError("S7: the watch did not start in time")
            if self._proc.poll() is not None:
                raise RuntimeError(f"bench.watch_serve exited; see {self.log.name}")
            time.sleep(0.2)

    def wait_reached(self, job_name: str, timeout: float) -> datetime:
        """When the product recorded that a run had the source's latest change at every target (after now)."""
        since = self.edited_at
        found: list[datetime] = []

        def reached() -> bool:
            with store.session_scope(self.db) as session:
                job = store.get_job_by_name(session, name=job_name)
                at = job.source_change_reached_at if job is not None else None
                changed = job.source_changed_at if job is not None else None
            if at is not None and changed is not None and at >= changed and at >= since:
                found.append(at)
                return True
            return False

        self.wait(reached, timeout)
        return found[-1]

    def stop(self) -> None:
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(90)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self.log.close()
        self.db.dispose()

    def __enter__(self) -> WatchingProduct:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
