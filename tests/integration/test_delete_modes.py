"""Deleting a sync says what becomes of its contacts: removed, or kept (released to the users: our tags go, the
contacts and the label stay as theirs). A deleted sync leaves nothing a new one could take for its own: not
its id (history, links, alerts), not its tags."""

from __future__ import annotations

from typing import Any

import pytest

from sync_core import store
from sync_core.domain.models import AlertKind, AlertState, TargetStatus
from sync_core.domain.reports import LabelFate
from sync_core.runtime import Runtime
from sync_core.service import ContactsChoice, ContactsChoiceNeeded, JobInputError, JobService
from tests.conftest import Google
from tests.integration.helpers import (
    TAG,
    by_email,
    contacts,
    create_job,
    group_named,
    groups_of,
    make_runtime,
    user_id,
)

JSON = dict[str, Any]
TARGETS = ("bob@example.com", "zoe@example.com")


def tagged(google: Google, email: str, uid: str) -> dict[str, JSON]:
    """The account's contacts that carry the tag of the job with this uid, by resourceName."""
    return {rn: p for rn, p in contacts(google, email).items()
            if any(d["key"] == TAG + uid for d in p.get("clientData", []))}


def untagged_in(google: Google, email: str, label: JSON) -> dict[str, JSON]:
    """The account's contacts in `label` that carry no ContactSync tag (the user's own), by resourceName."""
    return {rn: p for rn, p in contacts(google, email).items()
            if label["resourceName"] in groups_of(p)
            and not any(d["key"].startswith(TAG) for d in p.get("clientData", []))}


def test_a_sync_that_wrote_contacts_is_not_deleted_until_the_delete_says_what_becomes_of_them(
    google: Google, rt: Runtime
) -> None:
    service = JobService(rt)
    create_job(rt, google, "email:bob@example.com", name="Never run")
    assert service.delete("Never run", actor="test", contacts=None).deleted  # it wrote nothing: no question

    create_job(rt, google, *(f"email:{e}" for e in TARGETS))
    service.run("Partners")
    uid = service.find("Partners").uid
    with pytest.raises(ContactsChoiceNeeded) as asked:
        service.delete("Partners", actor="test", contacts=None)
    assert (asked.value.field, asked.value.accounts) == ("contacts", 2)
    job = service.find("Partners")
    assert not job.deleting and job.enabled, "nothing changed"
    assert all(len(tagged(google, e, uid)) == google.seed.contact_count for e in TARGETS)


def test_keep_releases_the_contacts_and_the_label_and_a_later_sync_on_that_label_writes_beside_them(
    google: Google, rt: Runtime
) -> None:
    service = JobService(rt)
    create_job(rt, google, *(f"email:{e}" for e in TARGETS))
    service.run("Partners")
    uid = service.find("Partners").uid
    before = {e: tagged(google, e, uid) for e in TARGETS}
    assert all(len(held) == google.seed.contact_count for held in before.values())

    deletion = service.delete("Partners", actor="ada", contacts=ContactsChoice.keep)

    assert deletion.deleted and deletion.cleanup is not None and deletion.cleanup.kept
    count = google.seed.contact_count
    assert [(a.email, a.status, a.contacts, a.label) for a in deletion.cleanup.accounts] == [
        (e, TargetStatus.removed, count, LabelFate.released) for e in TARGETS]
    assert deletion.cleanup.accounts[0].summary() == (
        f"released {count} contacts and the label: they are the user's own now")
    for email in TARGETS:
        label = group_named(google, email, "Partners")
        assert label is not None and not label.get("clientData"), "the label stays, untagged"
        released = untagged_in(google, email, label)
        assert set(released) == set(before[email]), "every contact stays, in the label, without our tag"
        assert all(released[rn].get("names") == before[email][rn].get("names") for rn in released)
    with store.session_scope(rt.db) as session:
        assert store.audit_events(session, limit=1)[0].detail == {"contacts": "kept"}

    # A later sync under that label name is not refused and writes into the label (now the user's, so it is used
    # as it is, untagged), its own copies beside the released ones (there is no adoption of existing contacts),
    # never touching theirs.
    released_etags = {e: {rn: p["etag"] for rn, p in untagged_in(google, e, group_named(google, e, "Partners") or {})
                          .items()} for e in TARGETS}
    create_job(rt, google, *(f"email:{e}" for e in TARGETS), name="Again", target_group_name="Partners")
    report = service.run("Again")
    assert {e: (t.status, t.created, t.deleted) for e, t in by_email(report).items()} == {
        e: (TargetStatus.ok, count, 0) for e in TARGETS}
    again = service.find("Again").uid
    for email in TARGETS:
        label = group_named(google, email, "Partners")
        assert label is not None and not label.get("clientData"), "the user's label, used as it is"
        assert {rn: p["etag"] for rn, p in untagged_in(google, email, label).items()} == released_etags[email]
        assert len(tagged(google, email, again)) == count
    assert all(t.created == t.deleted == t.updated == 0 for t in service.run("Again").targets)

    # Removing the new sync's contacts removes only its own: the released ones are the users'.
    gone = service.delete("Again", actor="ada", contacts=ContactsChoice.remove)
    assert gone.cleanup is not None
    assert [(a.contacts, a.label) for a in gone.cleanup.accounts] == [(count, LabelFate.theirs)] * 2
    assert gone.cleanup.accounts[0].summary() == f"removed {count} contacts; the label was the user's own and stays"
    for email in TARGETS:
        label = group_named(google, email, "Partners")
        assert label is not None and set(untagged_in(google, email, label)) == set(released_etags[email])
        assert not tagged(google, email, again)


def test_a_keep_that_stops_half_way_is_finished_by_the_next_delete_as_first_chosen(
    google: Google, rt: Runtime
) -> None:
    service = JobService(rt)
    create_job(rt, google, *(f"email:{e}" for e in TARGETS))
    service.run("Partners")
    uid = service.find("Partners").uid
    google.handle.control.inject_fault("people.people.batchUpdateContacts", count=50, code=403,
                                       user="zoe@example.com")

    first = service.delete("Partners", actor="test", contacts=ContactsChoice.keep)

    assert not first.deleted and first.cleanup is not None
    assert [(a.email, a.failed) for a in first.cleanup.accounts] == [("bob@example.com", False),
                                                                      ("zoe@example.com", True)]
    assert first.cleanup.accounts[1].summary().startswith("could not be released: forbidden")
    job = service.find("Partners")
    assert job.deleting and job.keep_contacts and not job.enabled
    assert not tagged(google, "bob@example.com", uid) and tagged(google, "zoe@example.com", uid)
    with pytest.raises(JobInputError) as changed:  # zoe's contacts would be removed, bob's were released
        service.delete("Partners", actor="test", contacts=ContactsChoice.remove)
    assert changed.value.field == "contacts" and "keeps its contacts" in changed.value.message

    google.handle.control.clear_faults()
    second = service.delete("Partners", actor="test", contacts=None)
    assert second.deleted and second.cleanup is not None and second.cleanup.kept
    assert [(a.email, a.contacts) for a in second.cleanup.accounts] == [
        ("zoe@example.com", google.seed.contact_count)]
    label = group_named(google, "zoe@example.com", "Partners")
    assert label is not None and len(untagged_in(google, "zoe@example.com", label)) == google.seed.contact_count


def test_a_sync_made_after_another_was_deleted_shares_nothing_with_it(google: Google, db_url: str) -> None:
    """`jobs create Alpha; jobs delete Alpha; jobs create Beta; jobs show Beta`: Beta's history, links, alerts
    and tags are its own (SQLite used to give Beta Alpha's id, and so Alpha's history)."""
    rt = make_runtime(google, db_url)
    service = JobService(rt)
    create_job(rt, google, "email:bob@example.com", name="Alpha")
    service.run("Alpha")
    alpha = service.find("Alpha")
    assert alpha.id is not None
    with store.session_scope(rt.db) as session:
        alert = store.add_alert(session, job_id=alpha.id, key="user:1", kind=AlertKind.target_missing,
                                state=AlertState.open, subject="gone@example.com")
        alert_id = alert.id
    assert alert_id is not None
    # An older sync whose delete (before deletes asked) left its tagged contacts at bob under another label.
    create_job(rt, google, "email:bob@example.com", name="Old", target_group_name="Old partners")
    service.run("Old")
    old = service.find("Old")
    assert old.id is not None
    with store.session_scope(rt.db) as session:
        store.delete_job(session, job_id=old.id)
    left_by_old = {rn: p["etag"] for rn, p in tagged(google, "bob@example.com", old.uid).items()}
    assert len(left_by_old) == google.seed.contact_count
    released = set(tagged(google, "bob@example.com", alpha.uid))
    service.delete("Alpha", actor="cli", contacts=ContactsChoice.keep)

    create_job(rt, google, "email:bob@example.com", name="Beta")  # same label, same account
    beta = service.find("Beta")
    assert beta.id is not None and beta.id > max(alpha.id, old.id) and beta.uid not in (alpha.uid, old.uid)
    assert [e.action for e in service.detail("Beta").history] == ["create"]
    assert service.alert_of(beta.id, alert_id) is None and not service.has_open_alerts(beta)
    bob = user_id(google, "bob@example.com")
    with store.session_scope(rt.db) as session:
        assert store.links_for_target(session, job_id=beta.id, target_user_id=bob) == {}

    report = service.run("Beta")
    assert by_email(report)["bob@example.com"].created == google.seed.contact_count
    mine = tagged(google, "bob@example.com", beta.uid)
    with store.session_scope(rt.db) as session:
        linked = {link.target_resource_name
                  for link in store.links_for_target(session, job_id=beta.id, target_user_id=bob).values()}
    assert linked == set(mine) and not linked & (released | set(left_by_old))
    assert {rn: p["etag"] for rn, p in tagged(google, "bob@example.com", old.uid).items()} == left_by_old
    assert not tagged(google, "bob@example.com", alpha.uid)
    assert [e.action for e in service.detail("Beta").history] == ["create"]
