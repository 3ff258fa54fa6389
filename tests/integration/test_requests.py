"""Requests and the two-person rule, through the service on the emulator: a member's request is checked as a
create is, exists only as a request until approved (no job, nothing written), is approved once (two approvals
at the same moment make one job), by someone else than who asked, and expires; with CONTACTSYNC_APPROVAL_ABOVE
a big create, edit or a delete with its contacts waits for a second admin."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from emulator.core import Workspace
from emulator.seed import seed_workspace
from emulator.testing import running_emulator
from sync_core import store
from sync_core.domain.models import ChangeRequest, utcnow
from sync_core.runtime import Runtime
from sync_core.service import (
    ApprovalNeeded,
    ContactsChoice,
    EditPreview,
    JobEdit,
    JobInputError,
    JobService,
    PersonalJobSpec,
    RequestRefused,
    RequestState,
)
from tests.conftest import Google
from tests.integration.helpers import create_job, group_named, make_runtime, ours

BOB = "bob@example.com"


def bobs_label(google: Google) -> str:
    google.handle.control.add_group(BOB, "Bob's clients")
    return "Bob's clients"


def jobs(rt: Runtime) -> list[str]:
    with store.session_scope(rt.db) as session:
        return [j.name for j in store.list_jobs(session)]


def history(rt: Runtime, job_id: int | None) -> list[tuple[str, str]]:
    with store.session_scope(rt.db) as session:
        return [(e.actor, e.action) for e in reversed(store.audit_events(session, job_id=job_id))]


def test_a_members_request_has_their_own_account_as_source_and_exists_only_once_approved(
        google: Google, rt: Runtime) -> None:
    service = JobService(rt)
    label = bobs_label(google)
    bob = service.member(BOB, actor="UBOB")
    # The form said someone else's account: the member's own is the source, whatever the payload said.
    spec = PersonalJobSpec(name="Bob's clients", source_email=google.seed.source_email, group_name=label,
                           targets=["email:carol@example.com"], created_by="UADMIN",
                           editors=["email:dave@example.com"], editors_can_delete=True)
    request = service.request_personal(spec, bob)
    assert request.state is RequestState.pending and request.reach == 1
    # Who else may edit the label is an admin's choice: a member's request asks for no editors.
    assert request.spec["editors"] == [] and request.spec["editors_can_delete"] is False
    assert request.spec["source_email"] == BOB and request.requested_by == "UBOB"
    assert request.requester_email == BOB and len(request.id) >= 20
    assert jobs(rt) == [] and group_named(google, "carol@example.com", label) is None
    assert [r.id for r in service.requests()] == [request.id]

    with pytest.raises(RequestRefused, match="you asked for it"):
        service.approve_request(request.id, actor="UBOB")
    decided, job = service.approve_request(request.id, actor="UADMIN")
    assert decided.state is RequestState.approved and decided.decided_by == "UADMIN" and decided.job_id == job.id
    assert job.source_email == BOB and job.created_by == "UBOB"
    assert history(rt, job.id) == [("UBOB", "request"), ("UBOB", "create"), ("UADMIN", "approve")]
    with pytest.raises(RequestRefused, match="already approved by UADMIN"):
        service.approve_request(request.id, actor="UADMIN2")
    with pytest.raises(RequestRefused, match="already approved"):
        service.deny_request(request.id, actor="UADMIN2", reason="late")
    assert jobs(rt) == ["Bob's clients"] and service.requests() == []
    service.run("Bob's clients")
    assert group_named(google, "carol@example.com", label) is not None


def test_a_request_is_checked_as_a_create_is(google: Google, rt: Runtime) -> None:
    service = JobService(rt)
    bob = service.member(BOB, actor="UBOB")
    spec = PersonalJobSpec(name="Bob's", source_email=BOB, group_name="No such label",
                           targets=["email:carol@example.com"])
    with pytest.raises(JobInputError) as refused:
        service.request_personal(spec, bob)
    assert refused.value.field == "group"
    assert service.requests(pending_only=False) == []


def test_a_denied_request_keeps_its_reason_and_cannot_be_approved(google: Google, rt: Runtime) -> None:
    service = JobService(rt)
    label = bobs_label(google)
    request = service.request_personal(PersonalJobSpec(name="B", source_email=BOB, group_name=label,
                                                       targets=["email:carol@example.com"]),
                                       service.member(BOB, actor="UBOB"))
    with pytest.raises(JobInputError, match="say why"):
        service.deny_request(request.id, actor="UADMIN", reason="  ")
    denied = service.deny_request(request.id, actor="UADMIN", reason="Use the Sales sync")
    assert (denied.state, denied.reason, denied.decided_by) == (RequestState.denied, "Use the Sales sync", "UADMIN")
    with pytest.raises(RequestRefused, match="already denied"):
        service.approve_request(request.id, actor="UADMIN2")
    with pytest.raises(RequestRefused, match="no such request"):
        service.approve_request(request.id[:-1] + ("A" if request.id[-1] != "A" else "B"), actor="UADMIN")
    assert jobs(rt) == []
    assert ("UADMIN", "deny") in history(rt, None)


def test_a_request_expires_undecided(google: Google, rt: Runtime) -> None:
    service = JobService(rt)
    label = bobs_label(google)
    request = service.request_personal(PersonalJobSpec(name="B", source_email=BOB, group_name=label,
                                                       targets=["email:carol@example.com"]),
                                       service.member(BOB, actor="UBOB"))
    assert request.expires_at - request.created_at == timedelta(days=7)
    with store.session_scope(rt.db) as session:
        row = session.get(ChangeRequest, request.id)
        assert row is not None
        row.expires_at = utcnow() - timedelta(seconds=1)
    with pytest.raises(RequestRefused, match="expired"):
        service.approve_request(request.id, actor="UADMIN")
    assert service.requests() == [] and jobs(rt) == []
    assert service.request(request.id).state is RequestState.expired  # type: ignore[union-attr]


def test_an_expired_request_is_claimed_to_be_told_once_of_four_replicas_asking_at_once(
    google: Google, rt: Runtime
) -> None:
    service = JobService(rt)
    request = service.request_personal(PersonalJobSpec(name="B", source_email=BOB, group_name=bobs_label(google),
                                                       targets=["email:carol@example.com"]),
                                       service.member(BOB, actor="UBOB"))
    assert service.expired_requests_to_tell() == []  # pending: nothing to tell
    with store.session_scope(rt.db) as session:
        row = session.get(ChangeRequest, request.id)
        assert row is not None
        row.expires_at = utcnow() - timedelta(seconds=1)
    barrier = threading.Barrier(4)
    told: list[list[str]] = []

    def ask() -> None:
        barrier.wait()
        told.append([r.id for r in service.expired_requests_to_tell()])

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(told) == [[], [], [], [request.id]]
    assert service.expired_requests_to_tell() == []
    assert service.request(request.id).state is RequestState.expired  # type: ignore[union-attr]


def test_two_approvals_at_the_same_moment_make_one_job(google: Google, rt: Runtime) -> None:
    service = JobService(rt)
    label = bobs_label(google)
    request = service.request_personal(PersonalJobSpec(name="B", source_email=BOB, group_name=label,
                                                       targets=["email:carol@example.com"]),
                                       service.member(BOB, actor="UBOB"))
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def press(admin: str) -> None:
        barrier.wait()
        try:
            service.approve_request(request.id, actor=admin)
            outcomes.append("made")
        except RequestRefused:
            outcomes.append("refused")

    threads = [threading.Thread(target=press, args=(f"UADMIN{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["made", "refused", "refused", "refused"]
    assert jobs(rt) == ["B"]


def test_an_approval_whose_change_no_longer_passes_is_pending_again(google: Google, rt: Runtime) -> None:
    service = JobService(rt)
    label = bobs_label(google)
    request = service.request_personal(PersonalJobSpec(name="Taken", source_email=BOB, group_name=label,
                                                       targets=["email:carol@example.com"]),
                                       service.member(BOB, actor="UBOB"))
    create_job(rt, google, "email:dave@example.com", name="Taken")  # the name was taken meanwhile
    with pytest.raises(JobInputError, match="already exists"):
        service.approve_request(request.id, actor="UADMIN")
    assert service.request(request.id).state is RequestState.pending  # type: ignore[union-attr]


# --- the two-person rule ---------------------------------------------------------------------------------


@pytest.fixture
def big(tmp_path: Path) -> Iterator[Google]:
    """The demo tenant with 100 more users: `domain:example.com` reaches more than 100 accounts."""
    ws = Workspace()
    seed = seed_workspace(ws, contacts=5, extra_users=100)
    with running_emulator(ws, tmp_path) as handle:
        yield Google(handle, seed)


def test_a_100_target_job_waits_for_a_second_admin_and_the_first_cannot_approve_it(
        big: Google, tmp_path: Path) -> None:
    rt = make_runtime(big, f"sqlite:///{tmp_path / 'cs.db'}", CONTACTSYNC_APPROVAL_ABOVE=50)
    service = JobService(rt)
    spec = PersonalJobSpec(name="Everyone", source_email=big.seed.source_email, group_name=big.seed.source_group_name,
                           targets=["domain:example.com"], created_by="UADA")
    with pytest.raises(ApprovalNeeded) as held:
        service.create_personal(spec)
    request = held.value.request
    assert request.reach is not None and request.reach > 100 and "more than 50" in request.why
    assert jobs(rt) == [] and ours(big, "carol@example.com") == {}
    with pytest.raises(RequestRefused, match="another admin must"):
        service.approve_request(request.id, actor="UADA")
    _, job = service.approve_request(request.id, actor="UBEN")
    assert jobs(rt) == ["Everyone"]
    assert [a for a in history(rt, job.id)] == [("UADA", "request"), ("UADA", "create"), ("UBEN", "approve")]

    small = PersonalJobSpec(name="Few", source_email=big.seed.source_email, group_name=big.seed.source_group_name,
                            targets=["email:carol@example.com"], created_by="UADA", target_group_name="Few")
    assert service.create_personal(small).name == "Few"  # under the limit: made at once


def test_an_edit_past_the_limit_and_a_delete_with_contacts_wait_too(google: Google, tmp_path: Path) -> None:
    rt = make_runtime(google, f"sqlite:///{tmp_path / 'cs.db'}", CONTACTSYNC_APPROVAL_ABOVE=1)
    service = JobService(rt)
    create_job(rt, google, "email:carol@example.com")
    with pytest.raises(ApprovalNeeded) as held:
        service.edit("Partners", JobEdit(targets=["group:sales@example.com"]), actor="UADA")
    assert service.target_texts(service.find("Partners").id or 0) == ["email:carol@example.com"]
    _, job = service.approve_request(held.value.request.id, actor="cli")
    assert service.target_texts(job.id or 0) == ["group:sales@example.com"]
    assert ("UADA", "request") in history(rt, job.id) and ("cli", "approve") in history(rt, job.id)

    service.run("Partners")
    with pytest.raises(ApprovalNeeded) as deleting:
        service.delete("Partners", actor="cli", contacts=ContactsChoice.remove)
    assert jobs(rt) == ["Partners"] and ours(google, "carol@example.com") != {}
    with pytest.raises(RequestRefused, match="the CLI asked for it"):
        service.approve_request(deleting.value.request.id, actor="cli")
    service.approve_request(deleting.value.request.id, actor="UBEN")
    assert jobs(rt) == [] and ours(google, "carol@example.com") == {}


def test_the_rule_is_off_by_default(google: Google, rt: Runtime) -> None:
    assert rt.settings.approval_above is None
    create_job(rt, google, "group:all-staff@example.com")
    JobService(rt).run("Partners")
    JobService(rt).delete("Partners", actor="cli", contacts=ContactsChoice.remove)
    assert jobs(rt) == []


def test_an_approved_edit_deletes_no_more_than_its_requester_confirmed(google: Google, tmp_path: Path) -> None:
    """Carol leaves, Erin and Dave stay through the engineering group: that is what the requester confirms. Erin
    leaves the group before the approval: approving would delete her contacts unseen, so it is refused (naming
    her), still pending, and nothing changes; once she is back, it is approved and the run deletes only Carol's."""
    rt = make_runtime(google, f"sqlite:///{tmp_path / 'cs.db'}", CONTACTSYNC_APPROVAL_ABOVE=1)
    service = JobService(rt)
    create_job(rt, google, "email:carol@example.com", "email:erin@example.com", "email:dave@example.com")
    service.run("Partners")
    before = {who: ours(google, who) for who in ("carol@example.com", "erin@example.com", "dave@example.com")}
    assert all(before.values())
    shown: list[list[str]] = []

    def confirm(preview: EditPreview) -> bool:
        shown.append(preview.lines())
        return True

    with pytest.raises(ApprovalNeeded) as held:
        service.edit("Partners", JobEdit(targets=["group:engineering@example.com"]), actor="UADA", confirm=confirm)
    request = held.value.request
    assert len(shown) == 1 and [line.split(" ")[0] for line in shown[0]] == ["carol@example.com"]

    engineering = next(g["id"] for g in google.ws.directory["groups"].values()
                       if g["email"] == "engineering@example.com")
    members = google.ws.directory["members"][engineering]
    google.ws.directory["members"][engineering] = [m for m in members if m["email"] != "erin@example.com"]
    with pytest.raises(RequestRefused, match=r"deletes more than was confirmed.*erin@example\.com leaves the sync") \
            as refused:
        service.approve_request(request.id, actor="UBEN")
    assert "carol@example.com" not in refused.value.message
    assert service.request(request.id).state is RequestState.pending  # type: ignore[union-attr]
    job = service.find("Partners")
    assert set(service.target_texts(job.id or 0)) == {"email:carol@example.com", "email:erin@example.com",
                                                      "email:dave@example.com"}
    service.run("Partners")
    assert {who: ours(google, who) for who in before} == before  # nothing deleted anywhere

    google.ws.directory["members"][engineering] = members  # no growth: what was confirmed is what it deletes
    decided, job = service.approve_request(request.id, actor="UBEN")
    assert decided.state is RequestState.approved
    assert service.target_texts(job.id or 0) == ["group:engineering@example.com"]
    service.run("Partners")
    assert ours(google, "carol@example.com") == {}
    assert ours(google, "erin@example.com") == before["erin@example.com"]
    assert ours(google, "dave@example.com") == before["dave@example.com"]
