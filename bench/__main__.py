"""`python -m bench [--quick] [--json] [--only S1,S6] [--size KEY=N ...] [--plot [DIR]] [--from FILE]`: the
scenarios of bench/README.md, each product run beside a naive script's, the emulator and every measured run in
processes of their own."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from . import plot
from .report import render, results_markdown
from .scenarios import FULL, QUICK, Bench, run_scenarios

ALL = ("S1", "S2", "S3", "S4", "S5", "S6", "S7", "S8", "S9")


def machine() -> dict[str, Any]:
    return {
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="every scenario scaled down (the whole bench < 2 min)")
    parser.add_argument("--json", action="store_true", help="print one JSON document with every figure")
    parser.add_argument("--only", default=",".join(ALL), help="comma-separated scenarios, e.g. S1,S6")
    parser.add_argument("--size", action="append", default=[], metavar="KEY=N",
                        help="override one size (e.g. s5_targets=500); see bench/scenarios.py Sizes")
    parser.add_argument("--results", type=Path, help="also write the tables as markdown here (bench/RESULTS.md)")
    parser.add_argument("--keep", type=Path, help="work in this directory and keep it (state files, logs)")
    parser.add_argument("--plot", type=Path, nargs="?", const=plot.PLOTS, metavar="DIR",
                        help=f"also draw one PNG per scenario (targets finished over time) in DIR (default "
                             f"bench/plots); needs matplotlib: {plot.INSTALL}")
    parser.add_argument("--from", dest="source", type=Path, metavar="FILE",
                        help="run nothing: print, --results and --plot what an earlier --json wrote to FILE")
    args = parser.parse_args(argv)
    if args.plot is not None and not plot.available():
        parser.error(f"--plot needs matplotlib, which is not installed: {plot.INSTALL}")
    args.wanted = {s.strip().upper() for s in args.only.split(",") if s.strip()}
    if unknown := args.wanted - set(ALL):
        parser.error(f"unknown scenario(s) {', '.join(sorted(unknown))}; pick from {', '.join(ALL)}")
    try:
        args.sizes = (QUICK if args.quick else FULL).override(args.size)
    except ValueError as exc:
        parser.error(str(exc))
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    doc = json.loads(args.source.read_text(encoding="utf-8")) if args.source else measure(args)
    print(json.dumps(doc, indent=1) if args.json else render(doc))
    if args.results:
        command = "python -m bench " + " ".join(sys.argv[1:] if argv is None else argv)
        args.results.write_text(results_markdown(doc, command), encoding="utf-8")
    if args.plot is not None:
        for path in plot.plot_scenarios(doc, args.plot):
            print(f"[bench] plot: {path}", file=sys.stderr)
    return 0


def measure(args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="cs-bench-") as tmp:
        workdir = args.keep or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        scenarios = run_scenarios(Bench(workdir.resolve(), args.sizes), args.wanted, keep_going=True)
    return {
        "mode": " ".join(["--quick"] * args.quick + [f"--only {','.join(sorted(args.wanted))}"]
                         + [f"--size {s}" for s in args.size]),
        "machine": machine(),
        "sizes": asdict(args.sizes),
        "elapsed_s": time.perf_counter() - started,
        "scenarios": scenarios,
    }


if __name__ == "__main__":
    sys.exit(main())
