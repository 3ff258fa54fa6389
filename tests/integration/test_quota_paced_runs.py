"""Runs under Google's per-user quotas, enforced by the emulator on a short window (the pacer's window set to
match, as an admin would set CONTACTSYNC_QUOTA_WINDOW_SECONDS for another server). Google's default limits
per window: a first sync of thousands of contacts must finish in one run, paced, with next to no 429s."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import pytest

from emulator.people_store import create_contact
from emulator.quota import QuotaConfig
from sync_core.domain.models import RunStatus, TargetStatus
from sync_core.runtime import Runtime
from tests.conftest import Google
from tests.integration.helpers import by_email, create_job, make_runtime, ours, source_keys, user_id

WINDOW = 1.0
QUOTAS = QuotaConfig.google(window_seconds=WINDOW)


def add_source_contacts(google: Google, count: int) -> None:
    alice = user_id(google, google.seed.source_email)
    group = google.seed.source_group_resource_name
    for i in range(count):
        create_contact(
            google.ws,
            alice,
            {
                "names": [{"givenName": f"Bulk{i:05d}", "familyName": "Partner"}],
                "emailAddresses": [{"value": f"bulk{i}@partners.example.net"}],
                "phoneNumbers": [{"value": f"+1 555 {i:07d}"}],
                "memberships": [{"contactGroupMembership": {"contactGroupResourceName": group}}],
            },
        )


def paced_runtime(google: Google, tmp_path: Path, **extra: Any) -> Runtime:
    extra.setdefault("CONTACTSYNC_QUOTA_WINDOW_SECONDS", WINDOW)
    return make_runtime(google, f"sqlite:///{tmp_path / 'cs.db'}", **extra)


def rejected(google: Google) -> int:
    return sum(google.handle.control.calls().get("quotaRejected", {}).values())


@pytest.mark.parametrize("google", [QUOTAS], indirect=True)
def test_a_label_of_thousands_finishes_in_one_run_paced_within_the_quota(google: Google, tmp_path: Path) -> None:
    add_source_contacts(google, 2940)  # with the seed's 60: 3,000 contacts, 15 batch creates per target
    rt = paced_runtime(google, tmp_path)
    targets = ("email:bob@example.com", "email:zoe@example.com", "email:dave@example.com")
    create_job(rt, google, *targets)
    started = time.monotonic()
    report = rt.engine.run("Partners")
    elapsed = time.monotonic() - started
    assert report.status is RunStatus.ok, report
    for email in ("bob@example.com", "zoe@example.com", "dave@example.com"):
        t = by_email(report)[email]
        assert t.status is TargetStatus.ok and t.created == 3000, t
        assert set(ours(google, email)) == source_keys(google)
    # 90 critical-write units a target at 30 a window: it cannot end before two windows have passed...
    assert elapsed >= 2 * WINDOW
    # ...and the pacer kept to the quota: fewer than one 429 per target.
    assert rejected(google) < len(targets)
    batches = report.calls_by_method["people.batchCreateContacts"]
    assert batches == len(targets) * math.ceil(3000 / 200)


@pytest.mark.parametrize("google", [QuotaConfig.google(window_seconds=30.0)], indirect=True)
def test_a_target_out_of_quota_time_keeps_what_it_wrote_and_the_next_run_goes_on(
    google: Google, tmp_path: Path
) -> None:
    add_source_contacts(google, 1140)  # 1,200 contacts: 6 batch creates, 36 write units > 30 a window
    rt = paced_runtime(
        google, tmp_path, CONTACTSYNC_QUOTA_WINDOW_SECONDS=30.0, CONTACTSYNC_QUOTA_MAX_WAIT_SECONDS=1.0
    )
    create_job(rt, google, "email:bob@example.com")
    report = rt.engine.run("Partners")
    bob = by_email(report)["bob@example.com"]
    assert bob.status is TargetStatus.quota
    assert bob.created == 1000 and "stopped after writing +1000" in bob.reason, bob
    assert len(ours(google, "bob@example.com")) == 1000

    # The next run (a fresh window: the emulator's usage forgotten, a new process's pacer) finishes the
    # job from the links the first one kept: 200 more creates, no duplicates, no body read back.
    google.handle.control.reset_quota_usage()
    google.handle.control.reset_calls()
    again = paced_runtime(google, tmp_path).engine.run("Partners")
    bob = by_email(again)["bob@example.com"]
    assert bob.status is TargetStatus.ok and bob.created == 200 and bob.unchanged == 1000, bob
    assert set(ours(google, "bob@example.com")) == source_keys(google)
    assert "people.people.getBatchGet" not in google.handle.control.calls()["byMethod"]


@pytest.mark.parametrize("google", [QUOTAS], indirect=True)
def test_a_429_from_someone_else_spending_the_quota_is_waited_out(google: Google, tmp_path: Path) -> None:
    rt = paced_runtime(google, tmp_path)
    create_job(rt, google, "email:bob@example.com")
    # Another client spent bob's critical writes in this window: the pacer didn't know, Google says 429.
    google.handle.control.inject_fault("people.people.batchCreateContacts", count=2, code=429, user="bob@example.com")
    report = rt.engine.run("Partners")
    assert by_email(report)["bob@example.com"].status is TargetStatus.ok
    assert set(ours(google, "bob@example.com")) == source_keys(google)
    assert rt.engine.pacer.rate_limited == 2
    # the process's metrics saw both 429s, by method and by quota metric, and the waits they caused
    calls = {(s.labels["method"], s.labels["outcome"]): s.value for s in rt.metrics.google_calls.collect()[0].samples
             if s.name.endswith("_total")}
    assert calls[("people.batchCreateContacts", "429")] == 2
    limited = [s for s in rt.metrics.rate_limited.collect()[0].samples if s.name.endswith("_total")]
    assert sum(s.value for s in limited) == 2
    waited = [s.value for s in rt.metrics.quota_wait.collect()[0].samples if s.name.endswith("_total")]
    assert waited[0] > 0 and waited[0] == pytest.approx(rt.engine.pacer.waited_total)


@pytest.mark.parametrize("google", [QuotaConfig.google(window_seconds=2.0)], indirect=True)
def test_targets_waiting_for_their_windows_hold_no_worker(google: Google, tmp_path: Path) -> None:
    """One worker, three targets that each need a second window (1,200 contacts: 6 batch creates, 36 write units
    at 30 a window): each parks once its first window is spent, so all three write their first window before
    any writes its second, instead of one target after another sleeping through its window."""
    add_source_contacts(google, 1140)
    rt = paced_runtime(google, tmp_path, CONTACTSYNC_QUOTA_WINDOW_SECONDS=2.0, CONTACTSYNC_MAX_PARALLEL_TARGETS=1)
    emails = ("bob@example.com", "zoe@example.com", "dave@example.com")
    create_job(rt, google, *(f"email:{e}" for e in emails))
    google.handle.control.record_calls()
    report = rt.engine.run("Partners")
    assert report.status is RunStatus.ok, report
    for email in emails:
        assert by_email(report)[email].created == 1200
        assert set(ours(google, email)) == source_keys(google)
    creates = [(c["user"], c["started"]) for c in google.handle.control.call_log()
               if c["method"].endswith("batchCreateContacts")]
    first_of = {e: min(t for u, t in creates if u == e) for e in emails}
    last_of = {e: max(t for u, t in creates if u == e) for e in emails}
    assert max(first_of.values()) < min(last_of.values())  # every target had begun before any had finished
    assert rejected(google) < len(emails)


@pytest.mark.parametrize("google", [QuotaConfig.google(window_seconds=60.0)], indirect=True)
def test_a_shutdown_stops_targets_parked_for_their_window_with_what_they_wrote(
    google: Google, tmp_path: Path
) -> None:
    """Targets that parked for their next (minute-long) window are stopped at their park when the process shuts
    down: each reports what it wrote and keeps its links, and the run after goes on from there."""
    import threading

    add_source_contacts(google, 1140)  # 6 batch creates: 5 go at once, the 6th needs the next window
    rt = paced_runtime(google, tmp_path, CONTACTSYNC_QUOTA_WINDOW_SECONDS=60.0)
    emails = ("bob@example.com", "zoe@example.com")
    create_job(rt, google, *(f"email:{e}" for e in emails))
    cancel = threading.Event()
    pacer = rt.engine.pacer

    def shut_down_once_both_parked() -> None:  # each target counts its park (about a minute) as waited
        deadline = time.monotonic() + 60
        while pacer.waited_total < 2 * 30 and time.monotonic() < deadline:
            time.sleep(0.05)
        cancel.set()

    watcher = threading.Thread(target=shut_down_once_both_parked)
    watcher.start()
    report = rt.engine.run("Partners", cancel=cancel)
    watcher.join()
    assert report.status is RunStatus.abandoned
    for email in emails:
        target = by_email(report)[email]
        assert target.created == 1000 and "stopped by a shutdown" in (target.reason or ""), target
        assert len(ours(google, email)) == 1000
    again = paced_runtime(google, tmp_path, CONTACTSYNC_QUOTA_WINDOW_SECONDS=60.0)
    google.handle.control.reset_quota_usage()  # a minute later, as far as Google is concerned
    after = again.engine.run("Partners")
    for email in emails:
        assert by_email(after)[email].created == 200 and set(ours(google, email)) == source_keys(google)
