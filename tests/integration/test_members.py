"""Syncs for every employee, through the service and real runs on the emulator: who a member is (a verified
address -> their Google user, by id), Leave (the next run removes our contacts and label from their account
only, and keeps them out however the selectors resolve), Re-join, Join on an open sync, and the refusals."""

from __future__ import annotations

import pytest

from sync_core import store
from sync_core.domain.models import OptOut, SelectorKind, TargetStatus
from sync_core.runtime import Runtime
from sync_core.service import JobEdit, JobService, MemberAction, MemberRefused, NotAMember
from sync_core.service.members import MemberDirectory
from tests.conftest import Google
from tests.integration.helpers import TAG, by_email, contacts, create_job, group_named, make_runtime, user_id


def ours_of(google: Google, email: str, uid: str) -> int:
    return sum(1 for p in contacts(google, email).values()
               if any(d["key"] == TAG + uid for d in p.get("clientData", [])))


def test_a_verified_address_names_one_active_google_user_by_id(google: Google, rt: Runtime) -> None:
    service = JobService(rt)
    bob = service.member("Bob@Example.com ", actor="UBOB")
    assert (bob.user_id, bob.email, bob.actor) == (user_id(google, "bob@example.com"), "bob@example.com", "UBOB")
    with pytest.raises(NotAMember, match="no email address"):
        service.member("", actor="UNOBODY")
    with pytest.raises(NotAMember, match="nobody@example.com"):
        service.member("nobody@example.com", actor="UNOBODY")
    google.handle.control.suspend_user("zoe@example.com")
    with pytest.raises(NotAMember, match="zoe@example.com"):
        service.member("zoe@example.com", actor="UZOE")


def test_the_mapping_is_cached_for_its_setting_and_asked_again_after(google: Google, rt: Runtime) -> None:
    now = [0.0]
    asked: list[str] = []
    directory = rt.directory()

    class Counting:
        def get_user(self, key: str) -> object:
            asked.append(key)
            return directory.get_user(key)

    members = MemberDirectory(lambda: Counting(), ttl_seconds=60, clock=lambda: now[0])  # type: ignore[arg-type,return-value]
    members.member("bob@example.com", actor="U1")
    members.member("bob@example.com", actor="U1")
    assert asked == ["bob@example.com"]
    now[0] = 61
    members.member("bob@example.com", actor="U1")
    assert asked == ["bob@example.com"] * 2


def test_leave_removes_our_contacts_and_label_at_the_next_run_and_nothing_else(google: Google, rt: Runtime) -> None:
    service = JobService(rt)
    create_job(rt, google, "group:sales@example.com", opt_out=OptOut.allowed)
    create_job(rt, google, "email:bob@example.com", name="Other", target_group_name="Other label")
    service.run("Partners")
    service.run("Other")
    job, other = service.find("Partners"), service.find("Other")
    assert job.id is not None
    bob = service.member("bob@example.com", actor="UBOB")
    count = google.seed.contact_count
    assert ours_of(google, "bob@example.com", job.uid) == count
    mine = {s.name: s for s in service.my_syncs(bob)}
    assert mine["Partners"].actions == (MemberAction.LEAVE,) and mine["Partners"].contacts == count
    assert mine["Partners"].role == "reader" and mine["Partners"].status is TargetStatus.ok
    assert mine["Other"].actions == (), "Other does not allow leaving"

    service.leave(job.id, bob)
    assert ours_of(google, "bob@example.com", job.uid) == count, "removed at the next run, not at once"
    report = service.run("Partners")

    assert by_email(report)["bob@example.com"].status is TargetStatus.removed
    assert ours_of(google, "bob@example.com", job.uid) == 0
    assert group_named(google, "bob@example.com", job.target_group_name) is None
    assert ours_of(google, "bob@example.com", other.uid) == count, "another sync's contacts stay"
    assert ours_of(google, "carol@example.com", job.uid) == count, "other targets untouched"
    again = service.run("Partners")
    assert "bob@example.com" not in by_email(again), "kept out although sales@ still names him"
    assert ours_of(google, "bob@example.com", job.uid) == 0
    assert [(o.email, o.actor) for o in service.opt_outs("Partners")] == [("bob@example.com", "UBOB")]
    assert [s.actions for s in service.my_syncs(bob) if s.name == "Partners"] == [(MemberAction.REJOIN,)]

    service.rejoin(job.id, bob)
    service.run("Partners")
    assert ours_of(google, "bob@example.com", job.uid) == count
    assert service.opt_outs("Partners") == []
    with store.session_scope(rt.db) as session:
        history = [(e.actor, e.action, e.detail.get("member")) for e in store.audit_events(session, job_id=job.id)]
    assert ("UBOB", "leave", "bob@example.com") in history and ("UBOB", "re-join", "bob@example.com") in history


def test_leave_is_refused_where_the_job_does_not_allow_it_or_does_not_reach_the_member(
    google: Google, rt: Runtime
) -> None:
    service = JobService(rt)
    create_job(rt, google, "email:bob@example.com")
    job = service.find("Partners")
    assert job.id is not None
    with pytest.raises(MemberRefused, match="does not allow leaving"):
        service.leave(job.id, service.member("bob@example.com", actor="UBOB"))
    service.edit("Partners", JobEdit(opt_out=OptOut.allowed), actor="cli")
    with pytest.raises(MemberRefused, match="does not reach you"):
        service.leave(job.id, service.member("carol@example.com", actor="UCAROL"))
    with pytest.raises(MemberRefused, match="have not left"):
        service.rejoin(job.id, service.member("bob@example.com", actor="UBOB"))
    assert service.opt_outs("Partners") == []


def test_join_adds_the_member_to_an_open_sync_only(google: Google, rt: Runtime) -> None:
    service = JobService(rt)
    create_job(rt, google, "email:bob@example.com", joinable=True)
    create_job(rt, google, "email:bob@example.com", name="Closed", target_group_name="Closed")
    job, closed = service.find("Partners"), service.find("Closed")
    assert job.id is not None and closed.id is not None
    dave = service.member("dave@example.com", actor="UDAVE")
    assert [(s.name, s.actions) for s in service.my_syncs(dave)] == [("Partners", (MemberAction.JOIN,))]
    with pytest.raises(MemberRefused, match="not open to join"):
        service.join(closed.id, dave)

    service.join(job.id, dave)
    report = service.run("Partners")
    assert by_email(report)["dave@example.com"].status is TargetStatus.ok
    assert ours_of(google, "dave@example.com", job.uid) == google.seed.contact_count
    with store.session_scope(rt.db) as session:
        rows = store.list_selectors(session, job_id=job.id)
    assert [(r.kind, r.value) for r in rows if r.value == "dave@example.com"] == [(SelectorKind.email,
                                                                                     "dave@example.com")]
    with pytest.raises(MemberRefused, match="already in"):
        service.join(job.id, dave)
    with pytest.raises(MemberRefused, match="source"):
        service.join(job.id, service.member(google.seed.source_email, actor="USRC"))


def test_an_opt_out_passes_the_deletion_guard_and_an_admin_clearing_it_brings_the_contacts_back(
    google: Google, tmp_path: object
) -> None:
    """Bob is the job's only target, so the mass-deletion guard would hold his removal as a selector mistake:
    an opt-out is his own choice, and goes through."""
    rt = make_runtime(google, f"sqlite:///{tmp_path}/c.db")
    service = JobService(rt)
    create_job(rt, google, "email:bob@example.com", opt_out=OptOut.allowed)
    job = service.find("Partners")
    assert job.id is not None
    service.run("Partners")
    service.leave(job.id, service.member("bob@example.com", actor="UBOB"))
    service.run("Partners")
    assert ours_of(google, "bob@example.com", job.uid) == 0
    with pytest.raises(Exception, match="nobody with the address"):
        service.clear_opt_out("Partners", "carol@example.com", actor="cli")
    service.clear_opt_out("Partners", "BOB@example.com", actor="cli")
    service.run("Partners")
    assert ours_of(google, "bob@example.com", job.uid) == google.seed.contact_count
