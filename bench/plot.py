"""`python -m bench --plot`: per scenario, a PNG of targets finished over time (and, where the bench measured
queueing, targets started: their first call), with the quota bound as a vertical line and the naive script's
extrapolated pace as a dotted line. matplotlib is an optional extra (`pip install -e '.[bench]'`); the bench
runs without it."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

JSON = dict[str, Any]
INSTALL = "pip install -e '.[bench]'  (or: pip install matplotlib)"
PLOTS = Path(__file__).resolve().parent / "plots"  # beside bench/RESULTS.md


def available() -> bool:
    return importlib.util.find_spec("matplotlib") is not None


def _steps(offsets: list[float]) -> tuple[list[float], list[int]]:
    """A cumulative count: (0, 0), then +1 at each offset."""
    return [0.0, *offsets], list(range(len(offsets) + 1))


def plot_scenarios(doc: JSON, outdir: Path = PLOTS) -> list[Path]:
    """One PNG per scenario that has target timelines; returns the files written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    outdir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    machine = doc.get("machine", {})
    for s in doc["scenarios"]:
        runs = [r for r in s["runs"] if r.get("finished_s")]
        if not runs:
            continue
        fig, ax = plt.subplots(figsize=(9, 5))
        right = 0.0
        for r in runs:
            xs, ys = _steps(r["finished_s"])
            (line,) = ax.step(xs, ys, where="post", linewidth=2, label=f"{r['label']}: targets finished")
            right = max(right, xs[-1])
            if q := r.get("queue"):
                xs, ys = _steps(q["started_s"])
                ax.step(xs, ys, where="post", linestyle="--", color=line.get_color(), alpha=0.7,
                        label=f"{r['label']}: targets started (first call)")
        targets = max(len(r["finished_s"]) for r in runs)
        quota = s.get("quota")
        if quota is not None:
            bound = quota["bound_s"]
            ax.axvline(bound, color="crimson", linestyle=":", linewidth=2,
                       label=f"quota bound {bound:g} s ({quota['bound_windows']} window(s) of {quota['window_s']:g} s)")
            if quota["wall_over_bound"] is not None:
                ax.axvline(1.3 * bound, color="crimson", linestyle=":", linewidth=1, alpha=0.5, label="1.3 x bound")
                right = max(right, 1.3 * bound)
        naive = s.get("naive")
        if naive is not None and naive.get("extrapolated_wall_s"):
            end = naive["extrapolated_wall_s"]
            n = naive["extrapolated_to_targets"]
            ax.plot([0, end], [0, n], color="grey", linestyle=":",
                    label=f"naive script, extrapolated: {n} targets in {end:,.0f} s")
        ax.set_xlim(0, right * 1.08 or 1)
        ax.set_ylim(0, targets * 1.05)
        ax.set_xlabel("seconds since the run started")
        ax.set_ylabel("targets")
        ax.set_title(f"{s['name']}  {s['title']}", fontsize=10)
        lines = [f"{r['label']}: {r['wall_s']:.1f} s wall, {r['cpu_s']:.1f} s CPU, peak RSS "
                 f"{r['peak_rss_mib']:.0f} MiB, {r['quota_rejected']} x 429" for r in runs]
        for r in runs:
            if q := r.get("queue"):
                lines.append(f"queued while quota allowed: mean {q['mean_s']:.1f} s per target "
                             f"({(q['mean_over_wall'] or 0) * 100:.0f}% of the wall time)")
        ax.text(0.99, 0.02, "\n".join(lines), transform=ax.transAxes, ha="right", va="bottom", fontsize=8,
                bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "lightgrey"})
        ax.grid(True, alpha=0.3)
        ax.legend(loc="upper left", fontsize=8)
        fig.text(0.01, 0.01, f"{machine.get('date', '')}, {machine.get('nproc', '?')} cores", fontsize=7,
                 color="grey")
        fig.tight_layout()
        path = outdir / f"{s['name']}.png"
        fig.savefig(path, dpi=100)
        plt.close(fig)
        written.append(path)
    return written
