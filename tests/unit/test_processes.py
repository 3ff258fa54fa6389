"""What a lease records of its holder's process, and how a dead one is told from a live one."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from sync_core.leases import processes

pytestmark = pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="needs Linux's /proc")


def _sleeper() -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])


def test_this_process_is_running_and_has_a_start_time_and_a_boot() -> None:
    me = processes.this_process()
    assert me.pid == os.getpid() and me.host and me.boot_id
    assert me.started is not None and processes.is_running(me.pid)


def test_a_killed_child_is_not_running_even_before_it_is_reaped() -> None:
    child = _sleeper()
    try:
        assert processes.is_running(child.pid)
        started = processes.started_at(child.pid)
        assert started is not None and started >= (processes.started_at(os.getpid()) or 0)
        child.kill()
        for _ in range(200):  # the kernel makes it a zombie within moments; we do not reap it yet
            if not processes.is_running(child.pid):
                break
            subprocess.run(["true"], check=True)
        assert not processes.is_running(child.pid)  # a zombie is dead
    finally:
        child.kill()
        child.wait()
    assert not processes.is_running(child.pid)
    assert processes.started_at(child.pid) is None
