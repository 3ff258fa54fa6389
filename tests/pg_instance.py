"""A PostgreSQL server of a test's own: initdb'd in a temp directory, on a free port, stopped and started at
will (a database outage) without touching the shared server other tests use in parallel."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest


def _bindir() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(candidates[-1]).parent if candidates else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresInstance:
    def __init__(self, bindir: Path, root: Path, as_user: list[str]) -> None:
        self.bindir, self.root, self.as_user = bindir, root, as_user
        self.data = root / "data"
        self.port = _free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str) -> None:
        command = [*self.as_user, str(self.bindir / tool), *args]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            log = (self.root / "server.log").read_text() if (self.root / "server.log").exists() else ""
            raise RuntimeError(f"{tool} {args[:2]} failed: {done.stderr.strip()[-800:]}\n{log[-800:]}")

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")

    def start(self) -> None:
        """Start and wait until it accepts connections (`pg_ctl -w`)."""
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.root / "server.log"), "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        """`fast` ends every session (what a restart does to a run); `immediate` is a crash."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")


@contextmanager
def postgres_instance() -> Iterator[PostgresInstance]:
    """A fresh server, removed afterwards. Skips (fails under CONTACTSYNC_REQUIRE_POSTGRES=1) where
    PostgreSQL's server binaries are not installed."""
    bindir = _bindir()
    if bindir is None or not (bindir / "initdb").exists():
        message = "PostgreSQL's server binaries (initdb, pg_ctl) are not installed"
        if os.environ.get("CONTACTSYNC_REQUIRE_POSTGRES") == "1":
            pytest.fail(message + " (CONTACTSYNC_REQUIRE_POSTGRES=1)", pytrace=False)
        pytest.skip(message)
    root = Path(tempfile.mkdtemp(prefix="cs-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root: run the server as the postgres user
        shutil.chown(root, user="postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    instance = PostgresInstance(bindir, root, as_user)
    try:
        instance.init()
        instance.start()
        yield instance
    finally:
        with suppress(RuntimeError):  # not running
            instance.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)
