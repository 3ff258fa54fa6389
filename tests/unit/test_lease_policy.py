"""The lease decision, exhaustively: hypothesis draws leases, callers and process look-ups."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from sync_core.leases.lease_policy import LeaseView, ProcessIdentity, Verdict, decide, needs_probe

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
HOSTS = st.sampled_from(["web-1", "web-2"])
BOOTS = st.sampled_from(["boot-a", "boot-b", ""])
PIDS = st.integers(min_value=1, max_value=6)
STARTS = st.none() | st.integers(min_value=100, max_value=103)
HOLDERS = st.sampled_from(["web-1:1:aa", "web-1:2:bb", "web-2:1:cc"])

me_st = st.builds(ProcessIdentity, host=HOSTS, boot_id=BOOTS, pid=PIDS, started=STARTS)
lease_st = st.builds(
    LeaseView,
    holder=HOLDERS,
    expires_at=st.integers(min_value=-60, max_value=60).map(lambda s: NOW + timedelta(seconds=s)),
    host=st.none() | HOSTS,
    boot_id=st.none() | BOOTS,
    pid=st.none() | PIDS,
    started=STARTS,
)


def _proven_dead(lease: LeaseView, me: ProcessIdentity, running: bool, started: int | None) -> bool:
    """What the caller knows for sure: the holder ran on this host, and that process no longer runs."""
    if lease.host != me.host or not lease.boot_id or not me.boot_id:
        return False
    if lease.boot_id != me.boot_id:
        return True
    if lease.pid is None:
        return False
    if not running:
        return True
    return lease.started is not None and started is not None and lease.started != started


@given(lease=st.none() | lease_st, holder=HOLDERS, me=me_st, running=st.booleans(), started=STARTS)
def test_a_live_lease_of_another_holder_is_only_taken_from_a_holder_proven_dead(
    lease: LeaseView | None, holder: str, me: ProcessIdentity, running: bool, started: int | None
) -> None:
    verdict = decide(lease, holder=holder, me=me, now=NOW, holder_running=running, holder_started=started)
    if lease is None:
        assert verdict is Verdict.free
        return
    if lease.holder == holder:
        assert verdict is Verdict.mine
        return
    if lease.expires_at <= NOW:
        assert verdict is Verdict.expired
        return
    assert verdict.may_take == _proven_dead(lease, me, running, started), verdict
    assert verdict.may_take == verdict.holder_dead


@given(lease=lease_st, holder=HOLDERS, me=me_st, running=st.booleans(), started=STARTS)
def test_the_process_look_up_matters_only_where_needs_probe_says(
    lease: LeaseView, holder: str, me: ProcessIdentity, running: bool, started: int | None
) -> None:
    verdict = decide(lease, holder=holder, me=me, now=NOW, holder_running=running, holder_started=started)
    if not needs_probe(lease, me):
        assert verdict is decide(lease, holder=holder, me=me, now=NOW)  # as if the holder were alive


@given(lease=lease_st, me=me_st)
def test_another_host_s_live_lease_lapses_only_with_time(lease: LeaseView, me: ProcessIdentity) -> None:
    other = LeaseView(lease.holder, NOW + timedelta(seconds=1), "db-host", lease.boot_id, lease.pid, lease.started)
    assert decide(other, holder="me", me=me, now=NOW, holder_running=False) is Verdict.held
    assert decide(other, holder="me", me=me, now=other.expires_at, holder_running=False) is Verdict.expired


def test_the_cases_by_name() -> None:
    me = ProcessIdentity("web-1", "boot-a", pid=10, started=500)
    live = NOW + timedelta(seconds=30)
    holder = LeaseView("web-1:7:x", live, "web-1", "boot-a", pid=7, started=400)
    assert decide(holder, holder="me", me=me, now=NOW, holder_running=True, holder_started=400) is Verdict.held
    assert decide(holder, holder="me", me=me, now=NOW, holder_running=False) is Verdict.holder_gone
    reused = decide(holder, holder="me", me=me, now=NOW, holder_running=True, holder_started=900)
    assert reused is Verdict.holder_gone  # pid 7 is another process now
    rebooted = LeaseView("web-1:7:x", live, "web-1", "boot-0", pid=7, started=400)
    assert decide(rebooted, holder="me", me=me, now=NOW, holder_running=True) is Verdict.host_rebooted
    anonymous = LeaseView("worker-1", live)  # an older ContactSync: no identity
    assert decide(anonymous, holder="me", me=me, now=NOW, holder_running=False) is Verdict.held
