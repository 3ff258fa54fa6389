"""What a run reads: never the bodies it wrote itself, and nothing more than one read for a target in sync."""

from __future__ import annotations

import orjson
import pytest

import sync_core.google.people as people_module
from sync_core import store
from sync_core.domain.models import TargetStatus
from sync_core.google.people import ListedPair, PeopleClient, decode_pairs_page
from sync_core.runtime import Runtime
from tests.conftest import Google
from tests.integration.helpers import as_user, by_email, create_job, given_name, ours, source_keys


def user_id_of(google: Google, email: str) -> str:
    user = google.ws.user_by_key(email)
    assert user is not None
    return str(user["id"])


def tamper(rt: Runtime, google: Google, email: str, source_key: str) -> None:
    """The target renames the contact of ours that mirrors `source_key`."""
    contact = ours(google, email)[source_key]
    as_user(rt, email).people().updateContact(
        resourceName=contact["resourceName"],
        updatePersonFields="names",
        body={"etag": contact["etag"], "names": [{"givenName": "Tampered"}]},
    ).execute()


def count_link_loads(rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    loads: list[str] = []
    original = rt.engine.records.links

    def links(job_id: int, user_id: str):  # type: ignore[no-untyped-def]
        loads.append(user_id)
        return original(job_id, user_id)

    monkeypatch.setattr(rt.engine.records, "links", links)
    return loads


def test_the_run_after_a_first_sync_reads_no_body_it_wrote(
    google: Google, rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    create_job(rt, google, "email:bob@example.com", "email:zoe@example.com")
    rt.engine.run("Partners")
    google.handle.control.reset_calls()
    loads = count_link_loads(rt, monkeypatch)
    report = rt.engine.run("Partners")  # the sync tokens now list every contact the first run created
    assert all(t.status is TargetStatus.ok and t.unchanged == google.seed.contact_count for t in report.targets)
    calls = google.handle.control.calls()["byMethod"]
    assert "people.people.getBatchGet" not in calls
    assert calls["people.people.connections.list"] == 3  # the source and one per target
    assert loads == []  # what it read back is exactly what it wrote: not even the links are needed


def test_the_run_after_a_first_sync_reads_only_names_and_etags_of_its_echoes(
    google: Google, rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every contact the first run wrote comes back on the next incremental read: an echo check asks Google for
    each one's name, etag and deletion only (their sum is what the first run wrote: no tag is needed to tell they
    are its writes), and that is the only read."""
    create_job(rt, google, "email:bob@example.com", "email:zoe@example.com")
    rt.engine.run("Partners")
    reads: list[tuple[bool, int, set[str]]] = []
    original = PeopleClient.read_connections

    def read_connections(self: PeopleClient, **kwargs):  # type: ignore[no-untyped-def]
        keys: set[str] = set()
        keep, keep_page, keep_pairs = kwargs.get("keep"), kwargs.get("keep_page"), kwargs.get("keep_pairs")
        if keep is not None and kwargs.get("sync_token"):
            def spy(person):  # type: ignore[no-untyped-def]
                keys.update(person)
                return keep(person)
            kwargs["keep"] = spy
        if keep_page is not None and kwargs.get("sync_token"):
            def spy_page(people):  # type: ignore[no-untyped-def]
                for person in people:
                    keys.update(person)
                keep_page(people)
            kwargs["keep_page"] = spy_page
        if keep_pairs is not None and kwargs.get("sync_token"):
            def spy_pairs(pairs):  # type: ignore[no-untyped-def]
                assert all(isinstance(p, ListedPair) and p.resource_name and p.etag for p in pairs), pairs
                keep_pairs(pairs)
            kwargs["keep_pairs"] = spy_pairs
        read = original(self, **kwargs)
        if kwargs.get("sync_token"):
            reads.append((keep_pairs is not None, read.listed, keys))
        return read

    answered: set[str] = set()  # what Google answered of each contact a pairs-only read listed

    def spy_answer(content: bytes):  # type: ignore[no-untyped-def]
        for person in orjson.loads(content).get("connections", []):
            answered.update(person)
        return decode_pairs_page(content)

    monkeypatch.setattr(PeopleClient, "read_connections", read_connections)
    monkeypatch.setattr(people_module._PAIRS_MODEL, "_decode", spy_answer)
    report = rt.engine.run("Partners")
    assert all(t.status is TargetStatus.ok and t.unchanged == google.seed.contact_count for t in report.targets)
    target_reads = [r for r in reads if r[1] == google.seed.contact_count]  # the source's read lists changes only
    assert [r[:2] for r in target_reads] == [(True, google.seed.contact_count)] * 2, reads
    assert all(not keys for _, _, keys in target_reads), target_reads  # no contact kept as a dict
    assert answered and answered <= {"resourceName", "etag", "metadata"}, answered


def test_where_another_job_wrote_since_the_run_after_reads_with_tags_at_once(google: Google, rt: Runtime) -> None:
    """Two jobs first-synced to one account, one after the other: the changes since the first job's token list the
    second's writes too, so they are not its writes alone. It reads them with tags at once (one read), not the
    pairs first (which cannot match: two reads). The second job, which nobody wrote after, reads the pairs alone."""
    create_job(rt, google, "email:bob@example.com")
    create_job(rt, google, "email:bob@example.com", name="Copy", target_group_name="Partners copy")
    rt.engine.run("Partners")
    rt.engine.run("Copy")

    def bob_reads(job: str) -> int:
        google.handle.control.reset_calls()
        bob = by_email(rt.engine.run(job))["bob@example.com"]
        assert bob.status is TargetStatus.ok and bob.unchanged == google.seed.contact_count, bob
        reads = google.handle.control.calls()["byMethodAndUser"]["people.people.connections.list"]
        return int(reads["bob@example.com"])

    assert bob_reads("Partners") == 1
    assert bob_reads("Copy") == 1  # the first job's run wrote nothing there: the pairs are the second's alone
    assert bob_reads("Partners") == bob_reads("Copy") == 1  # the steady state


def test_a_server_that_refuses_the_echo_checks_fields_gets_the_usual_read(
    google: Google, rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Google binds a sync token to the method's parameters, not to `fields`; a server that binds it to both
    answers the echo check 400. The same read is then asked with the usual fields, and so are later ones."""
    monkeypatch.setattr(PeopleClient, "echo_answer_refused", False)  # and put back after the test
    create_job(rt, google, "email:bob@example.com")
    rt.engine.run("Partners")
    google.handle.control.reset_calls()
    google.handle.control.inject_fault("people.people.connections.list", count=1, code=400, user="bob@example.com")
    report = rt.engine.run("Partners")
    bob = by_email(report)["bob@example.com"]
    assert bob.status is TargetStatus.ok and bob.unchanged == google.seed.contact_count, bob
    assert PeopleClient.echo_answer_refused
    google.handle.control.reset_calls()
    rt.engine.run("Partners")  # no second refusal: asked with the usual fields at once
    assert google.handle.control.calls()["byMethodAndUser"]["people.people.connections.list"]["bob@example.com"] == 1


def test_an_echo_with_one_contact_changed_since_is_looked_at(
    google: Google, rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    create_job(rt, google, "email:bob@example.com")
    rt.engine.run("Partners")
    tamper(rt, google, "bob@example.com", sorted(ours(google, "bob@example.com"))[-1])
    loads = count_link_loads(rt, monkeypatch)
    report = rt.engine.run("Partners")
    assert by_email(report)["bob@example.com"].updated == 1 and loads == [user_id_of(google, "bob@example.com")]
    assert set(ours(google, "bob@example.com")) == source_keys(google)


def test_a_target_in_sync_is_neither_loaded_nor_planned(
    google: Google, rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    create_job(rt, google, "email:bob@example.com", "email:zoe@example.com")
    rt.engine.run("Partners")
    rt.engine.run("Partners")
    loads = count_link_loads(rt, monkeypatch)
    with store.session_scope(rt.db) as session:
        tokens_before = {s.target_email: s.sync_token for s in store.target_states_for_job(session, job_id=1).values()}
    google.handle.control.reset_calls()
    report = rt.engine.run("Partners")
    assert loads == []
    assert [t.unchanged for t in report.targets] == [google.seed.contact_count] * 2
    # Their states and result rows are stored together at the end of the run (one commit for many targets).
    assert report.run_id is not None
    with store.session_scope(rt.db) as session:
        results = store.results_for_run(session, run_id=report.run_id)
        states = {s.target_email: s for s in store.target_states_for_job(session, job_id=1).values()}
    assert sorted(r.target_email for r in results) == ["bob@example.com", "zoe@example.com"]
    assert all(states[e].sync_token and states[e].last_status is TargetStatus.ok for e in tokens_before)

    # A contact of the target's own changed, then deleted: still nothing of ours to look at, and one read.
    own = as_user(rt, "bob@example.com").people().createContact(body={"names": [{"givenName": "Own"}]}).execute()
    rt.engine.run("Partners")
    as_user(rt, "bob@example.com").people().deleteContact(resourceName=own["resourceName"]).execute()
    google.handle.control.reset_calls()
    report = rt.engine.run("Partners")
    assert loads == [] and by_email(report)["bob@example.com"].unchanged == google.seed.contact_count
    assert google.handle.control.calls()["byMethodAndUser"]["people.people.connections.list"]["bob@example.com"] == 1


def test_only_our_contacts_edited_at_the_target_are_read_in_full(
    google: Google, rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    create_job(rt, google, "email:bob@example.com", "email:zoe@example.com")
    rt.engine.run("Partners")
    rt.engine.run("Partners")
    first = sorted(ours(google, "bob@example.com"))[0]
    tamper(rt, google, "bob@example.com", first)
    loads = count_link_loads(rt, monkeypatch)
    google.handle.control.reset_calls()
    report = rt.engine.run("Partners")
    assert by_email(report)["bob@example.com"].updated == 1
    assert by_email(report)["zoe@example.com"].updated == 0
    assert len(loads) == 1  # bob's links only
    assert google.handle.control.calls()["byMethod"]["people.people.getBatchGet"] == 1
    assert set(ours(google, "bob@example.com")) == source_keys(google)
    assert given_name(ours(google, "bob@example.com")[first]) != "Tampered"


def test_a_source_edit_still_reaches_targets_in_sync(google: Google, rt: Runtime) -> None:
    create_job(rt, google, "email:bob@example.com")
    rt.engine.run("Partners")
    rt.engine.run("Partners")
    alice = as_user(rt, google.seed.source_email).people()
    first = sorted(source_keys(google))[0]
    person = alice.get(resourceName=first, personFields="names").execute()
    alice.updateContact(
        resourceName=first, updatePersonFields="names",
        body={"etag": person["etag"], "names": [{"givenName": "Renamed", "familyName": "Partner"}]},
    ).execute()
    report = rt.engine.run("Partners")
    assert by_email(report)["bob@example.com"].updated == 1
    assert ours(google, "bob@example.com")[first]["names"][0]["givenName"] == "Renamed"


def test_a_contact_whose_tag_the_target_removed_is_noticed_in_the_steady_state(google: Google, rt: Runtime) -> None:
    create_job(rt, google, "email:bob@example.com")
    rt.engine.run("Partners")
    rt.engine.run("Partners")
    held = ours(google, "bob@example.com")
    key = sorted(held)[0]
    untagged = held[key]
    as_user(rt, "bob@example.com").people().updateContact(
        resourceName=untagged["resourceName"],
        updatePersonFields="clientData",
        body={"etag": untagged["etag"], "clientData": []},
    ).execute()
    report = rt.engine.run("Partners")
    assert by_email(report)["bob@example.com"].created == 1  # ours again, in a contact of our own
    assert set(ours(google, "bob@example.com")) == source_keys(google)
    bob = google.ws.user_by_key("bob@example.com")
    assert bob is not None
    assert untagged["resourceName"] in google.ws.people_of(bob["id"])["contacts"]  # no longer ours: left alone


def test_a_first_sync_costs_the_floor_of_calls_per_target(google: Google, rt: Runtime) -> None:
    """Find or make the label, one read, ceil(N/200) batch creates: nothing else (not even a size check)."""
    create_job(rt, google, "email:bob@example.com", "email:zoe@example.com")
    google.handle.control.reset_calls()
    rt.engine.run("Partners")
    by_user = google.handle.control.calls()["byMethodAndUser"]
    for email in ("bob@example.com", "zoe@example.com"):
        calls = sum(users.get(email, 0) for method, users in by_user.items() if method.startswith("people."))
        assert calls == -(-google.seed.contact_count // 200) + 3, (email, calls)


def test_an_editor_costs_the_reads_of_any_target_in_the_steady_state(google: Google, rt: Runtime) -> None:
    """The merge reads an editor's changes once, and their target sync takes that read: 2 People reads per
    target, editors included, and an editor's change costs one body read more (the changed contact's)."""
    create_job(rt, google, "email:bob@example.com", editors=["email:zoe@example.com"])
    rt.engine.run("Partners")
    rt.engine.run("Partners")
    google.handle.control.reset_calls()
    rt.engine.run("Partners")
    by_user = google.handle.control.calls()["byMethodAndUser"]
    for email in ("bob@example.com", "zoe@example.com"):
        reads = {m: users[email] for m, users in by_user.items() if m.startswith("people.") and email in users}
        assert sum(reads.values()) == 2, (email, reads)

    key = sorted(ours(google, "zoe@example.com"))[0]
    copy = ours(google, "zoe@example.com")[key]
    as_user(rt, "zoe@example.com").people().updateContact(
        resourceName=copy["resourceName"], updatePersonFields="names",
        body={"etag": copy["etag"], "names": [{"givenName": "Edited", "familyName": "ByZoe"}]}).execute()
    google.handle.control.reset_calls()
    rt.engine.run("Partners")
    by_user = google.handle.control.calls()["byMethodAndUser"]
    zoe = {m: users["zoe@example.com"] for m, users in by_user.items() if "zoe@example.com" in users}
    assert zoe.get("people.people.connections.list") == 1 and zoe.get("people.people.getBatchGet") == 1, zoe
    assert given_name(ours(google, "bob@example.com")[key]) == "Edited"


def test_a_first_sync_records_its_targets_at_once_and_reads_no_links(
    google: Google, rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every new target is recorded as reached before any is written to, in one commit; none of them has
    links to read (a round trip per target before its first call held up a first sync of thousands)."""
    create_job(rt, google, "email:bob@example.com", "email:zoe@example.com")
    with store.session_scope(rt.db) as session:
        job = store.get_job_by_name(session, name="Partners")
        assert job is not None and job.id is not None
        job_id = job.id
    loads = count_link_loads(rt, monkeypatch)
    recorded: list[set[str]] = []
    original = PeopleClient.batch_create

    def batch_create(self, people):  # type: ignore[no-untyped-def]
        with store.session_scope(rt.db) as session:  # at each batch written: both accounts are recorded
            recorded.append(set(store.target_states_for_job(session, job_id=job_id)))
        return original(self, people)

    monkeypatch.setattr(PeopleClient, "batch_create", batch_create)
    report = rt.engine.run("Partners")
    assert all(t.status is TargetStatus.ok for t in report.targets)
    both = {user_id_of(google, "bob@example.com"), user_id_of(google, "zoe@example.com")}
    assert recorded and all(seen == both for seen in recorded)
    assert loads == []
