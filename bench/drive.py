"""The product in a process of its own: `python -m bench.drive SPEC.json` prints one JSON line.

SPEC: {"settings": {ENV_NAME: value}, "create": [job, ...], "run": [job name, ...]}. A job is
{"kind": "personal", "name", "source_email", "group_name", "targets"} or {"kind": "directory", "name",
"domains", "targets"}. Jobs are created through `sync_core.service` (as the CLI and the bot do) and run
with `runtime.engine.run(name)`, one after another. Only public entry points are used, so the bench
measures whatever the engine is today. The figures are this process's own: wall and CPU seconds of the
runs (not of the imports), peak RSS (`ru_maxrss`, the whole process) and RSS just before the first run;
and when the runs started and each target finished (epoch seconds, as `engine.run`'s `progress` reports
each target), for the bench's timelines and its queued-while-quota-allowed figure.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from sync_core.domain.reports import RunReport, TargetReport
from sync_core.runtime import Runtime
from sync_core.service import DirectoryJobSpec, PersonalJobSpec
from sync_core.service.create import create_directory_job, create_personal_job
from sync_core.settings import load_settings


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def rss_mib_now() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def create(rt: Runtime, job: dict[str, Any]) -> None:
    if job["kind"] == "directory":
        create_directory_job(
            rt.db,
            spec=DirectoryJobSpec(name=job["name"], domains=job["domains"], targets=job["targets"]),
            directory=rt.directory(),
            max_contacts=rt.settings.max_contacts_per_account,
        )
        return
    spec = PersonalJobSpec(
        name=job["name"], source_email=job["source_email"], group_name=job["group_name"], targets=job["targets"]
    )
    create_personal_job(rt.db, spec=spec, directory=rt.directory(), people_for=rt.people)


def summarise(report: RunReport, finished_at: dict[str, float]) -> dict[str, Any]:
    """Counts only: a report's plans (if the engine keeps them) are not copied out."""
    return {
        "finished_at": finished_at,
        "job": report.job_name,
        "status": report.status.value,
        "error_kind": report.error_kind,
        "source_count": report.source_count,
        "targets": len(report.targets),
        "statuses": dict(Counter(t.status.value for t in report.targets)),
        "failed": [f"{t.email}: {t.status.value} {t.reason}"[:300] for t in report.failed_targets[:5]],
        "created": report.total("created"),
        "updated": report.total("updated"),
        "deleted": report.total("deleted"),
        "unchanged": report.total("unchanged"),
        "api_calls": report.api_calls,
        "calls_by_method": dict(sorted(report.calls_by_method.items())),
    }


def run(rt: Runtime, name: str) -> dict[str, Any]:
    """One job's run, with the moment each target finished (the engine reports each as it is recorded)."""
    finished_at: dict[str, float] = {}

    def finished(_report: RunReport, target: TargetReport) -> None:
        finished_at[target.email] = time.time()

    return summarise(rt.engine.run(name, progress=finished), finished_at)


def measure(spec: dict[str, Any]) -> dict[str, Any]:
    rt = Runtime(load_settings(**spec["settings"]))
    for job in spec.get("create", []):
        create(rt, job)
    rt.engine  # noqa: B018 - wire the engine (database, key) before the clock starts
    rss_before = rss_mib_now()
    started_at = time.time()
    cpu0, wall0 = cpu_seconds(), time.perf_counter()
    runs = [run(rt, name) for name in spec.get("run", [])]
    return {
        "started_at": started_at,
        "wall_s": time.perf_counter() - wall0,
        "cpu_s": cpu_seconds() - cpu0,
        "rss_before_mib": rss_before,
        # ru_maxrss is in KiB on Linux
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "runs": runs,
    }


def main(argv: list[str]) -> int:
    spec = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    print(json.dumps(measure(spec)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
