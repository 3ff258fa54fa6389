"""The Google Workspace emulator in its own process, so its CPU and memory are never the product's.

Started as `python -m emulator` on a free port with the generated state file; the quota mode and window
are the emulator's own flags. `EmulatorProcess.control` is the `/_emulator` client (call counts, 429s).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emulator.control import EmulatorControl

ROOT = Path(__file__).resolve().parents[1]


def child_env() -> dict[str, str]:
    """The environment for every child: this checkout's code first (PYTHONPATH), whatever the caller had."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Quotas:
    """How the emulator meters People calls: `enforced` Google's default limits over `window` seconds.

    The product's pacer is always given the same window (CONTACTSYNC_QUOTA_WINDOW_SECONDS)."""

    enforced: bool
    window: float

    def describe(self) -> str:
        if not self.enforced:
            return (f"off (the emulator enforces none; the product's pacer keeps Google's limits over a "
                    f"{self.window:g} s window)")
        return f"Google's defaults over a {self.window:g} s window"


class EmulatorProcess:
    def __init__(self, state_file: Path, workdir: Path, quotas: Quotas) -> None:
        self.quotas = quotas
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.credentials = workdir / f"sa-{self.port}.json"
        self.log = (workdir / f"emulator-{self.port}.log").open("w")
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "emulator", "--port", str(self.port), "--state", str(state_file),
             "--credentials-out", str(self.credentials), "--quotas", "google" if quotas.enforced else "off",
             "--quota-window", repr(quotas.window)],
            cwd=workdir, env=child_env(), stdout=self.log, stderr=subprocess.STDOUT,
        )
        self.control = EmulatorControl(self.url)
        self._wait_ready()

    def _wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"the emulator exited ({self._proc.returncode}); see {self.log.name}")
            if self.credentials.exists():
                try:
                    self.control.calls()
                    return
                except (OSError, RuntimeError):
                    pass
            time.sleep(0.05)
        raise RuntimeError("the emulator did not start in time")

    def calls(self) -> dict[str, Any]:
        return dict(self.control.calls())

    def cpu_seconds(self) -> float | None:
        """The emulator process's CPU so far (user + system; Linux's /proc, else None). A run during which the
        emulator was busy nearly all the time measured the emulator, Google's stand-in, as much as the
        product: the bench prints its share beside each run."""
        try:
            fields = Path(f"/proc/{self._proc.pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
        except OSError:
            return None
        # fields[11] and fields[12] are utime and stime (the stat file's 14th and 15th), in clock ticks
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def reset_calls(self) -> None:
        self.control.reset_calls()

    def stop(self) -> None:
        self._proc.terminate()
        try:
            self._proc.wait(15)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self.log.close()

    def __enter__(self) -> EmulatorProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
