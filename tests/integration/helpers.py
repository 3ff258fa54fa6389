"""What the integration tests share: a `Runtime` on the emulator, a job made the way an admin makes one,
and readers of the emulated accounts (what a target holds, what the source group holds). The `rt` fixture
that uses them is in tests/integration/conftest.py; tests elsewhere (tests/slack, tests/scheduler) import
from here."""

from __future__ import annotations

from typing import Any

from sync_core.domain.reports import RunReport, TargetReport
from sync_core.runtime import Runtime
from sync_core.service import PersonalJobSpec
from sync_core.service.create import create_personal_job
from sync_core.settings import load_settings
from tests.conftest import Google

JSON = dict[str, Any]
TAG = "contactsync:"
SALES_TARGETS = ("bob@example.com", "carol@example.com", "zoe@example.com", "lilei@example.org")


def make_runtime(google: Google, db_url: str, **extra: Any) -> Runtime:
    # A 429 blocks its metric for a quota window: with the emulator's faults, short windows keep tests fast.
    extra.setdefault("CONTACTSYNC_QUOTA_WINDOW_SECONDS", 0.05)
    settings = load_settings(
        DATABASE_URL=db_url,
        GOOGLE_APPLICATION_CREDENTIALS=str(google.handle.credentials_file),
        CONTACTSYNC_ADMIN_EMAIL=google.seed.admin_email,
        CONTACTSYNC_GOOGLE_API_ENDPOINT=google.handle.url,
        CONTACTSYNC_RETRY_MAX_WAIT_SECONDS=0.01,
        **extra,
    )
    return Runtime(settings)


def create_job(rt: Runtime, google: Google, *targets: str, **kw: Any) -> str:
    """A Personal Sync of the seed's source group to `targets` (named "Partners" unless `name=`); its name."""
    spec = PersonalJobSpec(
        name=kw.pop("name", "Partners"),
        source_email=google.seed.source_email,
        group_name=google.seed.source_group_name,
        targets=list(targets),
        **kw,
    )
    return create_personal_job(rt.db, spec=spec, directory=rt.directory(), people_for=rt.people).name


# --- reading the emulated accounts ------------------------------------------------------------------
def user_id(google: Google, email: str) -> str:
    user = google.ws.user_by_key(email)
    assert user is not None, email
    return str(user["id"])


def contacts(google: Google, email: str) -> dict[str, JSON]:
    return dict(google.ws.people_of(user_id(google, email))["contacts"])


def ours(google: Google, email: str) -> dict[str, JSON]:
    """The target's contacts that carry a ContactSync tag, keyed by the source resourceName."""
    found: dict[str, JSON] = {}
    for person in contacts(google, email).values():
        tags = [d["value"] for d in person.get("clientData", []) if d["key"].startswith(TAG)]
        if tags:
            assert tags[0] not in found, f"duplicate contact for {tags[0]} at {email}"
            found[tags[0]] = person
    return found


def given_name(person: JSON) -> str | None:
    """The person's first given name, or None: the seed holds email-only contacts, and which contact sorts
    first changes from run to run (resource names are minted at random)."""
    names = person.get("names") or [{}]
    return names[0].get("givenName")


def source_keys(google: Google) -> set[str]:
    group = google.seed.source_group_resource_name
    return {
        rn
        for rn, p in contacts(google, google.seed.source_email).items()
        if any(m["contactGroupMembership"]["contactGroupResourceName"] == group for m in p.get("memberships", []))
    }


def groups_of(person: JSON) -> set[str]:
    return {m["contactGroupMembership"]["contactGroupResourceName"] for m in person.get("memberships", [])}


def group_named(google: Google, email: str, name: str) -> JSON | None:
    for g in google.ws.people_of(user_id(google, email))["groups"].values():
        if g.get("name") == name:
            return dict(g)
    return None


def by_email(report: RunReport) -> dict[str, TargetReport]:
    return {t.email: t for t in report.targets}


def as_user(rt: Runtime, email: str) -> Any:
    """A People API client acting as a user (what the user does in Google Contacts)."""
    return rt.google.build("people", "v1", subject=email, scopes=["https://www.googleapis.com/auth/contacts"])
