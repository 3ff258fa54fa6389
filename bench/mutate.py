"""What users and admins do between runs, outside any measurement: S3's churn, through the People API as those
users (edit, add and delete contacts of the source group; edit or delete one synced contact at a target), and
S4's, through the emulator's directory controls (rename, hire and suspend users).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from emulator.control import EmulatorControl
from sync_core.google.auth import GoogleAuth

JSON = dict[str, Any]
CONTACTS_SCOPE = ["https://www.googleapis.com/auth/contacts"]


class Users:
    """People API clients acting as users of the emulated tenant (the bench's own, not the product's)."""

    def __init__(self, endpoint: str, credentials: Path) -> None:
        self.auth = GoogleAuth(credentials, endpoint)

    def people(self, email: str) -> Any:
        return self.auth.build("people", "v1", subject=email, scopes=CONTACTS_SCOPE).people()

    def groups(self, email: str) -> Any:
        return self.auth.build("people", "v1", subject=email, scopes=CONTACTS_SCOPE).contactGroups()


def all_contacts(people: Any, fields: str = "names,memberships,clientData") -> list[JSON]:
    found: list[JSON] = []
    token = None
    while True:
        page = people.connections().list(
            resourceName="people/me", personFields=fields, pageSize=1000, pageToken=token
        ).execute(num_retries=5)
        found.extend(page.get("connections", []))
        if not (token := page.get("nextPageToken")):
            return found


def churn_source(users: Users, email: str, group_name: str, *, edit: float, add: float, delete: float) -> JSON:
    """Edit, add and delete shares of the group's contacts; returns how many of each were done."""
    groups = users.groups(email).list(pageSize=1000).execute()
    group = next(g["resourceName"] for g in groups["contactGroups"] if g.get("name") == group_name)

    def member(p: JSON) -> bool:
        return any(m.get("contactGroupMembership", {}).get("contactGroupResourceName") == group
                   for m in p.get("memberships", []))

    people = users.people(email)
    members = sorted((p for p in all_contacts(people) if member(p)), key=lambda p: p["resourceName"])
    n = len(members)
    edits, deletes = members[: round(n * edit)], members[round(n * edit): round(n * edit) + round(n * delete)]
    for i, person in enumerate(edits):
        people.updateContact(resourceName=person["resourceName"], updatePersonFields="names,biographies", body={
            "etag": person["etag"], "names": [{"givenName": "Edited", "familyName": f"Contact {i}"}],
            "biographies": [{"value": f"edited by the bench ({i})", "contentType": "TEXT_PLAIN"}],
        }).execute(num_retries=5)
    for person in deletes:
        people.deleteContact(resourceName=person["resourceName"]).execute(num_retries=5)
    added = round(n * add)
    for i in range(added):
        people.createContact(body={
            "names": [{"givenName": "Added", "familyName": f"Contact {i}"}],
            "emailAddresses": [{"value": f"added{i}@new.test", "type": "work"}],
            "memberships": [{"contactGroupMembership": {"contactGroupResourceName": group}}],
        }).execute(num_retries=5)
    return {"edited": len(edits), "added": added, "deleted": len(deletes)}


def tamper_targets(users: Users, emails: Sequence[str], is_ours: Callable[[JSON], bool]) -> JSON:
    """At each target, edit (even positions) or delete (odd) the first synced contact `is_ours` picks."""
    done = {"edited": 0, "deleted": 0}
    for i, email in enumerate(emails):
        people = users.people(email)
        mine = sorted((p for p in all_contacts(people) if is_ours(p)), key=lambda p: p["resourceName"])
        if not mine:
            continue
        victim = mine[0]
        if i % 2 == 0:
            people.updateContact(resourceName=victim["resourceName"], updatePersonFields="names", body={
                "etag": victim["etag"], "names": [{"givenName": "Tampered", "familyName": email}],
            }).execute(num_retries=5)
            done["edited"] += 1
        else:
            people.deleteContact(resourceName=victim["resourceName"]).execute(num_retries=5)
            done["deleted"] += 1
    return done


def has_tag(prefix: str) -> Callable[[JSON], bool]:
    """Contacts carrying a clientData key that starts with `prefix` (ContactSync's or the naive script's tag)."""
    return lambda p: any(str(d.get("key", "")).startswith(prefix) for d in p.get("clientData", []))


def edit_one_source_contact(users: Users, email: str, group_name: str, marker: str) -> str:
    """Rename the first contact of the source group to `marker`; returns its resource name."""
    groups = users.groups(email).list(pageSize=1000).execute()
    group = next(g["resourceName"] for g in groups["contactGroups"] if g.get("name") == group_name)
    people = users.people(email)
    members = sorted((p for p in all_contacts(people) if any(
        m.get("contactGroupMembership", {}).get("contactGroupResourceName") == group for m in p.get("memberships", [])
    )), key=lambda p: p["resourceName"])
    person = members[0]
    people.updateContact(resourceName=person["resourceName"], updatePersonFields="names", body={
        "etag": person["etag"], "names": [{"givenName": marker, "familyName": "Watched"}],
    }).execute(num_retries=5)
    return str(person["resourceName"])


def targets_holding(users: Users, emails: Sequence[str], marker: str, is_ours: Callable[[JSON], bool]) -> int:
    """How many of the targets hold a contact of ours named `marker`."""
    return sum(
        1 for email in emails
        if any(is_ours(p) and any(n.get("givenName") == marker for n in p.get("names", []))
               for p in all_contacts(users.people(email)))
    )


def churn_directory(control: EmulatorControl, directory_users: int, *, rename: float, hire: float,
                    suspend: float) -> JSON:
    """Shares of the seed's generated users `user00000@..` renamed (even ones: a new name; odd ones: a new
    primary address, the old one kept as an alias), hired (new users) and suspended; returns how many of each.
    Every hundredth user is picked, from a different offset for each change, so none is picked twice."""
    def picked(share: float, offset: int) -> list[str]:
        count = round(directory_users * share)
        return [f"user{i:05d}@example.com" for i in range(offset, directory_users, 100)][:count]

    renamed = picked(rename, 1)
    for n, email in enumerate(renamed):
        if n % 2 == 0:
            control.update_user(email, {"name": {"givenName": "Renamed", "familyName": email.split("@")[0]}})
        else:
            control.rename_user(email, "renamed." + email)
    hires = round(directory_users * hire)
    for i in range(hires):
        control.add_user(f"hire{i:05d}@example.com", "Hire", f"{i:05d}", "/")
    suspended = picked(suspend, 2)
    for email in suspended:
        control.suspend_user(email)
    return {"renamed": len(renamed), "hired": hires, "suspended": len(suspended)}
