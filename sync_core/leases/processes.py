"""Who this process is, and whether another process on this host still runs: what a lease records of its
holder and what a run checks before taking over a lease (see `lease_policy`).

Linux says it in /proc: a boot id that changes at every boot, and each process's start time (clock ticks
since boot, field 22 of /proc/PID/stat), which tells a holder from a process that was given its pid later.
Elsewhere there is no boot id (leases of this host lapse by time alone) and no start time.
"""

from __future__ import annotations

import os
import socket
import uuid
from functools import cache
from pathlib import Path

from sync_core.leases.lease_policy import ProcessIdentity

_PROC = Path("/proc")


@cache
def boot_id() -> str:
    try:
        return (_PROC / "sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        # No way to know: a lease of a dead holder on this host then lapses by time alone.
        return ""


def _stat_fields(pid: int) -> list[str] | None:
    """/proc/PID/stat after the command name (which may hold spaces and parentheses): state is [0]."""
    try:
        raw = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    return raw[raw.rfind(")") + 2 :].split()


def started_at(pid: int) -> int | None:
    """The process's start time (ticks since boot), or None if it is not running or that is unknown."""
    fields = _stat_fields(pid)
    if fields is None or len(fields) < 20:
        return None
    try:
        return int(fields[19])  # field 22 of stat; the first two (pid, comm) are cut off
    except ValueError:
        return None


def is_running(pid: int) -> bool:
    """Whether a process with this pid runs here. A zombie (dead, not yet reaped by its parent) does not."""
    if pid <= 0:
        return False
    fields = _stat_fields(pid)
    if fields is not None:
        return bool(fields) and fields[0] not in ("Z", "X")
    if _PROC.joinpath("self").exists():
        return False  # /proc works here, and has no such process
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def this_process() -> ProcessIdentity:
    pid = os.getpid()
    return ProcessIdentity(host=socket.gethostname(), boot_id=boot_id(), pid=pid, started=started_at(pid))


def lease_holder() -> str:
    """A new lease holder's name for this process (host:pid:random): unique, so that two engines in one
    process never share a holder, and readable in the lease table."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def probe_process(pid: int) -> tuple[bool, int | None]:
    """Is a lease holder's process (on this host) still running, and since when (the lease's `probe`)."""
    return is_running(pid), started_at(pid)
