"""A real `contactsync run` process SIGKILLed after the merge wrote an editor's change at the source and before
the targets got it: the next run loses nothing (the change reaches every copy), bounces nothing (the editor's
copy keeps their value, no conflict is made of the run's own write), and the run after writes nothing."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from sync_core import store
from sync_core.domain.contacts import canonical_body
from sync_core.runtime import Runtime
from tests.conftest import Google
from tests.integration.helpers import as_user, contacts, create_job, make_runtime, ours, source_keys, user_id
from tests.integration.test_crash_recovery import _env, _kill, _start

EDITORS = ("bob@example.com", "carol@example.com")
READERS = ("zoe@example.com", "dave@example.com")
PHONE = "+1 555 4242"


def source_phone(google: Google, key: str) -> list[str]:
    with google.ws.lock:
        person = google.ws.people_of(user_id(google, google.seed.source_email))["contacts"].get(key, {})
        return [p.get("value") for p in person.get("phoneNumbers", [])]


def bob_edits_a_phone(rt: Runtime, google: Google) -> tuple[str, str]:
    """A job with editors, synced twice; then the editor bob sets a phone on his copy of one contact. The job's
    name and the contact's source key."""
    name = create_job(rt, google, *(f"email:{r}" for r in READERS), editors=[f"email:{e}" for e in EDITORS])
    rt.engine.run(name)
    rt.engine.run(name)
    key = sorted(source_keys(google))[0]
    copy = ours(google, "bob@example.com")[key]
    as_user(rt, "bob@example.com").people().updateContact(
        resourceName=copy["resourceName"], updatePersonFields="phoneNumbers",
        body={"etag": copy["etag"], "phoneNumbers": [{"value": PHONE}]}).execute()
    return name, key


def test_a_run_killed_between_the_source_write_and_the_targets_loses_and_bounces_nothing(
    google: Google, tmp_path: Path
) -> None:
    db_file = tmp_path / "cs.db"
    rt = make_runtime(google, f"sqlite:///{db_file}")
    name, key = bob_edits_a_phone(rt, google)

    google.handle.control.set_latency(150)  # every call slow: the targets' writes come long after the source's
    log = tmp_path / "run.log"
    proc = _start(_env(google, f"sqlite:///{db_file}"), log, "run", name)
    deadline = time.monotonic() + 60
    while source_phone(google, key) != [PHONE]:
        assert proc.poll() is None, log.read_text()[-2000:]
        assert time.monotonic() < deadline, "the run never wrote the editor's change at the source"
        time.sleep(0.005)
    _kill(proc)
    google.handle.control.set_latency(0)
    assert [p["value"] for p in ours(google, "carol@example.com")[key].get("phoneNumbers", [])] != [PHONE], \
        "killed before the targets got it"

    report = rt.engine.run(name)

    assert report.conflicts == [], "the run's own source write is no one's conflicting edit"
    assert source_phone(google, key) == [PHONE]
    source = canonical_body(contacts(google, google.seed.source_email)[key])
    for email in (*EDITORS, *READERS):
        assert canonical_body(ours(google, email)[key]) == source, email
    with store.session_scope(rt.db) as session:
        assert store.open_conflict_count(session, job_id=1) == 0
        changes = [e for e in store.audit_events(session, job_id=1) if e.action == "editor change"]
    assert [(e.actor, e.detail["field"]) for e in changes] == [("bob@example.com", "phoneNumbers")], \
        "bob's change is in the history once, not again for the run that finished the killed one's work"
    google.handle.control.reset_calls()
    rt.engine.run(name)
    calls = google.handle.control.calls()["byMethod"]
    assert not [m for m in calls if "batchUpdate" in m or "batchCreate" in m or "batchDelete" in m], calls


def test_a_run_stopped_between_recording_a_merge_and_writing_it_is_not_recorded_twice(
    google: Google, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The merge is recorded in the history before the source is written; a run that stops in between (here
    Google fails the source's write; a kill is the same) leaves the next run to merge the same change again,
    and the history says it once."""
    from sync_core.google.errors import Unreachable
    from sync_core.run import merge_phase

    rt = make_runtime(google, f"sqlite:///{tmp_path / 'cs.db'}")
    name, key = bob_edits_a_phone(rt, google)

    def unreachable(*_args: object, **_kwargs: object) -> None:
        raise Unreachable("Google could not be reached")

    with monkeypatch.context() as patched:
        patched.setattr(merge_phase, "_write_source", unreachable)
        stopped = rt.engine.run(name)
    assert stopped.status.value == "failed" and source_phone(google, key) != [PHONE]
    report = rt.engine.run(name)
    assert report.status.value == "ok" and source_phone(google, key) == [PHONE]
    rt.engine.run(name)  # and the run after it: nothing new to say
    with store.session_scope(rt.db) as session:
        changes = [e for e in store.audit_events(session, job_id=1) if e.action == "editor change"]
    assert [(e.actor, e.detail["field"]) for e in changes] == [("bob@example.com", "phoneNumbers")], \
        "bob's change, once"
    assert PHONE in changes[0].detail["to"]
