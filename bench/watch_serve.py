"""The product's scheduler with its source watch, in a process of its own: `python -m bench.watch_serve SPEC`.

SPEC: {"settings": {ENV_NAME: value}, "watch_seconds": W}. Starts `build_scheduler(runtime)` as `serve` does
(without Slack) with CONTACTSYNC_SCHEDULER_WATCH_SECONDS = W, prints one JSON line {"ready": true}, and runs
until SIGTERM; then it stops the scheduler and prints {"stopped": true, "clean": ...}. Only public entry
points: the bench measures whatever the watch is.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from sync_core.runtime import Runtime
from sync_core.scheduling.scheduler import build_scheduler, load_scheduler_settings
from sync_core.settings import load_settings


def main(spec_file: str) -> int:
    spec: dict[str, Any] = json.loads(Path(spec_file).read_text(encoding="utf-8"))
    runtime = Runtime(load_settings(**spec["settings"]))
    settings = load_scheduler_settings(watch_seconds=spec["watch_seconds"], reconcile_seconds=0)
    scheduler = build_scheduler(runtime, settings)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    scheduler.start()
    print(json.dumps({"ready": True}), flush=True)
    stop.wait()
    report = scheduler.shutdown(timeout=60)
    print(json.dumps({"stopped": True, "clean": report.clean}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
