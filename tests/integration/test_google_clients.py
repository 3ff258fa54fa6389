"""Every caller gets its Google clients from the runtime's one factory: the service's checks, the engine and the
source watch each act as the right user, paced by the one pacer of the process, and checking a new sync builds
no engine."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from sync_core import store
from sync_core.runtime import Runtime
from sync_core.service import JobService, PersonalJobSpec
from sync_core.settings import GOOGLE_SCOPES_PEOPLE
from tests.conftest import Google

TARGETS = ["bob@example.com", "zoe@example.com"]


@dataclass
class Acting:
    """Whom the service account acted as (People transports, built Directory clients), and whom the process's
    pacer paced, in order."""

    people: list[str] = field(default_factory=list)
    directory: list[str] = field(default_factory=list)
    paced: list[str] = field(default_factory=list)

    def clear(self) -> None:
        self.people.clear()
        self.directory.clear()
        self.paced.clear()


@pytest.fixture
def acting(rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> Acting:
    seen = Acting()
    auth, pacer = rt.google, rt.clients.pacer
    http, build, for_user = auth.http, auth.build, pacer.for_user

    def as_user(subject: str, scopes: Sequence[str]) -> Any:
        if tuple(scopes) == GOOGLE_SCOPES_PEOPLE:  # a Directory client's transport is counted as built, below
            seen.people.append(subject)
        return http(subject, scopes)

    def built(api: str, version: str, *, subject: str, scopes: Sequence[str]) -> Any:
        seen.directory.append(subject)
        return build(api, version, subject=subject, scopes=scopes)

    def paced(user: str, **kw: Any) -> Any:
        seen.paced.append(user)
        return for_user(user, **kw)

    monkeypatch.setattr(auth, "http", as_user)
    monkeypatch.setattr(auth, "build", built)
    monkeypatch.setattr(pacer, "for_user", paced)
    return seen


def create(rt: Runtime, google: Google) -> int:
    spec = PersonalJobSpec(name="Partners", source_email=google.seed.source_email,
                           group_name=google.seed.source_group_name, targets=[f"email:{t}" for t in TARGETS])
    job = JobService(rt).create_personal(spec)
    assert job.id is not None
    return job.id


def test_checking_a_new_sync_acts_as_the_admin_and_the_source_and_builds_no_engine(
    google: Google, rt: Runtime, acting: Acting
) -> None:
    create(rt, google)
    assert "engine" not in vars(rt)  # the checks got their clients from the factory, not from an engine
    assert set(acting.directory) == {google.seed.admin_email}
    assert acting.people == [google.seed.source_email]  # its contact groups, to find the source group
    assert acting.paced == [google.seed.source_email]


def test_a_run_acts_as_the_source_and_each_target_through_the_shared_pacer(
    google: Google, rt: Runtime, acting: Acting
) -> None:
    create(rt, google)
    acting.clear()
    assert rt.engine.clients is rt.clients and rt.engine.pacer is rt.clients.pacer
    assert rt.engine.run("Partners").status.value == "ok"
    assert set(acting.directory) == {google.seed.admin_email}
    assert sorted(set(acting.people)) == sorted([google.seed.source_email, *TARGETS])
    assert sorted(set(acting.paced)) == sorted(set(acting.people))


def test_the_watch_acts_as_the_source_through_the_shared_pacer(
    google: Google, rt: Runtime, acting: Acting
) -> None:
    job_id = create(rt, google)
    rt.engine.run("Partners")
    watcher = rt.watcher()
    assert watcher.clients is rt.clients
    acting.clear()
    watcher.check(job_id)
    assert acting.people == [google.seed.source_email] and acting.paced == [google.seed.source_email]
    assert acting.directory == []
    with store.session_scope(rt.db) as session:  # the watch's lease is this process's, as the watch's
        assert store.lease_for_job(session, job_id=job_id) is None
    assert watcher.holder == f"{rt.engine.holder}:watch"
