"""Directory Sync end to end: the Workspace directory of two domains as the source of every target's group."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sync_core.domain.models import RunStatus, TargetStatus
from sync_core.run import directory_source
from sync_core.runtime import Runtime
from sync_core.service import DirectoryJobSpec, JobEdit, JobInputError, JobService
from sync_core.service.changes import edit_job
from sync_core.service.create import create_directory_job
from tests.conftest import Google
from tests.integration.helpers import by_email, group_named, make_runtime, ours, user_id

JSON = dict[str, Any]
LISTED = {  # not suspended (frank), archived (grace) or hidden from the directory (heidi)
    "admin@example.com",
    "carol@example.com",
    "alice@example.com",
    "bob@example.com",
    "zoe@example.com",
    "dave@example.com",
    "erin@example.com",
    "lilei@example.org",
    "oscar@example.org",
}


def create(rt: Runtime, *targets: str, **kw: Any) -> str:
    spec = DirectoryJobSpec(
        name=kw.pop("name", "Staff"),
        domains=kw.pop("domains", ["example.com", "example.org"]),
        targets=list(targets),
        **kw,
    )
    return create_directory_job(
        rt.db, spec=spec, directory=rt.directory(), max_contacts=rt.settings.max_contacts_per_account
    ).name


def cards(google: Google, email: str) -> dict[str, JSON]:
    """The directory cards a target holds, keyed by the primary address they show."""
    return {p["emailAddresses"][0]["value"]: p for p in ours(google, email).values()}


def edit_user(google: Google, email: str, **fields: Any) -> None:
    with google.ws.lock:
        user = google.ws.user_by_key(email)
        assert user is not None
        user.update(fields)


def test_initial_directory_sync(google: Google, rt: Runtime) -> None:
    create(rt, "email:bob@example.com", "email:lilei@example.org")
    report = rt.engine.run("Staff")
    assert report.status is RunStatus.ok
    assert report.source_count == len(LISTED)
    bob = cards(google, "bob@example.com")
    assert set(bob) == LISTED - {"bob@example.com"}, "no own card by default"
    carol = bob["carol@example.com"]
    assert carol["names"][0]["givenName"] == "Carol"
    assert carol["organizations"][0]["title"] == "VP Sales"
    assert carol["phoneNumbers"][0]["type"] == "work"
    assert carol["addresses"][0]["city"] == "Springfield"
    (relation,) = bob["alice@example.com"]["relations"]
    assert (relation["person"], relation["type"]) == ("Carol Chief", "manager")
    assert group_named(google, "bob@example.com", "Directory") is not None
    assert set(cards(google, "lilei@example.org")) == LISTED - {"lilei@example.org"}


def test_new_hire_leaver_suspension_and_profile_change(google: Google, rt: Runtime) -> None:
    create(rt, "email:bob@example.com")
    rt.engine.run("Staff")
    google.handle.control.add_user("newbie@example.com", "New", "Hire", "/Engineering")
    google.handle.control.delete_user("oscar@example.org")
    google.handle.control.suspend_user("dave@example.com")
    edit_user(
        google,
        "erin@example.com",
        organizations=[{"name": "Example", "title": "Director of Engineering", "primary": True}],
        phones=[{"value": "+1 415 555 0199", "type": "mobile"}],
    )
    report = rt.engine.run("Staff")
    t = by_email(report)["bob@example.com"]
    assert (t.created, t.updated, t.deleted) == (1, 1, 2)
    bob = cards(google, "bob@example.com")
    assert "newbie@example.com" in bob
    assert "oscar@example.org" not in bob and "dave@example.com" not in bob
    assert bob["erin@example.com"]["organizations"][0]["title"] == "Director of Engineering"
    (phone,) = bob["erin@example.com"]["phoneNumbers"]
    assert (phone["value"], phone["type"]) == ("+1 415 555 0199", "mobile")


def test_rename_updates_the_card_in_place(google: Google, rt: Runtime) -> None:
    create(rt, "email:bob@example.com")
    rt.engine.run("Staff")
    before = {k: p["resourceName"] for k, p in ours(google, "bob@example.com").items()}
    carol_id = user_id(google, "carol@example.com")
    google.handle.control.rename_user("carol@example.com", "caroline@example.com")
    edit_user(
        google,
        "caroline@example.com",
        name={"givenName": "Caroline", "familyName": "Chief", "fullName": "Caroline Chief"},
    )
    report = rt.engine.run("Staff")
    t = by_email(report)["bob@example.com"]
    assert (t.created, t.updated, t.deleted) == (0, 2, 0), "Carol's card, and Alice's (her manager's name)"
    after = ours(google, "bob@example.com")
    assert after[user_id(google, "alice@example.com")]["relations"][0]["person"] == "Caroline Chief"
    assert {k: p["resourceName"] for k, p in after.items()} == before, "same contacts, no new resourceName"
    assert after[carol_id]["emailAddresses"][0]["value"] == "caroline@example.com"
    assert after[carol_id]["names"][0]["givenName"] == "Caroline"


def test_ou_include_and_exclude(google: Google, rt: Runtime) -> None:
    create(rt, "email:dave@example.com", include_ous=["/Sales"], exclude_ous=["/Sales/EMEA"])
    rt.engine.run("Staff")
    assert set(cards(google, "dave@example.com")) == {"carol@example.com", "alice@example.com"}


def test_self_card_only_when_asked(google: Google, rt: Runtime) -> None:
    create(rt, "email:bob@example.com", include_self=True)
    rt.engine.run("Staff")
    assert "bob@example.com" in cards(google, "bob@example.com")


def test_aliases_are_copied_when_asked(google: Google, rt: Runtime) -> None:
    create(rt, "email:bob@example.com", include_aliases=True, domains=["example.com"])
    rt.engine.run("Staff")
    alice = cards(google, "bob@example.com")["alice@example.com"]
    assert [e["value"] for e in alice["emailAddresses"]] == ["alice@example.com", "alice.source@example.com"]


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The primary address of each user whose card a run builds."""
    cards: list[str] = []
    real = directory_source.user_contact

    def counting(user: Any, **kw: Any) -> JSON:
        cards.append(str(user["primaryEmail"]))
        return real(user, **kw)

    monkeypatch.setattr(directory_source, "user_contact", counting)
    return cards


def test_a_run_builds_again_only_the_cards_of_users_who_changed(google: Google, rt: Runtime, built: list[str]) -> None:
    create(rt, "email:bob@example.com")
    rt.engine.run("Staff")
    assert set(built) == LISTED
    built.clear()
    report = rt.engine.run("Staff")
    assert built == [] and report.status is RunStatus.ok
    edit_user(google, "dave@example.com", phones=[{"value": "+1 415 555 0100", "type": "work"}])
    report = rt.engine.run("Staff")
    assert built == ["dave@example.com"]
    t = by_email(report)["bob@example.com"]
    assert (t.created, t.updated, t.deleted, t.unchanged) == (0, 1, 0, len(LISTED) - 2)
    assert cards(google, "bob@example.com")["dave@example.com"]["phoneNumbers"][0]["value"] == "+1 415 555 0100"


def test_a_changed_field_mapping_builds_every_card_again(google: Google, rt: Runtime, built: list[str]) -> None:
    create(rt, "email:bob@example.com")
    rt.engine.run("Staff")
    built.clear()
    edit_job(rt.db, name="Staff", edit=JobEdit(directory_fields=["title=nicknames"]), actor="test",
             directory=rt.directory(), people_for=rt.people)
    rt.engine.run("Staff")
    assert sorted(built) == sorted(LISTED)
    assert cards(google, "bob@example.com")["carol@example.com"]["nicknames"][0]["value"] == "VP Sales"


def test_steady_state_writes_nothing(google: Google, rt: Runtime) -> None:
    create(rt, "group:emea-sales@example.com")
    rt.engine.run("Staff")
    rt.engine.run("Staff")
    report = rt.engine.run("Staff")
    assert all(t.created == t.updated == t.deleted == 0 for t in report.targets)
    assert all(t.status is TargetStatus.ok for t in report.targets)


def test_over_the_account_limit_is_refused_at_creation_and_at_run_time(google: Google, tmp_path: Path) -> None:
    small = make_runtime(google, f"sqlite:///{tmp_path / 'cs.db'}", CONTACTSYNC_MAX_CONTACTS_PER_ACCOUNT=5)
    with pytest.raises(JobInputError) as err:
        create(small, "email:bob@example.com")
    assert err.value.field == "domains" and "more than 5 users" in err.value.message

    roomy = make_runtime(google, f"sqlite:///{tmp_path / 'cs.db'}", CONTACTSYNC_MAX_CONTACTS_PER_ACCOUNT=100)
    create(roomy, "email:bob@example.com")
    report = small.engine.run("Staff")
    assert report.status is RunStatus.failed and report.error_kind == "too_many_contacts"
    assert ours(google, "bob@example.com") == {}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"domains": ["elsewhere.com"]}, "domains"),
        ({"domains": []}, "domains"),
        ({"include_ous": ["/Nowhere"]}, "include_ous"),
        ({"exclude_ous": ["Sales"]}, "exclude_ous"),
        ({"include_ous": ["/Sales"], "exclude_ous": ["/Sales/"]}, "exclude_ous"),
        ({"target_group_name": " "}, "target_group_name"),
    ],
)
def test_bad_directory_job_input(google: Google, rt: Runtime, changes: JSON, field: str) -> None:
    with pytest.raises(JobInputError) as err:
        create(rt, "email:bob@example.com", **changes)
    assert err.value.field == field


def test_an_edit_may_not_exclude_an_included_unit(google: Google, rt: Runtime) -> None:
    """Checked against what the job keeps: excluding /Sales from a sync of /Sales/EMEA would match no one."""
    create(rt, "email:bob@example.com", include_ous=["/Sales/EMEA"])
    with pytest.raises(JobInputError) as err:
        JobService(rt).edit("Staff", JobEdit(exclude_ous=["/Sales"]), actor="test")
    assert (err.value.field, err.value.message) == (
        "exclude_ous", "/Sales/EMEA is inside the excluded /Sales: it would match no one")
    assert JobService(rt).find("Staff").exclude_ous == []


def test_directory_photos_reach_the_cards(google: Google, rt: Runtime) -> None:
    create(rt, "email:bob@example.com")
    rt.engine.run("Staff")
    bob = cards(google, "bob@example.com")
    photos = google.ws.people_of(user_id(google, "bob@example.com"))["photos"]
    with_photo = {email for email, card in bob.items() if card["resourceName"] in photos}
    assert with_photo == {"admin@example.com", "alice@example.com", "zoe@example.com"}
    google.handle.control.reset_calls()
    rt.engine.run("Staff")
    assert "people.people.updateContactPhoto" not in google.handle.control.calls()["byMethod"]
