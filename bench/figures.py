"""The figures of one measured run, from the child's JSON line and the emulator's call counts."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

JSON = dict[str, Any]


def calls_as(calls: JSON, emails: Iterable[str]) -> int:
    """Calls the emulator served while impersonating any of `emails` (People API calls made *at* targets)."""
    wanted = {e.lower() for e in emails}
    return sum(n for per_user in calls.get("byMethodAndUser", {}).values()
               for email, n in per_user.items() if email in wanted)


def rejected(calls: JSON) -> int:
    return sum(calls.get("quotaRejected", {}).values())


def per(value: float, n: int) -> float | None:
    return value / n if n else None


def product_figures(label: str, out: JSON, calls: JSON, target_emails: Iterable[str]) -> JSON:
    runs = out["runs"]
    targets = sum(r["targets"] for r in runs)
    written = sum(r["created"] + r["updated"] + r["deleted"] for r in runs)
    statuses: dict[str, int] = {}
    for r in runs:
        for status, n in r["statuses"].items():
            statuses[status] = statuses.get(status, 0) + n
    by_method: dict[str, int] = {}
    for r in runs:
        for method, n in r["calls_by_method"].items():
            by_method[method] = by_method.get(method, 0) + n
    return {
        "label": label,
        "who": "product",
        "run_status": sorted({r["status"] for r in runs}),
        "failed": [f for r in runs for f in r["failed"]][:5],
        "targets": targets,
        "statuses": statuses,
        "source_count": max((r["source_count"] for r in runs), default=0),
        "created": sum(r["created"] for r in runs),
        "updated": sum(r["updated"] for r in runs),
        "deleted": sum(r["deleted"] for r in runs),
        "unchanged": sum(r["unchanged"] for r in runs),
        "written": written,
        "wall_s": out["wall_s"],
        "cpu_s": out["cpu_s"],
        "peak_rss_mib": out["peak_rss_mib"],
        "rss_before_mib": out["rss_before_mib"],
        "api_calls": sum(r["api_calls"] for r in runs),
        "calls_per_target": per(calls_as(calls, target_emails), targets),
        "all_calls_per_target": per(calls.get("total", 0), targets),
        "cpu_us_per_contact_written": per(out["cpu_s"] * 1e6, written),
        "cpu_ms_per_target": per(out["cpu_s"] * 1e3, targets),
        "wall_ms_per_target": per(out["wall_s"] * 1e3, targets),
        "quota_rejected": rejected(calls),
        "calls_by_method": dict(sorted(by_method.items())),
        "emulator_calls_by_method": calls.get("byMethod", {}),
        # seconds from the start of the measured runs until each target finished (the plots' timelines)
        "finished_s": finished_offsets(out),
    }


def finished_offsets(out: JSON) -> list[float]:
    start = out.get("started_at")
    if start is None:
        return []
    return sorted(round(at - start, 3) for r in out["runs"] for at in r.get("finished_at", {}).values())


def naive_figures(label: str, out: JSON, calls: JSON, target_emails: Iterable[str], job_targets: int) -> JSON:
    """The naive script ran `out["targets"]` targets one after another; extrapolated to `job_targets`."""
    targets = out["targets"]
    written = out["created"] + out["updated"] + out["deleted"]
    wall_per_target = out["wall_s"] / targets
    return {
        "label": label,
        "who": "naive",
        "targets": targets,
        "created": out["created"], "updated": out["updated"], "deleted": out["deleted"],
        "unchanged": out["unchanged"],
        "written": written,
        "wall_s": out["wall_s"],
        "cpu_s": out["cpu_s"],
        "peak_rss_mib": out["peak_rss_mib"],
        "api_calls": out["api_calls"],
        "calls_per_target": per(calls_as(calls, target_emails), targets),
        "all_calls_per_target": per(out["api_calls"], targets),
        "cpu_us_per_contact_written": per(out["cpu_s"] * 1e6, written),
        "cpu_ms_per_target": per(out["cpu_s"] * 1e3, targets),
        "wall_ms_per_target": wall_per_target * 1e3,
        "extrapolated_to_targets": job_targets,
        "extrapolated_wall_s": wall_per_target * job_targets,
        "quota_rejected": rejected(calls),
        "calls_by_method": out["calls_by_method"],
    }


def ratios(product: JSON, naive: JSON) -> JSON:
    """How many times the naive script's cost is the product's (above 1: the product is cheaper)."""
    def ratio(key: str) -> float | None:
        a, b = naive.get(key), product.get(key)
        return a / b if a and b else None

    return {
        "wall_per_target": ratio("wall_ms_per_target"),
        "cpu_per_target": ratio("cpu_ms_per_target"),
        "cpu_per_contact_written": ratio("cpu_us_per_contact_written"),
        "all_calls_per_target": ratio("all_calls_per_target"),
    }
