"""Run a bench child (`bench.drive`, `bench.naive`) in its own process and read the JSON line it prints."""

from __future__ import annotations

import json
import subprocess
import sys
from itertools import count
from pathlib import Path
from typing import Any, Protocol

from .emulator_proc import child_env


class Runner(Protocol):
    """How a measured run is started: `run_child` (a process of its own), or in-process in the smoke test."""

    def __call__(self, module: str, spec: dict[str, Any], workdir: Path) -> dict[str, Any]: ...

_serial = count()


def run_child(module: str, spec: dict[str, Any], workdir: Path, *, timeout: float = 7200) -> dict[str, Any]:
    """Write `spec` to a file, run `python -m MODULE FILE` and return the last stdout line as JSON.

    The child runs in `workdir` (so no stray `.env` of the caller's directory is read) with this checkout
    first on PYTHONPATH; its stderr (the product's logs) goes to a file beside the spec."""
    n = next(_serial)
    spec_file = workdir / f"{module.rsplit('.', 1)[-1]}-{n}.json"
    spec_file.write_text(json.dumps(spec), encoding="utf-8")
    log = workdir / f"{spec_file.stem}.log"
    with log.open("w") as err:
        done = subprocess.run([sys.executable, "-m", module, str(spec_file)], cwd=workdir, env=child_env(),
                              stdout=subprocess.PIPE, stderr=err, text=True, timeout=timeout)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        tail = log.read_text(encoding="utf-8", errors="replace")[-2000:]
        raise RuntimeError(f"{module} failed (exit {done.returncode}):\n{tail}")
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def run_in_process(module: str, spec: dict[str, Any], workdir: Path) -> dict[str, Any]:
    """The same child, called in this process (`module.measure(spec)`): no process start-up, for the smoke
    test only, since the figures (CPU, peak RSS) are then this process's, not the run's."""
    import importlib

    result: dict[str, Any] = importlib.import_module(module).measure(spec)
    return result
