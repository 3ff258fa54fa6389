"""PURE: may a run take a job's lease? No I/O here: the caller reads the lease row and, for a holder on this
host, looks its process up (`sync_core.leases.processes`), then asks `decide`.

A lease is held by one process, named by where it runs (host, boot) and which process it is (pid, and the
process's start time, so a pid the kernel gave to another process since does not pass for the holder; an
empty `boot_id` means the host could not say). A lease lapses at `expires_at`: its holder renews it every
few seconds while its run lives (the heartbeat), so a run that died is given up within one TTL. A holder
on this host whose process is gone, or that ran before this host's last boot, is known to be dead: its
lease is taken over at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


@dataclass(frozen=True)
class ProcessIdentity:
    """Where a lease holder runs. `started`: the process's start time as the OS counts it (on Linux, clock
    ticks since boot), None where it cannot be read; `boot_id` names the host's current boot."""

    host: str
    boot_id: str
    pid: int
    started: int | None


@dataclass(frozen=True)
class LeaseView:
    """What the lease row says of its holder. Identity fields are None for a holder that did not say
    (an older ContactSync, or a test): such a lease only lapses with time."""

    holder: str
    expires_at: datetime
    host: str | None = None
    boot_id: str | None = None
    pid: int | None = None
    started: int | None = None


class Verdict(StrEnum):
    free = "free"  # no lease
    mine = "mine"  # the caller already holds it: renew
    expired = "expired"  # its holder stopped renewing it
    holder_gone = "holder_gone"  # its holder's process is no longer running on this host
    host_rebooted = "host_rebooted"  # its holder ran on this host before its last boot
    held = "held"  # a live holder, or one we cannot check: wait

    @property
    def may_take(self) -> bool:
        return self is not Verdict.held

    @property
    def holder_dead(self) -> bool:
        """The previous holder's run is over (crashed, killed, lapsed): its `running` runs are abandoned."""
        return self in (Verdict.expired, Verdict.holder_gone, Verdict.host_rebooted)


def needs_probe(lease: LeaseView, me: ProcessIdentity) -> bool:
    """Whether `decide` would use a look-up of the holder's process: only one on this host, this boot."""
    return bool(me.boot_id) and lease.host == me.host and lease.boot_id == me.boot_id and lease.pid is not None


def decide(
    lease: LeaseView | None,
    *,
    holder: str,
    me: ProcessIdentity,
    now: datetime,
    holder_started: int | None = None,
    holder_running: bool = True,
) -> Verdict:
    """May `holder` (running as `me`) take the lease now?

    `holder_running`, `holder_started`: the look-up of the lease holder's pid on this host (only used when
    `needs_probe`): whether a process with that pid runs, and when it started (None: unknown).
    """
    if lease is None:
        return Verdict.free
    if lease.holder == holder:
        return Verdict.mine
    if lease.expires_at <= now:
        return Verdict.expired
    if lease.host is None or lease.host != me.host or not lease.boot_id or not me.boot_id:
        return Verdict.held  # another host (or one we cannot tell apart): only time tells
    if lease.boot_id != me.boot_id:
        return Verdict.host_rebooted
    if lease.pid is None:
        return Verdict.held
    if not holder_running:
        return Verdict.holder_gone
    if lease.started is not None and holder_started is not None and lease.started != holder_started:
        return Verdict.holder_gone  # the pid now belongs to a younger process
    return Verdict.held
