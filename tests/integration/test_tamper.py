"""A target's hands on what a sync wrote are put back by the next run, whatever they did: the label renamed,
deleted or emptied, our contacts edited, deleted or taken out of it. Reads are counted at the emulator: a
target in the steady state costs two (its incremental contact read and one read of the label)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from sync_core.domain.models import TargetStatus
from sync_core.runtime import Runtime
from sync_core.service import JobEdit, JobService
from tests.conftest import Google
from tests.integration.helpers import (
    as_user,
    by_email,
    contacts,
    create_job,
    group_named,
    groups_of,
    ours,
    source_keys,
)

TARGET = "bob@example.com"
READS = frozenset({
    "people.people.connections.list", "people.people.get", "people.people.getBatchGet",
    "people.contactGroups.get", "people.contactGroups.list", "people.contactGroups.batchGet",
})


def calls_at(google: Google, email: str) -> dict[str, int]:
    """The calls the emulator served as `email` since the last reset, by method."""
    by_user = google.handle.control.calls()["byMethodAndUser"]
    return {method: users[email] for method, users in by_user.items() if email in users}


def reads(calls: dict[str, int]) -> int:
    return sum(n for method, n in calls.items() if method in READS)


def writes(calls: dict[str, int]) -> dict[str, int]:
    return {method: n for method, n in calls.items() if method not in READS}


def label(google: Google) -> dict[str, Any]:
    group = group_named(google, TARGET, google.seed.source_group_name)
    assert group is not None, "the label is there under the job's name"
    return group


def steady_run(rt: Runtime, google: Google) -> dict[str, int]:
    """A run that finds the target in sync: what it cost there."""
    google.handle.control.reset_calls()
    report = rt.engine.run("Partners")
    t = by_email(report)[TARGET]
    assert t.status is TargetStatus.ok and (t.created, t.updated, t.deleted) == (0, 0, 0), t
    return calls_at(google, TARGET)


def as_the_source(google: Google) -> None:
    """Every contact of ours is there, in the label, with the source's content."""
    group = label(google)
    held = ours(google, TARGET)
    assert set(held) == source_keys(google)
    assert all(group["resourceName"] in groups_of(p) for p in held.values())
    source = contacts(google, google.seed.source_email)
    given = lambda person: [n.get("givenName") for n in person.get("names", [])]  # noqa: E731
    assert all(given(held[k]) == given(source[k]) for k in held)


def rename_label(rt: Runtime, google: Google) -> None:
    group = label(google)
    as_user(rt, TARGET).contactGroups().update(
        resourceName=group["resourceName"],
        body={"contactGroup": {"etag": group["etag"], "name": "Mine now"}, "updateGroupFields": "name"},
    ).execute()


def delete_label(rt: Runtime, google: Google) -> None:
    as_user(rt, TARGET).contactGroups().delete(resourceName=label(google)["resourceName"]).execute()


def delete_label_and_its_contacts(rt: Runtime, google: Google) -> None:
    as_user(rt, TARGET).contactGroups().delete(
        resourceName=label(google)["resourceName"], deleteContacts=True
    ).execute()


def empty_label(rt: Runtime, google: Google) -> None:
    """Every contact taken out of the label (they stay in My Contacts)."""
    names = [p["resourceName"] for p in ours(google, TARGET).values()]
    as_user(rt, TARGET).contactGroups().members().modify(
        resourceName=label(google)["resourceName"], body={"resourceNamesToRemove": names}
    ).execute()


def take_one_out_of_label(rt: Runtime, google: Google) -> None:
    one = ours(google, TARGET)[sorted(ours(google, TARGET))[0]]
    as_user(rt, TARGET).contactGroups().members().modify(
        resourceName=label(google)["resourceName"], body={"resourceNamesToRemove": [one["resourceName"]]}
    ).execute()


def edit_contacts(rt: Runtime, google: Google) -> None:
    people = as_user(rt, TARGET).people()
    for key in sorted(ours(google, TARGET))[:3]:
        contact = ours(google, TARGET)[key]
        people.updateContact(resourceName=contact["resourceName"], updatePersonFields="names",
                             body={"etag": contact["etag"], "names": [{"givenName": "Tampered"}]}).execute()


def delete_contacts(rt: Runtime, google: Google) -> None:
    people = as_user(rt, TARGET).people()
    for key in sorted(ours(google, TARGET))[:3]:
        people.deleteContact(resourceName=ours(google, TARGET)[key]["resourceName"]).execute()


@pytest.mark.parametrize(
    ("tamper", "reads_to_repair"),
    [
        # (what the target does, the most reads the run that puts it back may make at the target)
        (rename_label, 2),  # seen by the label read and renamed back: no full read
        (delete_label, 4),  # the label read finds it gone: a full read (contacts, labels) recreates it
        (delete_label_and_its_contacts, 4),
        # The contacts' changes come with the sync token, first as an echo check (names, etags and tags: not
        # only our echoes), then in full; their bodies are read once (200 a call).
        (empty_label, 4),
        (take_one_out_of_label, 4),
        (edit_contacts, 4),
        (delete_contacts, 4),  # the creates ask the account's size (the 25,000-contact limit)
    ],
)
def test_the_next_run_puts_back_what_the_target_did(
    google: Google, rt: Runtime, tamper: Callable[[Runtime, Google], None], reads_to_repair: int
) -> None:
    create_job(rt, google, f"email:{TARGET}", add_to_my_contacts=True)
    rt.engine.run("Partners")
    rt.engine.run("Partners")  # now on sync tokens, the echo of the first run seen
    before = steady_run(rt, google)
    assert reads(before) == 2 and writes(before) == {}, before
    assert before.get("people.contactGroups.get") == 1

    tamper(rt, google)
    google.handle.control.reset_calls()
    report = rt.engine.run("Partners")
    assert by_email(report)[TARGET].status is TargetStatus.ok, report
    repair = calls_at(google, TARGET)
    assert reads(repair) <= reads_to_repair, repair
    as_the_source(google)

    after = steady_run(rt, google)  # and the run after is steady again, at two reads
    assert reads(after) == 2 and writes(after) == {}, after


def label_renamed_after_a_steady_run(rt: Runtime, google: Google) -> None:
    """The job synced to TARGET (and steady), then the target renames its label; call counts start here."""
    create_job(rt, google, f"email:{TARGET}")
    rt.engine.run("Partners")
    rt.engine.run("Partners")
    rename_label(rt, google)
    google.handle.control.reset_calls()


def test_a_renamed_label_costs_one_rename_and_no_full_read(google: Google, rt: Runtime) -> None:
    label_renamed_after_a_steady_run(rt, google)
    rt.engine.run("Partners")
    repair = calls_at(google, TARGET)
    assert repair == {"people.people.connections.list": 1, "people.contactGroups.get": 1,
                      "people.contactGroups.update": 1}, repair
    assert group_named(google, TARGET, "Mine now") is None
    as_the_source(google)


def test_a_dry_run_reports_a_renamed_label_but_leaves_it(google: Google, rt: Runtime) -> None:
    label_renamed_after_a_steady_run(rt, google)
    rt.engine.run("Partners", dry_run=True)
    assert writes(calls_at(google, TARGET)) == {}
    assert group_named(google, TARGET, "Mine now") is not None


def test_a_label_emptied_where_the_sync_token_shows_nothing_is_read_in_full(google: Google, rt: Runtime) -> None:
    """Google's incremental reads may lag: the label's member count, not the read, tells the run to look."""
    create_job(rt, google, f"email:{TARGET}", add_to_my_contacts=True)
    rt.engine.run("Partners")
    rt.engine.run("Partners")
    group_rn = label(google)["resourceName"]
    user = google.ws.user_by_key(TARGET)
    assert user is not None
    with google.ws.lock:  # behind the API's back: no etag change, nothing in the sync log
        for person in ours(google, TARGET).values():
            google.ws.people_of(user["id"])["contacts"][person["resourceName"]]["memberships"] = [
                m for m in person["memberships"]
                if (m.get("contactGroupMembership") or {}).get("contactGroupResourceName") != group_rn
            ]
    google.handle.control.reset_calls()
    report = rt.engine.run("Partners")
    t = by_email(report)[TARGET]
    assert t.status is TargetStatus.ok and t.updated == google.seed.contact_count, t
    assert calls_at(google, TARGET).get("people.contactGroups.list") == 1  # the full read's look at the labels
    as_the_source(google)


def test_a_label_of_their_own_made_under_our_name_is_a_conflict_until_the_sync_is_renamed(
    google: Google, rt: Runtime
) -> None:
    label_renamed_after_a_steady_run(rt, google)  # ours is "Mine now"
    theirs = as_user(rt, TARGET).contactGroups().create(
        body={"contactGroup": {"name": google.seed.source_group_name}}).execute()
    google.handle.control.reset_calls()
    report = rt.engine.run("Partners")
    t = by_email(report)[TARGET]
    assert t.status is TargetStatus.conflict, t
    assert "renamed the sync's label to 'Mine now' and has a label of its own named 'Partners'" in t.reason
    assert set(writes(calls_at(google, TARGET))) == {"people.contactGroups.update"}  # the refused rename
    assert group_named(google, TARGET, "Mine now") is not None

    JobService(rt).edit("Partners", JobEdit(target_group_name="Partners (synced)"), actor="t")
    report = rt.engine.run("Partners")
    assert by_email(report)[TARGET].status is TargetStatus.ok
    ours_now = group_named(google, TARGET, "Partners (synced)")
    assert ours_now is not None and group_named(google, TARGET, "Mine now") is None
    assert set(ours(google, TARGET)) == source_keys(google)
    assert all(ours_now["resourceName"] in groups_of(p) for p in ours(google, TARGET).values())
    kept = group_named(google, TARGET, google.seed.source_group_name)
    assert kept is not None and kept["resourceName"] == theirs["resourceName"], "their label is left alone"
    assert not kept.get("memberCount")


def test_a_label_of_the_targets_named_like_ours_in_another_case_is_used_as_it_is(
    google: Google, rt: Runtime
) -> None:
    """Google compares label names without case: their "partners" is the label a "Partners" sync writes to."""
    theirs = as_user(rt, TARGET).contactGroups().create(body={"contactGroup": {"name": "partners"}}).execute()
    create_job(rt, google, f"email:{TARGET}")
    report = rt.engine.run("Partners")
    assert by_email(report)[TARGET].status is TargetStatus.ok, report
    kept = group_named(google, TARGET, "partners")
    assert kept is not None and kept["resourceName"] == theirs["resourceName"], "not renamed"
    assert all(theirs["resourceName"] in groups_of(p) for p in ours(google, TARGET).values())
    assert set(ours(google, TARGET)) == source_keys(google)
    rt.engine.run("Partners")  # on sync tokens now: the label read finds it as they named it, and leaves it
    google.handle.control.reset_calls()
    assert writes(steady_run(rt, google)) == {}
    assert group_named(google, TARGET, "partners") is not None
