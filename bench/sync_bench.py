"""Benchmark a Contact Sync job against the emulator running in its own process.

    .venv/bin/python bench/sync_bench.py [--contacts 1000] [--extra-users 40] [--latency-ms 0] [--json]

Measures, for the first (full) run, the steady-state run with nothing changed, and a run after a
1% edit at the source: wall time, Google API calls (total and per method), and the product process's
peak resident memory, sampled every 10 ms (the emulator runs in another process and is not counted).
Targets: `ou:/Contractors` (a quarter of the generated users plus two named ones).
"""

from __future__ import annotations

import argparse
import gc
import json
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.drive import rss_mib_now  # noqa: E402
from bench.emulator_proc import free_port  # noqa: E402
from emulator.core import Workspace  # noqa: E402
from emulator.seed import seed_workspace  # noqa: E402
from sync_core.runtime import Runtime  # noqa: E402
from sync_core.service import PersonalJobSpec  # noqa: E402
from sync_core.service.create import create_personal_job  # noqa: E402
from sync_core.settings import load_settings  # noqa: E402


def wait_for(url_host: str, port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((url_host, port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("the emulator did not start")


class PeakRss:
    """Samples this process's resident memory while a run goes on (tracemalloc would slow it severalfold)."""

    def __init__(self) -> None:
        self.peak = self.start = rss_mib_now()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, rss_mib_now())

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def measure(label: str, fn: Any) -> dict[str, Any]:
    with PeakRss() as rss:
        started = time.perf_counter()
        report = fn()
        seconds = time.perf_counter() - started
    return {
        "label": label,
        "status": report.status.value,
        "seconds": round(seconds, 3),
        "api_calls": report.api_calls,
        "calls_by_method": dict(sorted(report.calls_by_method.items())),
        "rss_peak_mib": round(rss.peak, 1),
        "rss_growth_mib": round(rss.peak - rss.start, 1),
        "targets": len(report.targets),
        "created": report.total("created"),
        "updated": report.total("updated"),
        "deleted": report.total("deleted"),
        "unchanged": report.total("unchanged"),
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=1000)
    parser.add_argument("--extra-users", type=int, default=40)
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="cs-bench-") as tmp_dir:
        tmp = Path(tmp_dir)
        ws = Workspace()
        seed = seed_workspace(ws, contacts=args.contacts, extra_users=args.extra_users)
        ws.save(tmp / "state.json")
        del ws  # the emulator process loads it; this process holds only the product
        gc.collect()
        port = free_port()
        credentials = tmp / "sa.json"
        emulator = subprocess.Popen(
            [sys.executable, "-m", "emulator", "--port", str(port), "--state", str(tmp / "state.json"),
             "--credentials-out", str(credentials), "--latency-ms", str(args.latency_ms)],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        try:
            wait_for("127.0.0.1", port)
            while not credentials.exists():
                time.sleep(0.05)
            settings = load_settings(
                DATABASE_URL=f"sqlite:///{tmp / 'bench.db'}",
                GOOGLE_APPLICATION_CREDENTIALS=str(credentials),
                CONTACTSYNC_ADMIN_EMAIL=seed.admin_email,
                CONTACTSYNC_GOOGLE_API_ENDPOINT=f"http://127.0.0.1:{port}",
            )
            rt = Runtime(settings)
            create_personal_job(
                rt.db,
                spec=PersonalJobSpec(
                    name="bench", source_email=seed.source_email, group_name=seed.source_group_name,
                    targets=["ou:/Contractors"],
                ),
                directory=rt.directory(),
                people_for=rt.people,
            )
            results = [measure("first run (full)", lambda: rt.engine.run("bench"))]
            results.append(measure("second run (first incremental)", lambda: rt.engine.run("bench")))
            results.append(measure("steady state (nothing changed)", lambda: rt.engine.run("bench")))
            alice = rt.google.build("people", "v1", subject=seed.source_email,
                                    scopes=["https://www.googleapis.com/auth/contacts"]).people()
            page = alice.connections().list(resourceName="people/me", personFields="names",
                                            pageSize=max(1, args.contacts // 100)).execute()
            for person in page.get("connections", []):
                alice.updateContact(resourceName=person["resourceName"], updatePersonFields="names",
                                    body={"etag": person["etag"], "names": [{"givenName": "Edited"}]}).execute()
            results.append(measure("after a 1% edit at the source", lambda: rt.engine.run("bench")))
        finally:
            emulator.terminate()
            emulator.wait(10)

    if args.json:
        print(json.dumps({"contacts": args.contacts, "extra_users": args.extra_users, "results": results}, indent=2))
        return 0
    print(f"contacts in the source group: {args.contacts}; generated users: {args.extra_users}; "
          f"emulator latency: {args.latency_ms} ms per call")
    for r in results:
        print(f"{r['label']:<34} {r['status']:<7} {r['seconds']:>7.2f} s  {r['api_calls']:>5} calls  "
              f"RSS peak {r['rss_peak_mib']:>6.1f} MiB (+{r['rss_growth_mib']:.1f})  targets {r['targets']}  "
              f"+{r['created']} ~{r['updated']} -{r['deleted']} ={r['unchanged']}")
        people_calls = {k: v for k, v in r["calls_by_method"].items() if not k.startswith("directory.")}
        print(f"{'':<34} People API calls: {people_calls}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
