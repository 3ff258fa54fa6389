"""`JobService`, the one door the CLI and the bot use: delete (one behaviour for both), unknown jobs, and
read views as frozen data."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from sync_core import store
from sync_core.runtime import Runtime
from sync_core.service import JobService, UnknownJob
from tests.conftest import Google

from .test_contact_sync import create_job, make_runtime, ours


@pytest.fixture
def rt(google: Google, tmp_path: Path) -> Runtime:
    return make_runtime(google, f"sqlite:///{tmp_path / 'service.db'}")


def test_delete_keeps_the_job_until_its_contacts_are_removed_everywhere(google: Google, rt: Runtime) -> None:
    create_job(rt, google, "email:bob@example.com", "email:zoe@example.com")
    service = JobService(rt)
    service.run("Partners")
    assert ours(google, "bob@example.com") and ours(google, "zoe@example.com")
    google.handle.control.inject_fault("people.people.batchDeleteContacts", count=50, code=403, user="zoe@example.com")

    first = service.delete("Partners", actor="test", remove_contacts=True)
    assert not first.deleted and first.removal is not None
    assert [t.email for t in first.removal.failed_targets] == ["zoe@example.com"]
    assert service.find("Partners").name == "Partners", "kept: a deleted job's leftovers could never be cleaned"
    assert not ours(google, "bob@example.com") and ours(google, "zoe@example.com")

    google.handle.control.clear_faults()
    closed: list[int] = []
    second = service.delete("Partners", actor="test", remove_contacts=True, closing=closed.append)
    assert second.deleted and closed == [second.job.id]
    assert not ours(google, "zoe@example.com")
    assert service.find_or_none("Partners") is None
    with store.session_scope(rt.db) as session:
        last = store.audit_events(session, limit=1)[0]
    assert (last.action, last.detail) == ("delete", {"remove_contacts": True})


def test_an_unknown_job_is_a_field_error_naming_it(rt: Runtime) -> None:
    service = JobService(rt)
    for call in (service.detail, service.find, lambda n: service.pause(n, actor="test"),
                 lambda n: service.delete(n, actor="test", remove_contacts=False)):
        with pytest.raises(UnknownJob) as caught:
            call("Nope")
        assert (caught.value.field, caught.value.message, caught.value.name) == ("name", "no sync named 'Nope'", "Nope")


def test_views_are_frozen_data(google: Google, rt: Runtime) -> None:
    create_job(rt, google, "email:bob@example.com")
    service = JobService(rt)
    service.run("Partners")
    (row,) = service.list_jobs()
    assert row.job.name == "Partners" and row.last_run is not None and row.next_run_at is None
    detail = service.detail("Partners")
    assert [s.value for s in detail.selectors] == ["bob@example.com"] and len(detail.runs) == 1
    assert [e.action for e in detail.history] == ["create"] and detail.source == google.seed.source_email
    with pytest.raises(dataclasses.FrozenInstanceError):
        detail.runs = ()  # type: ignore[misc]
