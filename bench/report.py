"""The text the bench prints: one table per scenario, one row per measured run."""

from __future__ import annotations

from typing import Any

JSON = dict[str, Any]


def num(value: float | None, digits: int = 1, unit: str = "") -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}{unit}"


def row(r: JSON) -> str:
    counts = f"+{r['created']} ~{r['updated']} -{r['deleted']} ={r['unchanged']}"
    # CPU per contact written where something was written; per target where nothing was.
    cpu = (num(r["cpu_us_per_contact_written"], 0, " us/contact") if r["written"]
           else num(r["cpu_ms_per_target"], 2, " ms/target"))
    wall = f"{r['wall_s']:.2f} s"
    if r["who"] == "naive":
        wall += f" ({r['targets']} t; {r['extrapolated_wall_s']:.0f} s for {r['extrapolated_to_targets']})"
    rss = f"{r['peak_rss_mib']:.0f} MiB"
    if r.get("emulator_cpu_s") is not None and r["wall_s"]:
        # near 100%: the emulator (one process, one core at most) was the bottleneck, not the product
        rss += f"  emulator busy {r['emulator_cpu_s'] / r['wall_s']:.0%}"
    status = "" if r["who"] == "naive" else " ".join(f"{k}:{v}" for k, v in sorted(r["statuses"].items()))
    return (f"  {r['label']:<34} {wall:>12}  calls/target {num(r['calls_per_target'], 1):>6} "
            f"(all {num(r['all_calls_per_target'], 1)})  CPU {cpu:>18}  RSS {rss:>8}  429s {r['quota_rejected']:>4}"
            f"  {counts}  {status}")


def _pct(share: float | None) -> float | None:
    return None if share is None else share * 100


def render(doc: JSON) -> str:
    m = doc["machine"]
    lines = [f"python -m bench {doc['mode']}  ({m['date']}, {m['nproc']} cores, Python {m['python']}, "
             f"{m['platform']})", ""]
    for s in doc["scenarios"]:
        lines.append(f"{s['name']}  {s['title']}")
        lines.extend(row(r) for r in s["runs"])
        if s["naive"]:
            lines.append(row(s["naive"]))
        if s["ratios"]:
            ra = s["ratios"]
            lines.append(f"  naive / product: wall per target {num(ra['wall_per_target'], 1, 'x')}, CPU per target "
                         f"{num(ra['cpu_per_target'], 1, 'x')}, CPU per contact written "
                         f"{num(ra['cpu_per_contact_written'], 1, 'x')}, calls per target "
                         f"{num(ra['all_calls_per_target'], 1, 'x')}")
        if q := s.get("quota"):
            lines.append(f"  quota bound {q['bound_windows']} window(s) of {q['window_s']:g} s = {q['bound_s']:g} s; "
                         f"wall / bound {num(q['wall_over_bound'], 2, 'x')}; 429s per target "
                         f"{q['quota_rejected_per_target']:.2f}; converged in one run: {q['converged']}")
        for r in s["runs"]:
            if q := r.get("queue"):
                lines.append(f"  {r['label']}: targets queued while their quota allowed: mean {q['mean_s']:.1f} s "
                             f"({num(_pct(q['mean_over_wall']), 0, '%')} of the wall time; "
                             f"{q['before_start_mean_s']:.1f} s before their first call, "
                             f"{q['between_calls_mean_s']:.1f} s between calls), p95 "
                             f"{q['p95_s']:.1f} s, max {q['max_s']:.1f} s, over {q['targets']} targets")
        if w := s.get("watch"):
            lines.append(f"  one source edit at all {w['targets_with_edit']}/{w['targets']} targets "
                         f"{w['edit_to_last_target_s']:.1f} s after it was made (watch every {w['watch_s']:g} s; "
                         f"goal: within {w['bound_s']:g} s); idle: {w['idle_people_calls_per_minute']:.2f} People "
                         "calls a minute for the job")
        for r in s["runs"]:
            if r.get("failed"):
                lines.append(f"  ! {r['label']}: {'; '.join(r['failed'])}")
        lines.extend(f"  note: {n}" for n in s["notes"])
        lines.append("")
    return "\n".join(lines)


def results_markdown(doc: JSON, command: str) -> str:
    """bench/RESULTS.md: the machine, the command, and the printed tables."""
    m = doc["machine"]
    return (f"# Last results of `python -m bench`\n\n"
            f"Machine: {m['nproc']} cores (`nproc`), Python {m['python']}, {m['platform']}; {m['date']}; "
            f"the whole bench took {doc['elapsed_s'] / 60:.1f} min.\n\n"
            f"```\n{command}\n```\n\n```\n{render(doc)}\n```\n")
