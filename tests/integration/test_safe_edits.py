"""The service's side of safe edits (emulator + store): an edit's preview is counted from the job's links, an
edit that deletes is saved only once confirmed, targets that reach no one are refused, and a run that reaches
no one ends `no_targets`."""

from __future__ import annotations

import pytest

from sync_core import store
from sync_core.domain.models import RunStatus, TargetStatus
from sync_core.runtime import Runtime
from sync_core.service import EditPreview, JobEdit, JobService, NoTargets, RemovalNotConfirmed
from tests.conftest import Google
from tests.integration.helpers import by_email, create_job, ours, user_id

NOBODY = "query:orgDepartment='Nonexistent'"


def synced(rt: Runtime, google: Google, *targets: str) -> JobService:
    create_job(rt, google, *targets)
    assert rt.engine.run("Partners").status is RunStatus.ok
    return JobService(rt)


def selector_texts(rt: Runtime) -> list[str]:
    service = JobService(rt)
    job = service.find("Partners")
    assert job.id is not None
    return service.target_texts(job.id)


def test_the_preview_counts_each_leaving_accounts_links_and_saves_nothing(google: Google, rt: Runtime) -> None:
    service = synced(rt, google, "email:bob@example.com", "email:carol@example.com", "email:zoe@example.com")
    n = google.seed.contact_count
    preview = service.preview_edit("Partners", JobEdit(targets=["email:bob@example.com"]))
    assert [(a.email, a.contacts) for a in preview.leaving] == [("carol@example.com", n), ("zoe@example.com", n)]
    assert preview.replaced == () and preview.source_change is None
    assert preview.contacts_removed == 2 * n and preview.removes_anything
    assert len(selector_texts(rt)) == 3, "a preview saves nothing"

    # The links, not the source, are what is counted: an account holding fewer copies says fewer.
    with store.session_scope(rt.db) as session:
        store.delete_links(session, job_id=1, target_user_id=user_id(google, "zoe@example.com"))
    preview = service.preview_edit("Partners", JobEdit(targets=["email:bob@example.com"]))
    assert [(a.email, a.contacts) for a in preview.leaving] == [("carol@example.com", n), ("zoe@example.com", 0)]


def test_a_suspended_leaver_loses_nothing_so_it_is_not_counted(google: Google, rt: Runtime) -> None:
    service = synced(rt, google, "email:bob@example.com", "email:carol@example.com")
    google.handle.control.suspend_user("carol@example.com")
    preview = service.preview_edit("Partners", JobEdit(targets=["email:bob@example.com"]))
    assert preview.leaving == () and not preview.removes_anything


def test_an_edit_that_deletes_is_saved_only_once_confirmed(google: Google, rt: Runtime) -> None:
    service = synced(rt, google, "email:bob@example.com", "email:carol@example.com")
    edit = JobEdit(targets=["email:bob@example.com"])
    with pytest.raises(RemovalNotConfirmed) as refused:
        service.edit("Partners", edit, actor="t")  # no one to ask: refused
    assert [a.email for a in refused.value.preview.leaving] == ["carol@example.com"]
    shown: list[EditPreview] = []
    with pytest.raises(RemovalNotConfirmed):
        service.edit("Partners", edit, actor="t", confirm=lambda p: shown.append(p) or False)
    assert shown and shown[0].contacts_removed == google.seed.contact_count
    assert selector_texts(rt) == ["email:bob@example.com", "email:carol@example.com"]

    service.edit("Partners", edit, actor="t", confirm=lambda p: True)
    assert selector_texts(rt) == ["email:bob@example.com"]
    report = rt.engine.run("Partners")
    assert by_email(report)["carol@example.com"].status is TargetStatus.removed
    assert ours(google, "carol@example.com") == {}


def test_an_edit_that_deletes_nothing_asks_nothing(google: Google, rt: Runtime) -> None:
    service = synced(rt, google, "email:bob@example.com")
    asked: list[EditPreview] = []
    service.edit("Partners", JobEdit(targets=["email:bob@example.com", "email:carol@example.com"],
                                     schedule="every 6h"), actor="t", confirm=lambda p: asked.append(p) or False)
    assert asked == [] and selector_texts(rt) == ["email:bob@example.com", "email:carol@example.com"]


def test_a_new_source_user_replaces_every_copy(google: Google, rt: Runtime) -> None:
    service = synced(rt, google, "email:zoe@example.com", "email:carol@example.com")
    google.handle.control.add_group("bob@example.com", "Partners")
    preview = service.preview_edit("Partners", JobEdit(source_email="bob@example.com"))
    assert preview.leaving == ()
    n = google.seed.contact_count
    assert [(a.email, a.contacts) for a in preview.replaced] == [("carol@example.com", n), ("zoe@example.com", n)]
    assert preview.source_change == f"{google.seed.source_email}'s “Partners” to bob@example.com's “Partners”"


def test_the_new_source_leaves_the_targets_it_was_in(google: Google, rt: Runtime) -> None:
    """The source user is never a target of their own contacts: making bob the source takes him out."""
    service = synced(rt, google, "email:bob@example.com", "email:carol@example.com")
    google.handle.control.add_group("bob@example.com", "Golf")  # his "Partners" is the sync's label
    preview = service.preview_edit("Partners", JobEdit(source_email="bob@example.com", group_name="Golf"))
    assert [a.email for a in preview.leaving] == ["bob@example.com"]
    assert [a.email for a in preview.replaced] == ["carol@example.com"]


def test_targets_that_reach_no_one_are_refused_at_create_and_edit(google: Google, rt: Runtime) -> None:
    with pytest.raises(NoTargets) as refused:
        create_job(rt, google, NOBODY, "email:frank@example.com")  # frank is suspended
    assert refused.value.field == "targets" and refused.value.selectors == [NOBODY, "email:frank@example.com"]
    assert refused.value.target_kind is None  # two kinds: under the targets, not one picker
    with pytest.raises(NoTargets) as alone:
        create_job(rt, google, f"email:{google.seed.source_email}")  # the source is no target of their own
    assert alone.value.target_kind == "email"
    assert JobService(rt).find_or_none("Partners") is None

    create_job(rt, google, "email:bob@example.com")
    with pytest.raises(NoTargets):
        JobService(rt).edit("Partners", JobEdit(targets=[NOBODY]), actor="t")
    assert selector_texts(rt) == ["email:bob@example.com"]
    JobService(rt).edit("Partners", JobEdit(targets=[NOBODY]), actor="t", allow_empty=True)
    assert selector_texts(rt) == [NOBODY]


def test_a_run_that_reaches_no_one_ends_no_targets_and_one_that_does_ok(google: Google, rt: Runtime) -> None:
    create_job(rt, google, NOBODY, allow_empty=True)
    report = rt.engine.run("Partners")
    assert report.status is RunStatus.no_targets and report.reached == 0
    assert report.error_kind is TargetStatus.no_targets and NOBODY in report.error_reason
    with store.session_scope(rt.db) as session:
        assert [r.status for r in store.last_runs(session, job_id=1)] == [RunStatus.no_targets]
    JobService(rt).edit("Partners", JobEdit(targets=["email:bob@example.com"]), actor="t")
    assert rt.engine.run("Partners").status is RunStatus.ok
