"""The mass-deletion guard against the emulator: a source or a target set that shrinks by more than the
share (and the minimum) has its deletions held, while the run still creates and updates, until an admin
applies them; small shrinks go through."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from emulator.seed import Ids, add_extra_users
from sync_core import store
from sync_core.domain.models import RunStatus, SelectorCreate, SelectorKind, TargetStatus
from sync_core.runtime import Runtime
from sync_core.service.fixes import apply_deletions
from tests.conftest import Google
from tests.integration.helpers import as_user, by_email, create_job, make_runtime, ours, source_keys

TARGETS = ("bob@example.com", "carol@example.com")


def drop_from_source(google: Google, rt: Runtime, count: int) -> list[str]:
    """Take `count` contacts out of the source group (the admin's "oops"); the keys taken out."""
    keys = sorted(source_keys(google))[:count]
    as_user(rt, google.seed.source_email).contactGroups().members().modify(
        resourceName=google.seed.source_group_resource_name, body={"resourceNamesToRemove": keys}
    ).execute()
    return keys


def edit_and_add_at_source(google: Google, rt: Runtime, key: str) -> str:
    """Edit one source contact and add one: what a held run must still write. The new contact's key."""
    alice = as_user(rt, google.seed.source_email).people()
    person = alice.get(resourceName=key, personFields="names").execute()
    alice.updateContact(resourceName=key, updatePersonFields="names",
                        body={"etag": person["etag"], "names": [{"givenName": "Still", "familyName": "Edited"}]}
                        ).execute()
    group = {"contactGroupMembership": {"contactGroupResourceName": google.seed.source_group_resource_name}}
    return str(alice.createContact(body={"names": [{"givenName": "Newly"}], "memberships": [group]}
                                   ).execute()["resourceName"])


def job_id(rt: Runtime, name: str = "Partners") -> int:
    with store.session_scope(rt.db) as session:
        job = store.get_job_by_name(session, name=name)
        assert job is not None and job.id is not None
        return job.id


def test_a_source_shrinking_by_60_percent_holds_its_deletions_at_every_target_until_applied(
    google: Google, rt: Runtime
) -> None:
    create_job(rt, google, *(f"email:{t}" for t in TARGETS))
    assert rt.engine.run("Partners").status is RunStatus.ok
    total = google.seed.contact_count  # 60
    dropped = drop_from_source(google, rt, total * 6 // 10)  # 36: more than half, and at least 20
    kept = sorted(source_keys(google))
    new = edit_and_add_at_source(google, rt, kept[0])

    for _ in range(2):  # held, and held again by the next run (nothing was confirmed)
        report = rt.engine.run("Partners")
        assert report.status is RunStatus.ok, report
        for email in TARGETS:
            t = by_email(report)[email]
            assert (t.held, t.deleted) == (36, 0), t
            held = ours(google, email)
            assert set(held) == set(dropped) | set(kept) | {new}, "nothing deleted; the new contact created"
            assert held[kept[0]]["names"][0]["givenName"] == "Still", "the edit went through"
        assert "72 deletions at 2 accounts" in report.held_summary()

    dry = rt.engine.run("Partners", dry_run=True, allow_deletions=True)
    assert [t.held for t in dry.targets] == [0, 0] and [t.deleted for t in dry.targets] == [36, 36]

    result = apply_deletions(rt.db, job_id=job_id(rt), actor="U0ADMIN")
    assert result.changed and not apply_deletions(rt.db, job_id=job_id(rt), actor="U0ADMIN").changed
    applied = rt.engine.run("Partners")
    assert [(t.held, t.deleted) for t in applied.targets] == [(0, 36), (0, 36)]
    for email in TARGETS:
        assert set(ours(google, email)) == source_keys(google)
    assert applied.held_summary() == ""
    # Applying lets one run through, not every run after it: a new big shrink is held again.
    before = source_keys(google)
    drop_from_source(google, rt, 22)
    gone = len(before - source_keys(google))
    assert gone >= 20
    held_again = rt.engine.run("Partners")
    assert [t.held for t in held_again.targets] == [gone, gone]
    assert set(ours(google, TARGETS[0])) == before


def test_allow_deletions_lets_the_held_deletions_through(google: Google, rt: Runtime) -> None:
    create_job(rt, google, "email:bob@example.com")
    rt.engine.run("Partners")
    drop_from_source(google, rt, 40)
    assert by_email(rt.engine.run("Partners"))["bob@example.com"].held == 40
    report = rt.engine.run("Partners", allow_deletions=True)
    assert (report.targets[0].held, report.targets[0].deleted) == (0, 40)
    assert set(ours(google, "bob@example.com")) == source_keys(google)


@pytest.mark.parametrize("shrink", [20, 30])  # a third, and exactly half: not more than the share
def test_a_shrink_within_the_share_goes_through(google: Google, rt: Runtime, shrink: int) -> None:
    create_job(rt, google, "email:bob@example.com")
    rt.engine.run("Partners")
    drop_from_source(google, rt, shrink)
    report = rt.engine.run("Partners")
    assert (report.targets[0].held, report.targets[0].deleted) == (0, shrink)
    assert set(ours(google, "bob@example.com")) == source_keys(google)


def test_a_shrink_under_the_minimum_goes_through(google: Google, tmp_path: Path) -> None:
    rt = make_runtime(google, f"sqlite:///{tmp_path / 'cs.db'}", CONTACTSYNC_DELETION_GUARD_MIN=40)
    create_job(rt, google, "email:bob@example.com")
    rt.engine.run("Partners")
    drop_from_source(google, rt, 36)  # 60 %, but 36 contacts: under the minimum of 40
    report = rt.engine.run("Partners")
    assert (report.targets[0].held, report.targets[0].deleted) == (0, 36)


def ten_targets(google: Google) -> list[str]:
    """Ten active users other than the source (the seeded tenant has nine: three plain ones join them)."""
    with google.ws.lock:
        add_extra_users(google.ws, Ids(random.Random(7)), random.Random(8), 3)
    users = [u for u in google.ws.directory["users"].values()
             if not u.get("suspended") and not u.get("archived") and u["primaryEmail"] != google.seed.source_email]
    emails = sorted(str(u["primaryEmail"]) for u in users)
    assert len(emails) >= 10
    return emails[:10]


def test_a_target_set_shrinking_from_ten_to_three_holds_the_seven_removals(google: Google, rt: Runtime) -> None:
    emails = ten_targets(google)
    create_job(rt, google, *(f"email:{e}" for e in emails))
    assert rt.engine.run("Partners").status is RunStatus.ok
    with store.session_scope(rt.db) as session:
        store.set_selectors(session, job_id=job_id(rt), selectors=[
            SelectorCreate(kind=SelectorKind.email, value=e) for e in emails[:3]])

    for _ in range(2):
        report = rt.engine.run("Partners")
        assert report.status is RunStatus.ok
        results = by_email(report)
        assert {e for e, t in results.items() if t.held} == set(emails[3:])
        for email in emails[3:]:
            assert results[email].held == google.seed.contact_count and results[email].deleted == 0
            assert results[email].status is TargetStatus.ok and "waits for an admin" in results[email].reason
            assert len(ours(google, email)) == google.seed.contact_count, "still there"
        assert f"{7 * google.seed.contact_count} deletions at 7 accounts" in report.held_summary()

    apply_deletions(rt.db, job_id=job_id(rt), actor="U0ADMIN")
    applied = rt.engine.run("Partners")
    removed = {t.email for t in applied.targets if t.status is TargetStatus.removed}
    assert removed == set(emails[3:])
    for email in emails[3:]:
        assert ours(google, email) == {}
    for email in emails[:3]:
        assert len(ours(google, email)) == google.seed.contact_count
    assert rt.engine.run("Partners").targets_expected == 3, "the leavers are gone from the job's state"


def test_two_targets_leaving_of_ten_go_at_once(google: Google, rt: Runtime) -> None:
    emails = ten_targets(google)
    create_job(rt, google, *(f"email:{e}" for e in emails))
    rt.engine.run("Partners")
    with store.session_scope(rt.db) as session:
        store.set_selectors(session, job_id=job_id(rt), selectors=[
            SelectorCreate(kind=SelectorKind.email, value=e) for e in emails[:8]])
    report = rt.engine.run("Partners")
    assert {t.email for t in report.targets if t.status is TargetStatus.removed} == set(emails[8:])
    assert report.held_summary() == ""
