"""The Contact Sync engine end to end: real Google client libraries against the emulator, real store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sync_core import store
from sync_core.domain.models import RunStatus, SelectorCreate, TargetStatus
from sync_core.domain.reports import TargetReport
from sync_core.run.run_records import RunRecords
from sync_core.runtime import Runtime
from sync_core.service import JobInputError, PersonalJobSpec
from sync_core.service.create import create_personal_job
from tests.conftest import Google
from tests.integration.helpers import (
    JSON,
    SALES_TARGETS,
    as_user,
    by_email,
    contacts,
    create_job,
    group_named,
    groups_of,
    make_runtime,
    ours,
    source_keys,
    user_id,
)


# --- first sync ---------------------------------------------------------------------------------------
def test_first_sync_copies_the_group_to_every_target(google: Google, rt: Runtime) -> None:
    create_job(rt, google, "group:sales@example.com")
    report = rt.engine.run("Partners")

    results = by_email(report)
    assert report.status is RunStatus.ok
    frank = results["frank@example.com"]  # a suspended member of the group: left out, not a failure
    assert frank.status is TargetStatus.suspended and frank.excluded and not frank.failed
    assert google.seed.source_email not in results, "the source is never its own target"
    expected = source_keys(google)
    assert len(expected) == google.seed.contact_count
    for email in SALES_TARGETS:
        assert results[email].status is TargetStatus.ok
        assert results[email].created == len(expected)
        held = ours(google, email)
        assert set(held) == expected
        group = group_named(google, email, google.seed.source_group_name)
        assert group is not None
        assert all(groups_of(p) == {group["resourceName"]} for p in held.values())
    # the copy says what the source says
    src = contacts(google, google.seed.source_email)
    some_key = sorted(expected)[3]
    copy = ours(google, "bob@example.com")[some_key]
    for field in ("names", "emailAddresses", "phoneNumbers", "organizations", "addresses"):
        strip = lambda entries: [{k: v for k, v in e.items() if k != "metadata"} for e in entries]  # noqa: E731
        assert strip(copy.get(field, [])) == strip(src[some_key].get(field, [])), field


def test_add_to_my_contacts_and_target_group_name(google: Google, rt: Runtime) -> None:
    create_job(rt, google, "email:bob@example.com", add_to_my_contacts=True, target_group_name="Our Partners")
    rt.engine.run("Partners")
    group = group_named(google, "bob@example.com", "Our Partners")
    assert group is not None
    for person in ours(google, "bob@example.com").values():
        assert groups_of(person) == {group["resourceName"], "contactGroups/myContacts"}


# --- source changes ---------------------------------------------------------------------------------
def test_source_edit_add_delete_reach_every_target(google: Google, rt: Runtime) -> None:
    create_job(rt, google, "email:bob@example.com", "email:zoe@example.com")
    rt.engine.run("Partners")
    alice = as_user(rt, google.seed.source_email).people()
    keys = sorted(source_keys(google))
    edited, removed = keys[0], keys[1]
    person = alice.get(resourceName=edited, personFields="names").execute()
    alice.updateContact(
        resourceName=edited,
        updatePersonFields="names",
        body={"etag": person["etag"], "names": [{"givenName": "Renamed", "familyName": "Person"}]},
    ).execute()
    alice.deleteContact(resourceName=removed).execute()
    new = alice.createContact(
        body={
            "names": [{"givenName": "New", "familyName": "Partner"}],
            "memberships": [
                {"contactGroupMembership": {"contactGroupResourceName": google.seed.source_group_resource_name}}
            ],
        }
    ).execute()

    report = rt.engine.run("Partners")
    for email in ("bob@example.com", "zoe@example.com"):
        t = by_email(report)[email]
        assert (t.created, t.updated, t.deleted) == (1, 1, 1)
        held = ours(google, email)
        assert removed not in held and new["resourceName"] in held
        assert held[edited]["names"][0]["givenName"] == "Renamed"
        assert set(held) == source_keys(google)


# --- targets are read-only consumers ---------------------------------------------------------------------
def test_target_edits_and_deletions_are_put_back_and_own_contacts_untouched(google: Google, rt: Runtime) -> None:
    create_job(rt, google, "email:bob@example.com")
    rt.engine.run("Partners")
    bob = as_user(rt, "bob@example.com").people()
    held = ours(google, "bob@example.com")
    keys = sorted(held)
    tampered, deleted = held[keys[0]], held[keys[1]]
    bob.updateContact(
        resourceName=tampered["resourceName"],
        updatePersonFields="phoneNumbers",
        body={"etag": tampered["etag"], "phoneNumbers": [{"value": "+1 555 0000"}]},
    ).execute()
    bob.deleteContact(resourceName=deleted["resourceName"]).execute()
    group = group_named(google, "bob@example.com", google.seed.source_group_name)
    assert group is not None
    own = bob.createContact(
        body={
            "names": [{"givenName": "Bob's", "familyName": "Own"}],
            "memberships": [{"contactGroupMembership": {"contactGroupResourceName": group["resourceName"]}}],
        }
    ).execute()

    report = rt.engine.run("Partners")
    t = by_email(report)["bob@example.com"]
    assert (t.created, t.updated, t.deleted) == (1, 1, 0)
    after = ours(google, "bob@example.com")
    assert set(after) == source_keys(google)
    source_phone = contacts(google, google.seed.source_email)[keys[0]].get("phoneNumbers", [])
    assert [p["value"] for p in after[keys[0]].get("phoneNumbers", [])] == [p["value"] for p in source_phone]
    still = contacts(google, "bob@example.com")[own["resourceName"]]
    assert still["etag"] == own["etag"], "a contact the target made itself is never modified"


def test_target_renaming_the_group_is_put_back(google: Google, rt: Runtime) -> None:
    create_job(rt, google, "email:bob@example.com")
    rt.engine.run("Partners")
    group = group_named(google, "bob@example.com", google.seed.source_group_name)
    assert group is not None
    as_user(rt, "bob@example.com").contactGroups().update(
        resourceName=group["resourceName"],
        body={"contactGroup": {"etag": group["etag"], "name": "Mine now"}, "updateGroupFields": "name"},
    ).execute()
    with store.session_scope(rt.db) as session:  # the next run is a full read (e.g. a day later)
        for state in store.target_states_for_job(session, job_id=1).values():
            state.last_full_read_at = None
            session.add(state)
    report = rt.engine.run("Partners")
    t = by_email(report)["bob@example.com"]
    assert t.status is TargetStatus.ok and (t.created, t.updated, t.deleted) == (0, 0, 0)
    back = group_named(google, "bob@example.com", google.seed.source_group_name)
    assert back is not None and back["resourceName"] == group["resourceName"], "the same label, renamed back"
    assert group_named(google, "bob@example.com", "Mine now") is None
    held = ours(google, "bob@example.com")
    assert set(held) == source_keys(google)
    assert all(groups_of(p) == {group["resourceName"]} for p in held.values())


# --- the target set changes -----------------------------------------------------------------------------
def test_a_target_leaving_the_set_loses_exactly_the_jobs_contacts(google: Google, rt: Runtime) -> None:
    create_job(rt, google, "email:bob@example.com", "email:zoe@example.com")
    rt.engine.run("Partners")
    own = (
        as_user(rt, "zoe@example.com").people().createContact(body={"names": [{"givenName": "Zoë's friend"}]}).execute()
    )
    with store.session_scope(rt.db) as session:
        job = store.get_job_by_name(session, name="Partners")
        assert job is not None and job.id is not None
        rows = [s for s in store.list_selectors(session, job_id=job.id) if s.value != "zoe@example.com"]
        store.set_selectors(
            session, job_id=job.id, selectors=[SelectorCreate(kind=s.kind, value=s.value) for s in rows]
        )
    report = rt.engine.run("Partners")
    assert by_email(report)["zoe@example.com"].status is TargetStatus.removed
    assert ours(google, "zoe@example.com") == {}
    assert group_named(google, "zoe@example.com", google.seed.source_group_name) is None
    assert own["resourceName"] in contacts(google, "zoe@example.com")
    assert set(ours(google, "bob@example.com")) == source_keys(google)


# --- renames, deletions, suspensions -----------------------------------------------------------------------
def test_renamed_target_is_followed_by_id_and_reported(google: Google, rt: Runtime) -> None:
    create_job(rt, google, "email:bob@example.com", "email:zoe@example.com")
    rt.engine.run("Partners")
    before = {k: p["resourceName"] for k, p in ours(google, "bob@example.com").items()}
    google.handle.control.rename_user("bob@example.com", "robert@example.com")

    report = rt.engine.run("Partners")
    t = by_email(report)["robert@example.com"]
    assert t.status is TargetStatus.renamed
    assert t.new_email == "robert@example.com"
    assert (t.created, t.deleted) == (0, 0), "no duplicates, nothing recreated"
    assert {k: p["resourceName"] for k, p in ours(google, "robert@example.com").items()} == before
    assert by_email(report)["zoe@example.com"].status is TargetStatus.ok


def test_renamed_source_is_still_found_by_id(google: Google, rt: Runtime) -> None:
    create_job(rt, google, "email:bob@example.com")
    rt.engine.run("Partners")
    google.handle.control.rename_user(google.seed.source_email, "alice.new@example.com")
    report = rt.engine.run("Partners")
    assert report.status is RunStatus.ok
    assert report.source_renamed_to == "alice.new@example.com"
    assert by_email(report)["bob@example.com"].unchanged == google.seed.contact_count


def test_deleted_and_suspended_targets_get_their_own_status(google: Google, rt: Runtime) -> None:
    create_job(rt, google, "email:bob@example.com", "email:zoe@example.com", "email:carol@example.com")
    rt.engine.run("Partners")
    google.handle.control.delete_user("zoe@example.com")
    google.handle.control.suspend_user("carol@example.com")
    report = rt.engine.run("Partners")
    results = by_email(report)
    assert results["zoe@example.com"].status is TargetStatus.not_found
    assert results["carol@example.com"].status is TargetStatus.suspended
    assert results["bob@example.com"].status is TargetStatus.ok
    assert report.status is RunStatus.partial


def test_missing_source_group_fails_the_run(google: Google, rt: Runtime) -> None:
    create_job(rt, google, "email:bob@example.com")
    as_user(rt, google.seed.source_email).contactGroups().delete(
        resourceName=google.seed.source_group_resource_name
    ).execute()
    report = rt.engine.run("Partners")
    assert report.status is RunStatus.failed
    assert report.error_kind == "source_group_missing"
    assert ours(google, "bob@example.com") == {}
    # counted by the reason it names, for an alert rule to watch (contactsync_run_errors_total)
    assert rt.metrics.registry.get_sample_value("contactsync_run_errors_total",
                                                {"error": "source_group_missing"}) == 1


def test_emptied_source_stops_instead_of_wiping_targets(google: Google, rt: Runtime) -> None:
    create_job(rt, google, "email:bob@example.com")
    rt.engine.run("Partners")
    alice = as_user(rt, google.seed.source_email)
    alice.contactGroups().members().modify(
        resourceName=google.seed.source_group_resource_name,
        body={"resourceNamesToRemove": sorted(source_keys(google))},
    ).execute()
    report = rt.engine.run("Partners")
    assert report.status is RunStatus.failed and report.error_kind == "source_empty"
    assert len(ours(google, "bob@example.com")) == google.seed.contact_count
    confirmed = rt.engine.run("Partners", allow_empty_source=True)
    assert confirmed.status is RunStatus.ok
    assert ours(google, "bob@example.com") == {}


# --- robustness -------------------------------------------------------------------------------------------
def test_quota_storm_is_survived(google: Google, rt: Runtime) -> None:
    create_job(rt, google, "email:bob@example.com", "email:zoe@example.com")
    google.handle.control.inject_fault("people.people.batchCreateContacts", count=3, code=429, retry_after=0.01)
    google.handle.control.inject_fault("people.people.connections.list", count=2, code=503)
    report = rt.engine.run("Partners")
    assert report.status is RunStatus.ok, report
    for email in ("bob@example.com", "zoe@example.com"):
        assert set(ours(google, email)) == source_keys(google)


def test_a_target_that_waits_too_long_for_quota_is_reported_as_quota_for_that_target_only(
    google: Google, tmp_path: Path
) -> None:
    rt = make_runtime(google, f"sqlite:///{tmp_path / 'cs.db'}", CONTACTSYNC_QUOTA_MAX_WAIT_SECONDS=0.5)
    create_job(rt, google, "email:bob@example.com", "email:zoe@example.com")
    google.handle.control.inject_fault("people.people.batchCreateContacts", count=500, code=429, user="zoe@example.com")
    report = rt.engine.run("Partners")
    zoe = by_email(report)["zoe@example.com"]
    assert zoe.status is TargetStatus.quota and "waited" in zoe.reason, zoe
    assert by_email(report)["bob@example.com"].status is TargetStatus.ok


def test_rerun_after_a_crash_makes_no_duplicates_even_without_links(google: Google, rt: Runtime) -> None:
    create_job(rt, google, "email:bob@example.com")
    alice = as_user(rt, google.seed.source_email).people()
    for i in range(200):  # 260 contacts: two batchCreate calls
        alice.createContact(
            body={
                "names": [{"givenName": f"Extra{i}"}],
                "memberships": [
                    {"contactGroupMembership": {"contactGroupResourceName": google.seed.source_group_resource_name}}
                ],
            }
        ).execute()
    crashed = _run_until_second_create_batch(rt, google)
    assert 0 < crashed < len(source_keys(google))
    with store.session_scope(rt.db) as session:  # whatever the database knew of bob is gone too
        assert store.get_job_by_name(session, name="Partners") is not None
        store.delete_links(session, job_id=1, target_user_id=user_id(google, "bob@example.com"))
        store.delete_target_state(session, job_id=1, target_user_id=user_id(google, "bob@example.com"))
        store.release_lease(session, job_id=1, holder=rt.engine.holder)

    report = rt.engine.run("Partners")
    t = by_email(report)["bob@example.com"]
    assert t.created == len(source_keys(google)) - crashed
    assert t.unchanged == crashed, "the contacts of the crashed run are adopted by their tags"
    assert set(ours(google, "bob@example.com")) == source_keys(google)  # ours() asserts no duplicates
    assert rt.engine.run("Partners").targets[0].created == 0


def test_a_run_killed_before_it_stored_its_links_is_linked_by_the_next_without_duplicates(
    google: Google, rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run stores the links its targets hand on many to a commit (not batch by batch): a run killed between a
    batch Google took and that commit leaves contacts at the target the store knows nothing of. The next run
    finds them by our tag, links them and creates only the rest."""
    create_job(rt, google, "email:bob@example.com")
    alice = as_user(rt, google.seed.source_email).people()
    for i in range(200):  # 260 contacts: two batchCreate calls
        alice.createContact(body={"names": [{"givenName": f"Extra{i}"}], "memberships": [
            {"contactGroupMembership": {"contactGroupResourceName": google.seed.source_group_resource_name}}]}
        ).execute()
    with monkeypatch.context() as killed:  # a killed process stores nothing more, not even on its way out
        killed.setattr(RunRecords, "persist_many", lambda *args, **kwargs: None)
        crashed = _run_until_second_create_batch(rt, google)
    bob = user_id(google, "bob@example.com")
    assert crashed == 200
    with store.session_scope(rt.db) as session:
        assert store.link_counts(session, job_id=1, target_user_ids=[bob]) == {}  # the window: nothing linked
        store.release_lease(session, job_id=1, holder=rt.engine.holder)

    report = rt.engine.run("Partners")
    t = by_email(report)["bob@example.com"]
    assert (t.created, t.unchanged) == (len(source_keys(google)) - crashed, crashed), t
    held = ours(google, "bob@example.com")  # asserts no source contact is there twice
    assert set(held) == source_keys(google)
    with store.session_scope(rt.db) as session:
        links = store.link_rows(session, job_id=1, target_user_id=bob)
    assert {k: rn for k, (rn, *_) in links.items()} == {k: p["resourceName"] for k, p in held.items()}
    assert rt.engine.run("Partners").targets[0].created == 0


def _run_until_second_create_batch(rt: Runtime, google: Google) -> int:
    """Run the job, killing it (an exception from the client) at the second batchCreate call."""
    from sync_core.google import people as people_module

    original = people_module.PeopleClient.batch_create
    calls = {"n": 0}

    class Killed(BaseException):
        pass

    def dying_batch_create(self: Any, items: Any) -> Any:
        done = []
        for part in people_module.chunks(list(items), people_module.BATCH_CREATE_MAX):
            calls["n"] += 1
            if calls["n"] == 2:
                raise Killed()
            done.extend(original(self, part))
        return done

    people_module.PeopleClient.batch_create = dying_batch_create  # type: ignore[method-assign]
    try:
        with pytest.raises(Killed):
            rt.engine.run("Partners")
    finally:
        people_module.PeopleClient.batch_create = original  # type: ignore[method-assign]
    return len(ours(google, "bob@example.com"))


def test_dry_run_writes_nothing(google: Google, rt: Runtime) -> None:
    create_job(rt, google, "email:bob@example.com")
    google.handle.control.reset_calls()
    shown: list[TargetReport] = []
    report = rt.engine.run("Partners", dry_run=True, progress=lambda _r, t: shown.append(t))
    t = by_email(report)["bob@example.com"]
    # The plan goes to the progress callback as the target is done; the report keeps only counts.
    assert t.created == google.seed.contact_count and t.plan is None
    assert [s.email for s in shown] == ["bob@example.com"]
    assert shown[0].plan is not None and len(shown[0].plan.creates) == google.seed.contact_count
    assert ours(google, "bob@example.com") == {}
    assert group_named(google, "bob@example.com", google.seed.source_group_name) is None
    calls = google.handle.control.calls()
    assert calls["byMethod"].get("people.people.connections.list")
    writes = [m for m in calls["byMethod"] if any(w in m for w in ("create", "update", "delete", "batchC", "modify"))]
    assert writes == [], writes
    with store.session_scope(rt.db) as session:
        assert store.last_runs(session, job_id=1) == []


def test_steady_state_makes_one_contact_read_and_one_label_read_per_target(google: Google, rt: Runtime) -> None:
    create_job(rt, google, "group:sales@example.com")
    rt.engine.run("Partners")
    second = rt.engine.run("Partners")  # first incremental run after the full one
    google.handle.control.reset_calls()
    report = rt.engine.run("Partners")
    reachable = [t for t in report.targets if t.status is TargetStatus.ok]
    assert reachable and all(t.created == t.updated == t.deleted == 0 for t in report.targets)
    people_calls = {m: n for m, n in report.calls_by_method.items() if not m.startswith("directory.")}
    source_reads = 2  # the source group (member count) and the source's incremental read
    # Per target: its incremental contact read, and one read of the label (contact groups' own quota) that a
    # sync token never shows renamed, deleted or emptied.
    assert people_calls.get("people.connections.list", 0) == len(reachable) + 1
    assert people_calls.get("contactGroups.get", 0) == len(reachable) + 1
    assert sum(people_calls.values()) == 2 * len(reachable) + source_reads, people_calls
    assert second.status == report.status


def test_account_limit_is_a_clear_per_target_error(google: Google, tmp_path: Path) -> None:
    rt = make_runtime(google, f"sqlite:///{tmp_path / 'cs.db'}", CONTACTSYNC_MAX_CONTACTS_PER_ACCOUNT=50)
    create_job(rt, google, "email:bob@example.com")
    report = rt.engine.run("Partners")
    t = by_email(report)["bob@example.com"]
    assert t.status is TargetStatus.too_many_contacts
    assert "25,000" in t.reason or "50" in t.reason
    assert ours(google, "bob@example.com") == {}


# --- creating jobs ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"source_email": "nobody@example.com"}, "source"),
        ({"group_name": "No Such Group"}, "group"),
        ({"targets": ["email:nobody@example.com"]}, "targets"),
        ({"targets": ["group:nogroup@example.com"]}, "targets"),
        ({"targets": ["role:Imaginary Admin"]}, "targets"),
        ({"targets": ["ou:/Nowhere"]}, "targets"),
        ({"targets": ["domain:not-ours.com"]}, "targets"),
        ({"targets": ["bogus"]}, "targets"),
        ({"schedule": "every 1m"}, "schedule"),
    ],
)
def test_bad_job_input_names_the_field(google: Google, rt: Runtime, changes: JSON, field: str) -> None:
    spec: JSON = {
        "name": "Bad",
        "source_email": google.seed.source_email,
        "group_name": google.seed.source_group_name,
        "targets": ["email:bob@example.com"],
    }
    spec.update(changes)
    with pytest.raises(JobInputError) as err:
        create_personal_job(rt.db, spec=PersonalJobSpec(**spec), directory=rt.directory(), people_for=rt.people)
    assert err.value.field == field
    with store.session_scope(rt.db) as session:
        assert store.get_job_by_name(session, name="Bad") is None


def test_duplicate_job_name_is_refused(google: Google, rt: Runtime) -> None:
    create_job(rt, google, "email:bob@example.com")
    with pytest.raises(JobInputError) as err:
        create_job(rt, google, "email:zoe@example.com")
    assert err.value.field == "name"


def test_role_and_ou_selectors_resolve(google: Google, rt: Runtime) -> None:
    create_job(rt, google, f"role:{google.seed.help_desk_role_name}", "ou:/Sales/EMEA")
    report = rt.engine.run("Partners")
    emails = {t.email for t in report.targets}
    assert set(google.seed.emea_emails) <= emails
    assert google.seed.ou_scoped_admin_email in emails


# --- photos -----------------------------------------------------------------------------------------
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de0000000c4944415408d763f8cfc0000003010100c9fe92ef0000000049454e44ae426082"
)


def photo_calls(google: Google) -> dict[str, int]:
    by_method = google.handle.control.calls()["byMethod"]
    return {m: n for m, n in by_method.items() if "Photo" in m}


def test_photos_are_copied_only_when_they_change(google: Google, rt: Runtime) -> None:
    import base64

    create_job(rt, google, "email:bob@example.com", "email:zoe@example.com")
    alice = as_user(rt, google.seed.source_email).people()
    key = sorted(source_keys(google))[0]
    alice.updateContactPhoto(resourceName=key, body={"photoBytes": base64.b64encode(PNG).decode()}).execute()
    google.handle.control.reset_calls()
    rt.engine.run("Partners")
    assert photo_calls(google) == {"people.people.updateContactPhoto": 2}
    bob_copy = ours(google, "bob@example.com")[key]
    bob_store = google.ws.people_of(user_id(google, "bob@example.com"))
    assert base64.b64decode(bob_store["photos"][bob_copy["resourceName"]]) == PNG

    google.handle.control.reset_calls()
    rt.engine.run("Partners")
    rt.engine.run("Partners")
    assert photo_calls(google) == {}, "an unchanged photo is not sent again"

    alice.deleteContactPhoto(resourceName=key).execute()
    google.handle.control.reset_calls()
    rt.engine.run("Partners")
    assert photo_calls(google) == {"people.people.deleteContactPhoto": 2}
    assert bob_copy["resourceName"] not in bob_store["photos"]


def test_expired_sync_tokens_fall_back_to_a_full_read(google: Google, rt: Runtime) -> None:
    create_job(rt, google, "email:bob@example.com")
    rt.engine.run("Partners")
    rt.engine.run("Partners")
    google.handle.control.advance_clock(8 * 24 * 3600)  # sync tokens live 7 days
    alice = as_user(rt, google.seed.source_email).people()
    key = sorted(source_keys(google))[0]
    person = alice.get(resourceName=key, personFields="names").execute()
    alice.updateContact(
        resourceName=key,
        updatePersonFields="names",
        body={"etag": person["etag"], "names": [{"givenName": "After", "familyName": "Expiry"}]},
    ).execute()
    google.handle.control.reset_calls()
    report = rt.engine.run("Partners")
    assert report.status is RunStatus.ok
    assert by_email(report)["bob@example.com"].updated == 1
    assert ours(google, "bob@example.com")[key]["names"][0]["givenName"] == "After"
    faulted = google.handle.control.calls()
    # the source's and bob's expired tokens were refused (400 EXPIRED_SYNC_TOKEN), then full reads ran
    assert report.calls_by_method["people.connections.list"] >= 4, report.calls_by_method
    assert faulted["byMethod"]["people.people.connections.list"] >= 2


def test_a_target_deleting_the_group_gets_it_back_with_every_contact_in_it(google: Google, rt: Runtime) -> None:
    create_job(rt, google, "email:bob@example.com")
    rt.engine.run("Partners")
    rt.engine.run("Partners")  # now on sync tokens
    group = group_named(google, "bob@example.com", google.seed.source_group_name)
    assert group is not None
    as_user(rt, "bob@example.com").contactGroups().delete(resourceName=group["resourceName"]).execute()
    report = rt.engine.run("Partners")
    assert by_email(report)["bob@example.com"].status is TargetStatus.ok, report
    again = group_named(google, "bob@example.com", google.seed.source_group_name)
    assert again is not None and again["resourceName"] != group["resourceName"]
    held = ours(google, "bob@example.com")
    assert set(held) == source_keys(google)
    assert all(groups_of(p) == {again["resourceName"]} for p in held.values())
    assert rt.engine.run("Partners").targets[0].updated == 0


@pytest.mark.postgres
def test_a_full_cycle_on_postgresql(google: Google, postgres_url: str) -> None:
    rt = make_runtime(google, postgres_url, CONTACTSYNC_MAX_PARALLEL_TARGETS=4)
    create_job(rt, google, "group:sales@example.com")
    first = rt.engine.run("Partners")
    assert first.status is RunStatus.ok
    google.handle.control.rename_user("bob@example.com", "robert@example.com")
    second = rt.engine.run("Partners")
    assert all(t.created == t.updated == t.deleted == 0 for t in second.targets)
    for email in ("robert@example.com", "carol@example.com", "zoe@example.com", "lilei@example.org"):
        assert set(ours(google, email)) == source_keys(google)
    with store.session_scope(rt.db) as session:
        runs = store.last_runs(session, job_id=1)
        assert [r.status for r in runs] == [RunStatus.ok, RunStatus.ok]
        assert runs[1].created == 4 * google.seed.contact_count


def test_a_failing_notifier_does_not_fail_a_recorded_run(google: Google, rt: Runtime) -> None:
    class Broken:
        def run_finished(self, job: Any, report: Any) -> None:
            raise RuntimeError("Slack is down")

    create_job(rt, google, "email:bob@example.com")
    rt.engine.notifier = Broken()
    report = rt.engine.run("Partners")
    assert report.status is RunStatus.ok
    with store.session_scope(rt.db) as session:
        assert [r.status for r in store.last_runs(session, job_id=1)] == [RunStatus.ok]


def test_progress_knows_the_total_once_targets_are_resolved(google: Google, rt: Runtime) -> None:
    create_job(rt, google, "group:sales@example.com")
    seen: list[tuple[int, int]] = []
    rt.engine.run("Partners", progress=lambda report, _t: seen.append((len(report.targets), report.targets_expected)))
    assert seen[-1][0] == seen[-1][1] == 5  # bob, carol, zoe, lilei and frank (suspended, left out)
    assert [done for done, _total in seen] == list(range(1, 6))


def test_turning_off_add_to_my_contacts_takes_the_contacts_out_of_my_contacts(google: Google, rt: Runtime) -> None:
    from sync_core.service import JobEdit
    from sync_core.service.changes import edit_job

    create_job(rt, google, "email:bob@example.com", add_to_my_contacts=True)
    rt.engine.run("Partners")
    assert all("contactGroups/myContacts" in groups_of(p) for p in ours(google, "bob@example.com").values())
    edit_job(
        rt.db,
        name="Partners",
        edit=JobEdit(add_to_my_contacts=False),
        actor="test",
        directory=rt.directory(),
        people_for=rt.people,
    )
    report = rt.engine.run("Partners")
    assert by_email(report)["bob@example.com"].updated == google.seed.contact_count
    group = group_named(google, "bob@example.com", google.seed.source_group_name)
    assert group is not None
    assert all(groups_of(p) == {group["resourceName"]} for p in ours(google, "bob@example.com").values())


def test_renaming_the_target_group_in_the_job_renames_it_in_place(google: Google, rt: Runtime) -> None:
    from sync_core.service import JobEdit
    from sync_core.service.changes import edit_job

    create_job(rt, google, "email:bob@example.com")
    rt.engine.run("Partners")
    before = group_named(google, "bob@example.com", google.seed.source_group_name)
    assert before is not None
    edit_job(
        rt.db,
        name="Partners",
        edit=JobEdit(target_group_name="Partners (shared)"),
        actor="test",
        directory=rt.directory(),
        people_for=rt.people,
    )
    report = rt.engine.run("Partners")
    t = by_email(report)["bob@example.com"]
    assert (t.created, t.updated, t.deleted) == (0, 0, 0)
    after = group_named(google, "bob@example.com", "Partners (shared)")
    assert after is not None and after["resourceName"] == before["resourceName"]
    assert group_named(google, "bob@example.com", google.seed.source_group_name) is None


def test_a_photo_that_failed_after_its_contact_was_written_is_sent_by_the_next_run(
    google: Google, rt: Runtime
) -> None:
    import base64

    create_job(rt, google, "email:bob@example.com")
    rt.engine.run("Partners")
    alice = as_user(rt, google.seed.source_email).people()
    key = sorted(source_keys(google))[0]
    person = alice.get(resourceName=key, personFields="names").execute()
    alice.updateContact(resourceName=key, updatePersonFields="names",
                        body={"etag": person["etag"], "names": [{"givenName": "Pictured"}]}).execute()
    alice.updateContactPhoto(resourceName=key, body={"photoBytes": base64.b64encode(PNG).decode()}).execute()
    # Google takes the edit, then refuses the photo: the target stops there, its contact written.
    google.handle.control.inject_fault("people.people.updateContactPhoto", count=1, code=403)
    first = by_email(rt.engine.run("Partners"))["bob@example.com"]
    assert first.status is TargetStatus.forbidden and first.updated == 1
    bob_store = google.ws.people_of(user_id(google, "bob@example.com"))
    assert ours(google, "bob@example.com")[key]["resourceName"] not in bob_store["photos"]

    google.handle.control.clear_faults()
    google.handle.control.reset_calls()
    second = by_email(rt.engine.run("Partners"))["bob@example.com"]
    assert second.status is TargetStatus.ok
    assert photo_calls(google) == {"people.people.updateContactPhoto": 1}  # the photo, at last
    copy = ours(google, "bob@example.com")[key]
    assert copy["names"][0]["givenName"] == "Pictured"
    assert base64.b64decode(bob_store["photos"][copy["resourceName"]]) == PNG
