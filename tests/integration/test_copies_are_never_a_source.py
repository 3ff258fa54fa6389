"""Contacts a sync wrote are copies, never a source: two syncs pointed at each other's labels must not copy
each other's copies (one more generation every run, the address books growing without end)."""

from __future__ import annotations

import pytest

from sync_core.domain.models import TargetStatus
from sync_core.runtime import Runtime
from sync_core.service import JobInputError, PersonalJobSpec
from sync_core.service.create import create_personal_job
from tests.conftest import Google
from tests.integration.helpers import as_user, by_email, contacts, group_named, groups_of, user_id

FAMILY = "Close Family"


def create(rt: Runtime, name: str, source: str, target: str) -> None:
    spec = PersonalJobSpec(name=name, source_email=source, group_name=FAMILY, targets=[f"email:{target}"])
    create_personal_job(rt.db, spec=spec, directory=rt.directory(), people_for=rt.people)


def members(google: Google, email: str) -> int:
    group = group_named(google, email, FAMILY)
    assert group is not None
    return sum(1 for p in contacts(google, email).values() if group["resourceName"] in groups_of(p))


def test_a_label_a_sync_keeps_is_refused_as_a_source(google: Google, rt: Runtime) -> None:
    alice = google.seed.source_email
    create(rt, "Out", alice, "dave@example.com")
    rt.engine.run("Out")
    with pytest.raises(JobInputError) as refused:
        create(rt, "Back", "dave@example.com", alice)
    assert refused.value.field == "group"
    assert "is a label a sync keeps" in str(refused.value)


def test_two_syncs_feeding_each_others_labels_settle_and_never_grow(google: Google, rt: Runtime) -> None:
    alice = google.seed.source_email
    dave_people = as_user(rt, "dave@example.com")
    # dave has a "Close Family" of his own, with one contact: the first sync writes into it (it is his label,
    # not one a sync made), so it may be the second sync's source.
    own = dave_people.contactGroups().create(body={"contactGroup": {"name": FAMILY}}).execute()
    dave_people.people().createContact(body={
        "names": [{"givenName": "Dave's", "familyName": "Cousin"}],
        "memberships": [{"contactGroupMembership": {"contactGroupResourceName": own["resourceName"]}}],
    }).execute()
    alice_family = members(google, alice)

    create(rt, "Out", alice, "dave@example.com")
    create(rt, "Back", "dave@example.com", alice)
    for _ in range(3):
        assert by_email(rt.engine.run("Out"))["dave@example.com"].status is TargetStatus.ok
        assert by_email(rt.engine.run("Back"))[alice].status is TargetStatus.ok

    assert members(google, alice) == alice_family + 1, "alice gets dave's own contact, and nothing more"
    assert members(google, "dave@example.com") == 1 + alice_family, "dave gets alice's contacts once"
    assert len(contacts(google, alice)) == len(set(contacts(google, alice))), user_id(google, alice)
    again = by_email(rt.engine.run("Out"))["dave@example.com"]
    assert (again.created, again.updated, again.deleted) == (0, 0, 0)
