"""Checks of the create/edit form's first step (details) before the targets are chosen; each problem is
(field, message).

Saving checks everything again (`create`, `changes`: they are the authority); these checks exist so an
admin hears about a bad name, source or schedule before choosing targets. Domains and units are checked
against the directory snapshot, the source user against Google.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Engine as DbEngine

from sync_core import store
from sync_core.domain.contacts import written_by_a_sync
from sync_core.google.directory import DirectoryClient
from sync_core.google.errors import GoogleError, InvalidGrant
from sync_core.google.people import PeopleClient
from sync_core.service import rules
from sync_core.service.directory_cache import DirectoryCache
from sync_core.service.errors import JobInputError


@dataclass(frozen=True)
class Details:
    """The first step's answers."""

    name: str
    schedule: str
    kind: str = "personal"  # or "directory"
    renaming_from: str | None = None  # an edit: the job's current name (keeping it is no clash)
    source_email: str | None = None
    group_name: str | None = None
    groups: Sequence[str] | None = None  # the source's contact groups, if already read
    target_group_name: str = ""
    domains: Sequence[str] = ()
    include_ous: Sequence[str] = ()
    exclude_ous: Sequence[str] = ()
    directory_fields: str = ""  # a Directory Sync's field mapping, as typed: 'SOURCE=TARGET,...'
    # Field rules (None: not on the form): the fields copied, those the targets keep, adoption by email.
    fields: Sequence[str] | None = None
    keep_target_fields: Sequence[str] = ()
    match_existing: str | None = None


@dataclass(frozen=True)
class DetailsCheck:
    errors: dict[str, str] = field(default_factory=dict)  # field -> message; empty when all is well
    schedule: str | None = None  # normalised, when it parses
    groups: list[str] | None = None  # the source's contact groups, when they were read here


def contact_groups(people: PeopleClient) -> list[str]:
    """The user's own contact groups (not the system ones, nor the labels syncs keep there), sorted by name."""
    own = [g for g in people.list_groups() if g.get("groupType") == "USER_CONTACT_GROUP" and not written_by_a_sync(g)]
    return sorted((str(g.get("name")) for g in own), key=str.casefold)


def check_details(
    details: Details,
    *,
    db: DbEngine,
    cache: DirectoryCache,
    directory: Callable[[], DirectoryClient],
    people_for: Callable[[str], PeopleClient],
) -> DetailsCheck:
    errors: dict[str, str] = {}
    try:
        name = rules.job_name(details.name)
        with store.session_scope(db) as session:
            clash = rules.name_clash(name, store.job_names(session), renaming_from=details.renaming_from)
        if clash is not None:
            errors["name"] = f"A sync named “{clash}” already exists."
    except JobInputError as exc:
        errors[exc.field] = _sentence(exc.message)
    schedule = None
    try:
        schedule = rules.schedule(details.schedule)
    except JobInputError as exc:
        errors[exc.field] = _sentence(exc.message)
    if details.target_group_name:  # optional for a Personal Sync (the source group's name), required below
        try:
            rules.label_name(details.target_group_name)
        except JobInputError as exc:
            errors[exc.field] = _sentence(exc.message)
    if details.fields is not None:
        try:
            rules.field_rules(details.fields, details.keep_target_fields, details.match_existing)
        except JobInputError as exc:
            # Adoption's one condition is a copied field: the error belongs on the fields' block.
            errors["fields" if exc.field == "match_existing" else exc.field] = _sentence(
                exc.message.replace("--match-existing email", "Adopting by email").replace("--fields", "the fields")
            )
    groups = None
    if details.kind == "directory":
        errors.update(_check_directory(cache, details))
        if details.directory_fields.strip():
            try:
                rules.directory_fields([details.directory_fields], lambda: directory().list_schemas())
            except JobInputError as exc:
                errors[exc.field] = _sentence(exc.message)
            except GoogleError as exc:
                errors["directory_fields"] = f"Google could not list the custom schemas: {exc.reason}"
    else:
        personal, groups = _check_personal(details, directory, people_for)
        errors.update(personal)
    return DetailsCheck(errors, schedule, groups)


def _sentence(message: str) -> str:
    """The rules speak in CLI lines; a form field shows a sentence."""
    return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")


def _check_directory(cache: DirectoryCache, details: Details) -> dict[str, str]:
    errors: dict[str, str] = {}
    snap = cache.snapshot
    unknown = [d for d in details.domains if d not in snap.domains]
    if not details.domains:
        errors["domains"] = "Choose at least one domain."
    elif unknown:
        errors["domains"] = f"Not a domain of this Workspace: {', '.join(unknown)}"
    for name in ("include_ous", "exclude_ous"):
        bad = [ou for ou in getattr(details, name) if ou not in snap.orgunits]
        if bad:
            errors[name] = f"No such organizational unit: {', '.join(bad)}"
    if "include_ous" not in errors and "exclude_ous" not in errors:
        try:
            rules.units_apart(details.include_ous, details.exclude_ous)
        except JobInputError as exc:
            errors[exc.field] = _sentence(exc.message)
    if not details.target_group_name:
        errors["target_group_name"] = "The target group needs a name."
    return errors


def _check_personal(
    details: Details, directory: Callable[[], DirectoryClient], people_for: Callable[[str], PeopleClient]
) -> tuple[dict[str, str], list[str] | None]:
    """(errors, the source's groups if they were read here)."""
    email = details.source_email
    if not email:
        return {"source": "Choose the source user."}, None
    groups = list(details.groups) if details.groups is not None else None
    read = None
    try:
        user = directory().get_user(email)
        if user is None:
            return {"source": f"No user has the address {email}."}, None
        if user.get("suspended") or user.get("archived"):
            return {"source": f"{user['primaryEmail']} is suspended; choose an active user."}, None
        if groups is None:
            groups = read = contact_groups(people_for(str(user["primaryEmail"])))
    except InvalidGrant:
        return {"source": f"Google refused to act as {email} (domain-wide delegation?)."}, None
    except GoogleError as exc:
        return {"source": f"Google could not be asked about {email}: {exc.reason}"}, None
    if not groups:
        return {"source": f"{email} has no contact groups; choose another source user."}, read
    if not details.group_name:
        return {"group": "Choose the contact group to share."}, read
    if details.group_name not in groups:
        return {"group": f"{email} has no contact group named “{details.group_name}”."}, read
    return {}, read
