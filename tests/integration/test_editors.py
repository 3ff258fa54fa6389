"""Editors of a shared label (issue 21) on the emulator: the real engine, the merge phase, the target syncs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, col, select

from sync_core import store
from sync_core.domain.contacts import canonical_body
from sync_core.domain.models import MergeBaseVersion, SelectorCreate, SelectorKind
from sync_core.runtime import Runtime
from sync_core.service import JobEdit, JobInputError, JobService
from tests.conftest import Google
from tests.integration.helpers import as_user, contacts, create_job, make_runtime, ours, source_keys

JSON = dict[str, Any]
EDITORS = ("bob@example.com", "carol@example.com")
READERS = ("zoe@example.com", "dave@example.com")


def named(google: Google, key: str) -> JSON:
    return contacts(google, google.seed.source_email)[key]


def edit(rt: Runtime, email: str, person: JSON, **fields: Any) -> None:
    """What the user does in Google Contacts: change some fields of one contact."""
    as_user(rt, email).people().updateContact(
        resourceName=person["resourceName"], updatePersonFields=",".join(fields),
        body={"etag": person["etag"], **fields},
    ).execute()


def phones(person: JSON) -> list[str]:
    return [p["value"] for p in person.get("phoneNumbers", [])]


def job_with_editors(rt: Runtime, google: Google, *targets: str, **kw: Any) -> str:
    readers = targets or tuple(f"email:{r}" for r in READERS)
    name = create_job(rt, google, *readers, editors=[f"email:{e}" for e in EDITORS], **kw)
    first = rt.engine.run(name)
    assert {t.email for t in first.targets} == {*EDITORS, *READERS}, "an editor always receives the label"
    rt.engine.run(name)  # every editor reached: their copies are read from now on
    return name


def a_key(google: Google) -> str:
    return sorted(source_keys(google))[0]


def assert_converged(google: Google) -> None:
    """Every target's label equals the source, field by field, without duplicates (`ours` checks those)."""
    source = {k: canonical_body(named(google, k)) for k in source_keys(google)}
    for email in (*EDITORS, *READERS):
        copies = ours(google, email)
        assert set(copies) == set(source), email
        for key, person in copies.items():
            assert canonical_body(person) == source[key], (email, key)


def test_two_editors_two_readers_and_the_source_edit_one_label_at_once(google: Google, rt: Runtime) -> None:
    name = job_with_editors(rt, google)
    keys = sorted(source_keys(google))
    one, two, three = keys[0], keys[1], keys[2]
    # bob and carol change different fields of one contact: both land.
    edit(rt, "bob@example.com", ours(google, "bob@example.com")[one], phoneNumbers=[{"value": "+1 555 0101"}])
    edit(rt, "carol@example.com", ours(google, "carol@example.com")[one], biographies=[{"value": "met at expo"}])
    # bob and carol change one field differently: the later edit wins, a conflict.
    edit(rt, "bob@example.com", ours(google, "bob@example.com")[two], phoneNumbers=[{"value": "+1 555 0202"}])
    edit(rt, "carol@example.com", ours(google, "carol@example.com")[two], phoneNumbers=[{"value": "+1 555 0303"}])
    # the source and bob change one field: the source wins, a conflict.
    edit(rt, google.seed.source_email, named(google, three), phoneNumbers=[{"value": "+1 555 0404"}])
    edit(rt, "bob@example.com", ours(google, "bob@example.com")[three], phoneNumbers=[{"value": "+1 555 0505"}])
    # a reader's edit is put back.
    edit(rt, "zoe@example.com", ours(google, "zoe@example.com")[one], phoneNumbers=[{"value": "+1 555 0999"}])

    report = rt.engine.run(name)

    assert phones(named(google, one)) == ["+1 555 0101"]
    assert named(google, one)["biographies"][0]["value"] == "met at expo"
    assert phones(named(google, two)) == ["+1 555 0303"]  # carol's edit came later
    assert phones(named(google, three)) == ["+1 555 0404"]  # the source wins
    assert_converged(google)
    assert len(report.conflicts) == 2 and all("conflict" in line for line in report.conflicts)
    lost = " ".join(report.conflicts)
    assert "bob@example.com" in lost and "+1 555 0202" in lost and "+1 555 0505" in lost
    assert any("carol@example.com set biographies" in line for line in report.editor_changes)
    with store.session_scope(rt.db) as session:
        assert store.open_conflict_count(session, job_id=1) == 2

    # Nothing changed since: the next run writes nothing, and reports nothing.
    google.handle.control.reset_calls()
    again = rt.engine.run(name)
    assert again.conflicts == [] and again.editor_changes == []
    writes = {m: n for m, n in google.handle.control.calls()["byMethod"].items()
              if any(w in m for w in ("batchUpdate", "batchCreate", "batchDelete", "updateContact", "create"))}
    assert writes == {}, writes
    # Our own writes of the last run (at the source, at every copy) are never read back as someone's edit.
    assert "people.people.getBatchGet" not in google.handle.control.calls()["byMethod"]


def test_copies_are_updated_in_place_never_recreated(google: Google, rt: Runtime) -> None:
    name = job_with_editors(rt, google)
    key = a_key(google)
    before = {e: ours(google, e)[key]["resourceName"] for e in (*EDITORS, *READERS)}
    edit(rt, "bob@example.com", ours(google, "bob@example.com")[key], phoneNumbers=[{"value": "+44 20 7946 0000"}])
    rt.engine.run(name)
    assert {e: ours(google, e)[key]["resourceName"] for e in (*EDITORS, *READERS)} == before
    assert all(phones(ours(google, e)[key]) == ["+44 20 7946 0000"] for e in (*EDITORS, *READERS))


def test_an_editors_add_becomes_a_source_contact_once_and_their_contact_is_their_copy(
    google: Google, rt: Runtime
) -> None:
    name = job_with_editors(rt, google)
    label = next(iter(ours(google, "bob@example.com").values()))["memberships"]
    group = [m for m in label if "myContacts" not in m["contactGroupMembership"]["contactGroupResourceName"]]
    made = as_user(rt, "bob@example.com").people().createContact(
        body={"names": [{"givenName": "Newly", "familyName": "Added"}], "memberships": group}
    ).execute()
    before = len(source_keys(google))
    rt.engine.run(name)
    rt.engine.run(name)
    assert len(source_keys(google)) == before + 1
    bob = ours(google, "bob@example.com")
    adopted = [p for p in bob.values() if p["resourceName"] == made["resourceName"]]
    assert len(adopted) == 1, "bob's own contact is his copy: no duplicate at bob"
    assert_converged(google)


def test_an_editors_deletion_is_put_back_unless_editors_may_delete(google: Google, rt: Runtime) -> None:
    name = job_with_editors(rt, google)
    key = a_key(google)
    as_user(rt, "carol@example.com").people().deleteContact(
        resourceName=ours(google, "carol@example.com")[key]["resourceName"]).execute()
    rt.engine.run(name)
    assert key in source_keys(google) and key in ours(google, "carol@example.com")

    JobService(rt).edit(name, JobEdit(editors_can_delete=True), actor="cli")
    as_user(rt, "carol@example.com").people().deleteContact(
        resourceName=ours(google, "carol@example.com")[key]["resourceName"]).execute()
    rt.engine.run(name)
    assert key not in source_keys(google)
    assert all(key not in ours(google, e) for e in (*EDITORS, *READERS))


def test_an_editor_removed_from_the_list_is_read_only_from_the_next_run(google: Google, rt: Runtime) -> None:
    name = job_with_editors(rt, google, *(f"email:{r}" for r in READERS), "email:carol@example.com")
    JobService(rt).edit(name, JobEdit(editors=["email:bob@example.com"]), actor="cli")
    key = a_key(google)
    old = phones(named(google, key))
    edit(rt, "carol@example.com", ours(google, "carol@example.com")[key], phoneNumbers=[{"value": "+1 555 7777"}])
    rt.engine.run(name)
    assert phones(named(google, key)) == old
    assert phones(ours(google, "carol@example.com")[key]) == old  # put back, as any reader's


def test_a_directory_sync_refuses_editors(google: Google, rt: Runtime) -> None:
    from sync_core.service import DirectoryJobSpec

    with pytest.raises(JobInputError, match="Admin console") as refused:
        JobService(rt).create_directory(DirectoryJobSpec(
            name="Dir", domains=["example.com"], targets=["email:bob@example.com"],
            editors=["email:carol@example.com"]))
    assert refused.value.field == "editors"


def test_a_malformed_editor_is_refused_naming_editors(google: Google, rt: Runtime) -> None:
    with pytest.raises(JobInputError) as refused:
        create_job(rt, google, "email:zoe@example.com", editors=["nonsense"])
    assert refused.value.field == "editors"


def test_use_the_losing_value_puts_it_back_everywhere_resolves_and_audits(google: Google, rt: Runtime) -> None:
    name = job_with_editors(rt, google)
    key = a_key(google)
    edit(rt, "bob@example.com", ours(google, "bob@example.com")[key], phoneNumbers=[{"value": "+1 555 1111"}])
    edit(rt, "carol@example.com", ours(google, "carol@example.com")[key], phoneNumbers=[{"value": "+1 555 2222"}])
    rt.engine.run(name)
    service = JobService(rt)
    [conflict] = service.conflicts(name)
    assert phones(named(google, key)) == ["+1 555 2222"] and "+1 555 1111" in conflict.losers[0]

    done = service.use_losing_value(name, conflict.id, actor="U_ADMIN")

    assert done.state == "resolved" and service.conflicts(name) == []
    assert phones(named(google, key)) == ["+1 555 1111"], "written at the source at once"
    report = rt.engine.run(name)
    assert report.conflicts == []
    assert all(phones(ours(google, e)[key]) == ["+1 555 1111"] for e in (*EDITORS, *READERS))
    assert any(e.action == "use losing value" and e.actor == "U_ADMIN" for e in service.history(name))
    with pytest.raises(JobInputError, match="resolved already"):
        service.use_losing_value(name, conflict.id, actor="U_ADMIN")


def test_a_members_role_is_editor_for_the_editors_and_reader_for_the_rest(google: Google, rt: Runtime) -> None:
    name = create_job(rt, google, "email:zoe@example.com", editors=["email:bob@example.com"])
    service = JobService(rt)
    roles = {email: {s.name: s.role for s in service.my_syncs(service.member(email, actor="U1"))}
             for email in ("bob@example.com", "zoe@example.com")}
    assert roles == {"bob@example.com": {name: "editor"}, "zoe@example.com": {name: "reader"}}


def test_the_deletion_guard_holds_an_editors_mass_deletion_until_an_admin_applies_it(
    google: Google, tmp_path: Path
) -> None:
    rt = make_runtime(google, f"sqlite:///{tmp_path / 'guarded.db'}", CONTACTSYNC_DELETION_GUARD_SHARE="0.02",
                      CONTACTSYNC_DELETION_GUARD_MIN="2")
    name = job_with_editors(rt, google, editors_can_delete=True)
    doomed = sorted(source_keys(google))[:3]
    carol = ours(google, "carol@example.com")
    for key in doomed:
        as_user(rt, "carol@example.com").people().deleteContact(resourceName=carol[key]["resourceName"]).execute()

    held = rt.engine.run(name)

    assert set(doomed) <= source_keys(google), "held: nothing deleted"
    assert "3 deletions at 1 account (carol@example.com) wait for an admin" in held.held_summary()
    assert all(key not in ours(google, "carol@example.com") for key in doomed), "not put back while held"
    assert all(key in ours(google, "bob@example.com") for key in doomed)
    rt.engine.run(name)
    assert set(doomed) <= source_keys(google), "still held at the next run"

    rt.engine.run(name, allow_deletions=True)
    assert not set(doomed) & source_keys(google)
    assert all(not set(doomed) & set(ours(google, e)) for e in (*EDITORS, *READERS))


def test_a_dry_run_says_what_the_merge_would_do_and_writes_nothing(google: Google, rt: Runtime) -> None:
    name = job_with_editors(rt, google)
    key = a_key(google)
    old = phones(named(google, key))
    edit(rt, "bob@example.com", ours(google, "bob@example.com")[key], phoneNumbers=[{"value": "+1 555 3333"}])
    preview = rt.engine.run(name, dry_run=True)
    assert any("bob@example.com set phoneNumbers" in line for line in preview.editor_changes)
    assert phones(named(google, key)) == old and phones(ours(google, "zoe@example.com")[key]) == old
    rt.engine.run(name)
    assert phones(ours(google, "zoe@example.com")[key]) == ["+1 555 3333"], "the dry run used up nothing"


def test_while_one_editors_account_fails_another_editors_edit_of_what_the_source_changed_lands(
    google: Google, rt: Runtime
) -> None:
    """Carol's account fails run after run (her writes), so the job's base stays where it was. The source
    changes a phone, bob receives it, then changes it himself: his is a change made after the source's, not
    beside it, so it lands with no conflict (the base he is told against is the version he received, kept while
    the base is behind). Once carol's account works again, the base moves on and the versions kept go."""
    name = job_with_editors(rt, google)
    key = a_key(google)
    # Her reads work (the merge reads her copy), her writes do not: her target fails, every run.
    google.handle.control.inject_fault("people.people.batchUpdateContacts", count=1000, code=403,
                                       user="carol@example.com")
    edit(rt, google.seed.source_email, named(google, key), phoneNumbers=[{"value": "+1 555 0111"}])
    first = rt.engine.run(name)
    assert {t.email: t.status.value for t in first.targets}["carol@example.com"] != "ok"
    assert phones(ours(google, "bob@example.com")[key]) == ["+1 555 0111"]

    edit(rt, "bob@example.com", ours(google, "bob@example.com")[key], phoneNumbers=[{"value": "+1 555 0222"}])
    second = rt.engine.run(name)
    assert phones(named(google, key)) == ["+1 555 0222"]
    assert second.conflicts == [], second.conflicts
    assert phones(ours(google, "zoe@example.com")[key]) == ["+1 555 0222"]
    with store.session_scope(rt.db) as session:
        job = store.get_job_by_name(session, name=name)
        assert job is not None and job.id is not None
        kept = store.read_versions(session, job_id=job.id, wanted=[(key, h) for h in _version_hashes(session, job.id)])
        assert {tuple(phones(fields)) for fields in kept.values()} == {("+1 555 0111",), ("+1 555 0222",)}

    google.handle.control.clear_faults()
    rt.engine.run(name)
    assert_converged(google)
    with store.session_scope(rt.db) as session:
        assert _version_hashes(session, job.id) == []  # the base moved on: nothing kept


def _version_hashes(session: Session, job_id: int) -> list[str]:
    """The versions kept while the job's base is behind (their hashes)."""
    return list(session.exec(select(MergeBaseVersion.content_hash).where(col(MergeBaseVersion.job_id) == job_id)))


def test_an_editor_whose_last_sync_failed_keeps_the_edits_they_make_after(google: Google, rt: Runtime) -> None:
    """A failed target keeps no sync token (its next sync reads it in full). For an editor that read must not be
    their target sync's alone: it would write the source's version over what they changed since. Their copy is
    read in full by the merge, with the same etag test (found by the editors' state machine)."""
    name = job_with_editors(rt, google)
    key = a_key(google)
    edit(rt, google.seed.source_email, named(google, key), biographies=[{"value": "from the source"}])
    google.handle.control.inject_fault("people.people.batchUpdateContacts", count=1000, code=403,
                                       user="bob@example.com")
    failed = rt.engine.run(name)
    google.handle.control.clear_faults()
    assert {t.email: t.status.value for t in failed.targets}["bob@example.com"] != "ok"
    with store.session_scope(rt.db) as session:
        states = store.target_states_for_job(session, job_id=failed.job_id)
        assert not next(s for s in states.values() if s.target_email == "bob@example.com").sync_token

    other = sorted(source_keys(google))[1]
    edit(rt, "bob@example.com", ours(google, "bob@example.com")[other], phoneNumbers=[{"value": "+1 555 0333"}])
    report = rt.engine.run(name)
    assert phones(named(google, other)) == ["+1 555 0333"], report.editor_changes
    assert named(google, key)["biographies"][0]["value"] == "from the source"
    assert_converged(google)


def test_a_readers_edit_never_put_back_is_not_taken_for_an_editors_when_they_are_made_one(
    google: Google, rt: Runtime
) -> None:
    """Carol, a reader, changed a phone; bob, an editor, changed it too, and his change reached the source; her
    account refused our writes, so her value was never put back, and the base moved on (she was no editor).
    Made an editor, her copy differs from what we last wrote to it, but she never received bob's value: hers is
    a change beside it, not after it, so it is a conflict (reported, the source's value stands), not a silent
    overwrite of his (found by the editors' state machine)."""
    name = job_with_editors(rt, google, "email:carol@example.com", *(f"email:{r}" for r in READERS))
    with store.session_scope(rt.db) as session:
        job = store.get_job_by_name(session, name=name)
        assert job is not None and job.id is not None
        store.set_editors(session, job_id=job.id, selectors=[SelectorCreate(kind=SelectorKind.email,
                                                                           value="bob@example.com")])
    key = a_key(google)
    edit(rt, "carol@example.com", ours(google, "carol@example.com")[key], phoneNumbers=[{"value": "+1 555 0999"}])
    edit(rt, "bob@example.com", ours(google, "bob@example.com")[key], phoneNumbers=[{"value": "+1 555 0222"}])
    for method in ("batchUpdateContacts", "batchCreateContacts", "batchDeleteContacts"):
        google.handle.control.inject_fault(f"people.people.{method}", count=1000, code=403, user="carol@example.com")
    rt.engine.run(name)
    google.handle.control.clear_faults()
    assert phones(named(google, key)) == ["+1 555 0222"]
    assert phones(ours(google, "carol@example.com")[key]) == ["+1 555 0999"], "her account refused the put-back"

    with store.session_scope(rt.db) as session:
        store.set_editors(session, job_id=job.id, selectors=[SelectorCreate(kind=SelectorKind.email, value=e)
                                                             for e in EDITORS])
    report = rt.engine.run(name)
    assert phones(named(google, key)) == ["+1 555 0222"], report.editor_changes
    assert any("+1 555 0999" in c and "+1 555 0222" in c for c in report.conflicts), report.conflicts
    assert_converged(google)


def test_an_editor_whose_copy_cannot_be_read_holds_up_no_one_and_loses_nothing(google: Google, rt: Runtime) -> None:
    """Bob's account refuses our reads (403): carol's edit still reaches the source and everyone else; nothing
    is written to bob's copy (his own edit, not merged yet, would be overwritten), his target says why, and his
    edit is merged once his copy can be read."""
    name = job_with_editors(rt, google)
    first, second = sorted(source_keys(google))[:2]
    edit(rt, "bob@example.com", ours(google, "bob@example.com")[first], phoneNumbers=[{"value": "+1 555 0444"}])
    edit(rt, "carol@example.com", ours(google, "carol@example.com")[second], phoneNumbers=[{"value": "+1 555 0555"}])
    google.handle.control.inject_fault("people.people.connections.list", count=1000, code=403, user="bob@example.com")
    report = rt.engine.run(name)
    google.handle.control.clear_faults()

    assert report.status.value == "partial", (report.status, report.error_reason)
    bob = next(t for t in report.targets if t.email == "bob@example.com")
    assert bob.status.value == "forbidden" and "nothing was written to their copy" in (bob.reason or ""), bob
    assert phones(named(google, second)) == ["+1 555 0555"]
    assert phones(ours(google, "zoe@example.com")[second]) == ["+1 555 0555"]
    assert phones(ours(google, "bob@example.com")[first]) == ["+1 555 0444"], "his edit is still his"

    again = rt.engine.run(name)
    assert again.status.value == "ok", (again.status, again.error_reason)
    assert phones(named(google, first)) == ["+1 555 0444"]
    assert_converged(google)
