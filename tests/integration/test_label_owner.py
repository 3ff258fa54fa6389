"""One label, one owner: two jobs never write a label of the same name (in any case) in one account. A job
that would is refused at create and edit, naming the other; one that meets another later, as its targets
change, reports `conflict` for that account and writes nothing there."""

from __future__ import annotations

from pathlib import Path

import pytest

from sync_core import store
from sync_core.alerting.alert_kinds import Fix, alert_kind
from sync_core.alerting.alerts import observe
from sync_core.domain.models import AlertKind, TargetStatus
from sync_core.runtime import Runtime
from sync_core.service import JobEdit, JobInputError, JobService
from tests.conftest import Google
from tests.integration.helpers import by_email, create_job, make_runtime, ours, user_id

WRITES = ("create", "update", "delete", "modify", "batchCreate", "batchUpdate", "batchDelete")


def writes_at(google: Google, email: str) -> dict[str, int]:
    by_user = google.handle.control.calls()["byMethodAndUser"]
    return {m: users[email] for m, users in by_user.items()
            if email in users and any(w in m.rsplit(".", 1)[-1] for w in WRITES)}


def labels_named(google: Google, email: str, name: str) -> list[dict]:
    groups = google.ws.people_of(user_id(google, email))["groups"].values()
    return [g for g in groups if str(g.get("name", "")).casefold() == name.casefold()]


def set_department(google: Google, email: str, department: str) -> None:
    """The directory changes behind the sync's back (an HR system moved someone)."""
    with google.ws.lock:
        google.ws.directory["users"][user_id(google, email)]["organizations"] = [
            {"department": department, "primary": True}]


def test_create_and_edit_are_refused_where_another_job_keeps_the_label(google: Google, rt: Runtime) -> None:
    create_job(rt, google, "email:bob@example.com")  # "Partners", at bob
    rt.engine.run("Partners")
    service = JobService(rt)
    with pytest.raises(JobInputError) as refused:  # compared case-insensitively, reached through a group
        create_job(rt, google, "email:zoe@example.com", "email:bob@example.com", name="Second",
                   target_group_name="PARTNERS")
    assert refused.value.field == "target_group_name"
    assert refused.value.message.startswith(
        "the sync 'Partners' already keeps a label named 'PARTNERS' in bob@example.com's contacts")
    assert service.find_or_none("Second") is None

    create_job(rt, google, "email:zoe@example.com", name="Second", target_group_name="Partners")  # zoe: free
    with pytest.raises(JobInputError, match="the sync 'Partners' already keeps") as edit_refused:
        service.edit("Second", JobEdit(targets=["email:zoe@example.com", "email:bob@example.com"]), actor="t")
    assert edit_refused.value.field == "target_group_name"
    create_job(rt, google, "email:bob@example.com", name="Third", target_group_name="Clients")
    with pytest.raises(JobInputError, match="the sync 'Partners' already keeps"):
        service.edit("Third", JobEdit(target_group_name="partners"), actor="t")
    service.edit("Second", JobEdit(target_group_name="Partners (zoe)",
                                   targets=["email:zoe@example.com", "email:bob@example.com"]), actor="t")


def test_a_job_that_meets_another_later_reports_conflict_there_and_writes_nothing(
    google: Google, rt: Runtime
) -> None:
    set_department(google, "zoe@example.com", "Alliances")
    create_job(rt, google, "email:bob@example.com")  # "Partners", at bob
    create_job(rt, google, "query:orgDepartment='Alliances'", name="Alliances", target_group_name="partners")
    rt.engine.run("Partners")
    assert rt.engine.run("Alliances").status.value == "ok"
    held_by_partners = ours(google, "bob@example.com")

    set_department(google, "bob@example.com", "Alliances")  # bob is now a target of both
    google.handle.control.reset_calls()
    report = rt.engine.run("Alliances")
    bob = by_email(report)["bob@example.com"]
    assert bob.status is TargetStatus.conflict and "'Partners'" in bob.reason
    assert by_email(report)["zoe@example.com"].status is TargetStatus.ok
    assert writes_at(google, "bob@example.com") == {}
    assert ours(google, "bob@example.com") == held_by_partners  # no contact of the second job there
    assert [g["name"] for g in labels_named(google, "bob@example.com", "partners")] == ["Partners"]

    # Alerted as its own kind, with its fix: rename this sync's label (or take the account out).
    observation = observe(report)
    assert observation is not None
    failure = observation.failures[f"user:{user_id(google, 'bob@example.com')}"]
    assert failure.kind is AlertKind.target_conflict
    assert alert_kind(failure.kind).fixes == (Fix.rename_label, Fix.remove)

    # The first job goes on syncing bob as before; the second, renamed, syncs there too.
    assert by_email(rt.engine.run("Partners"))["bob@example.com"].status is TargetStatus.ok
    JobService(rt).edit("Alliances", JobEdit(target_group_name="Alliance partners"), actor="t")
    assert by_email(rt.engine.run("Alliances"))["bob@example.com"].status is TargetStatus.ok
    assert len(labels_named(google, "bob@example.com", "Alliance partners")) == 1


def test_a_label_another_deployment_made_is_not_shared(google: Google, rt: Runtime, tmp_path: Path) -> None:
    """The store cannot know a job of another database; the label's own tag says whose it is."""
    create_job(rt, google, "email:bob@example.com")
    rt.engine.run("Partners")
    other = make_runtime(google, f"sqlite:///{tmp_path / 'other.db'}")
    create_job(other, google, "email:bob@example.com", name="Elsewhere", target_group_name="partners")
    google.handle.control.reset_calls()
    report = other.engine.run("Elsewhere")
    assert by_email(report)["bob@example.com"].status is TargetStatus.conflict
    assert writes_at(google, "bob@example.com") == {}
    with store.session_scope(other.db) as session:
        [state] = store.target_states_for_job(session, job_id=1).values()
    assert state.last_status is TargetStatus.conflict
