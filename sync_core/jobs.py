"""Creating and checking jobs against Google: what the CLI and the Slack modals both call.

Every refusal is a `JobInputError` naming the field it is about, so the CLI can print one line and
Slack can put the message under the right modal field.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Engine as DbEngine

from . import store
from .directory_source import read_directory_source
from .google.directory import DirectoryClient
from .google.errors import InvalidGrant
from .google.people import PeopleClient
from .models import JobKind, SelectorCreate, SelectorKind, SyncJob, SyncJobCreate, SyncJobUpdate
from .schedule import DEFAULT_SCHEDULE, ScheduleError, parse_schedule
from .source import SourceFailure
from .targets import EMAIL_RE, Selector, SelectorError, parse_selector


class JobInputError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass
class PersonalJobSpec:
    name: str
    source_email: str
    group_name: str
    targets: Sequence[str]
    target_group_name: str | None = None
    add_to_my_contacts: bool = False
    description: str = ""
    schedule: str = DEFAULT_SCHEDULE
    alert_channel: str | None = None
    created_by: str = "cli"
    extra: dict[str, str] = field(default_factory=dict)


def parse_targets(texts: Sequence[str]) -> list[Selector]:
    if not texts:
        raise JobInputError("targets", "a sync needs at least one target (e.g. --target group:sales@example.com)")
    try:
        return [parse_selector(t) for t in texts]
    except SelectorError as exc:
        raise JobInputError("targets", str(exc)) from None


def check_selectors(directory: DirectoryClient, selectors: Sequence[Selector]) -> list[SelectorCreate]:
    """Each selector must name something that exists now; email selectors get the user's id."""
    rows: list[SelectorCreate] = []
    roles: list[str] | None = None
    ous: set[str] | None = None
    domains: set[str] | None = None
    for s in selectors:
        resolved_id = resolved_email = None
        if s.kind == "email":
            user = directory.get_user(s.value)
            if user is None:
                raise JobInputError("targets", f"no user has the address {s.value}")
            resolved_id, resolved_email = user["id"], str(user["primaryEmail"]).lower()
        elif s.kind == "group" and directory.get_group(s.value) is None:
            raise JobInputError("targets", f"no Google Group has the address {s.value}")
        elif s.kind == "role":
            roles = roles if roles is not None else [str(r.get("roleName", "")) for r in directory.list_roles()]
            if s.value.lower() not in {r.lower() for r in roles}:
                raise JobInputError("targets", f"no admin role named {s.value!r} (roles: {', '.join(sorted(roles))})")
        elif s.kind == "orgunit":
            ous = ous if ous is not None else {"/"} | {str(o.get("orgUnitPath")) for o in directory.list_orgunits()}
            if s.value not in ous:
                raise JobInputError("targets", f"no organizational unit {s.value}")
        elif s.kind == "domain":
            domains = (
                domains if domains is not None else {str(d.get("domainName")).lower() for d in directory.list_domains()}
            )
            if s.value not in domains:
                raise JobInputError(
                    "targets",
                    f"{s.value} is not one of this Workspace's domains ({', '.join(sorted(domains))})",
                )
        rows.append(
            SelectorCreate(
                kind=SelectorKind(s.kind),
                value=s.value,
                resolved_user_id=resolved_id,
                resolved_email=resolved_email,
            )
        )
    return rows


def find_source_group(people: PeopleClient, name: str) -> dict[str, str]:
    groups = [g for g in people.list_groups() if g.get("groupType") == "USER_CONTACT_GROUP"]
    for g in groups:
        if str(g.get("name", "")).casefold() == name.strip().casefold():
            return {"resourceName": str(g["resourceName"]), "name": str(g["name"])}
    known = ", ".join(sorted(str(g.get("name")) for g in groups)) or "none"
    raise JobInputError("group", f"the source user has no contact group named {name!r} (groups: {known})")


def create_personal_job(
    db: DbEngine,
    *,
    spec: PersonalJobSpec,
    directory: DirectoryClient,
    people_for: Callable[[str], PeopleClient],
) -> SyncJob:
    name, schedule = _new_name_and_schedule(db, spec.name, spec.schedule)
    if not EMAIL_RE.match(spec.source_email.strip()):
        raise JobInputError("source", f"{spec.source_email!r} is not an email address")
    selectors = parse_targets(spec.targets)

    source = directory.get_user(spec.source_email.strip().lower())
    if source is None:
        raise JobInputError("source", f"no user has the address {spec.source_email}")
    if source.get("suspended") or source.get("archived"):
        raise JobInputError("source", f"the source user {source['primaryEmail']} is suspended")
    source_email = str(source["primaryEmail"]).lower()
    try:
        group = find_source_group(people_for(source_email), spec.group_name)
    except InvalidGrant:
        raise JobInputError("source", f"Google refused to act as {source_email} (domain-wide delegation?)") from None
    rows = check_selectors(directory, selectors)

    job_in = SyncJobCreate(
        name=name,
        kind=JobKind.personal,
        source_user_id=source["id"],
        source_email=source_email,
        source_group_resource_name=group["resourceName"],
        source_group_name=group["name"],
        target_group_name=(spec.target_group_name or "").strip() or group["name"],
        add_to_my_contacts=spec.add_to_my_contacts,
        description=spec.description,
        schedule=schedule,
        alert_channel=spec.alert_channel,
    )
    detail = {"source": source_email, "group": group["name"], "targets": [s.label for s in selectors]}
    return _save_new_job(db, job_in, rows, created_by=spec.created_by, detail=detail)


@dataclass
class DirectoryJobSpec:
    name: str
    domains: Sequence[str]
    targets: Sequence[str]
    include_ous: Sequence[str] = ()
    exclude_ous: Sequence[str] = ()
    target_group_name: str = "Directory"
    include_aliases: bool = False
    include_self: bool = False
    add_to_my_contacts: bool = False
    description: str = ""
    schedule: str = DEFAULT_SCHEDULE
    alert_channel: str | None = None
    created_by: str = "cli"


def _check_ous(directory: DirectoryClient, paths: Sequence[str], field: str) -> list[str]:
    known = {"/"} | {str(o.get("orgUnitPath")) for o in directory.list_orgunits()}
    clean = []
    for path in paths:
        path = path.strip().rstrip("/") or "/"
        if not path.startswith("/"):
            raise JobInputError(field, f"{path!r}: an organizational unit path starts with /")
        if path not in known:
            raise JobInputError(field, f"no organizational unit {path}")
        clean.append(path)
    return clean


def create_directory_job(
    db: DbEngine, *, spec: DirectoryJobSpec, directory: DirectoryClient, max_contacts: int
) -> SyncJob:
    """A Directory Sync: the users of `domains` (within the OUs asked) become contacts at every target."""
    name, schedule = _new_name_and_schedule(db, spec.name, spec.schedule)
    if not spec.target_group_name.strip():
        raise JobInputError("target_group_name", "the target group needs a name")
    domains = sorted({d.strip().lower() for d in spec.domains if d.strip()})
    if not domains:
        raise JobInputError("domains", "pick at least one of the Workspace's domains")
    known = {str(d.get("domainName")).lower() for d in directory.list_domains()}
    unknown = [d for d in domains if d not in known]
    if unknown:
        raise JobInputError(
            "domains", f"{', '.join(unknown)} is not one of this Workspace's domains ({', '.join(sorted(known))})"
        )
    include = _check_ous(directory, spec.include_ous, "include_ous")
    exclude = _check_ous(directory, spec.exclude_ous, "exclude_ous")
    selectors = parse_targets(spec.targets)
    rows = check_selectors(directory, selectors)
    try:
        count = len(
            read_directory_source(
                directory,
                domains=domains,
                include_ous=include,
                exclude_ous=exclude,
                include_aliases=False,
                max_contacts=max_contacts,
            )
        )
    except SourceFailure as failure:
        raise JobInputError("domains", failure.reason) from None

    job_in = SyncJobCreate(
        name=name,
        kind=JobKind.directory,
        target_group_name=spec.target_group_name.strip(),
        add_to_my_contacts=spec.add_to_my_contacts,
        description=spec.description,
        directory_domains=domains,
        include_ous=include,
        exclude_ous=exclude,
        include_self=spec.include_self,
        include_aliases=spec.include_aliases,
        schedule=schedule,
        alert_channel=spec.alert_channel,
    )
    detail = {"domains": domains, "users": count, "targets": [s.label for s in selectors]}
    return _save_new_job(db, job_in, rows, created_by=spec.created_by, detail=detail)


def _new_name_and_schedule(db: DbEngine, name: str, schedule: str) -> tuple[str, str]:
    """A new job's name (free) and normalised schedule, or the field error."""
    name = name.strip()
    if not name:
        raise JobInputError("name", "a sync needs a name")
    with store.session_scope(db) as session:
        if store.get_job_by_name(session, name=name) is not None:
            raise JobInputError("name", f"a sync named {name!r} already exists")
    try:
        return name, str(parse_schedule(schedule))
    except ScheduleError as exc:
        raise JobInputError("schedule", str(exc)) from None


def _save_new_job(
    db: DbEngine, job_in: SyncJobCreate, rows: list[SelectorCreate], *, created_by: str, detail: Mapping[str, object]
) -> SyncJob:
    with store.session_scope(db) as session:
        try:
            job = store.create_job(session, job_in=job_in, created_by=created_by)
        except store.DuplicateJobName:  # created by someone else since we checked
            raise JobInputError("name", f"a sync named {job_in.name!r} already exists") from None
        assert job.id is not None
        store.set_selectors(session, job_id=job.id, selectors=rows)
        store.record_audit(
            session, actor=created_by, action="create", job_id=job.id, job_name=job.name, detail=dict(detail)
        )
    return job


def find_job(db: DbEngine, name: str) -> SyncJob:
    with store.session_scope(db) as session:
        job = store.get_job_by_name(session, name=name.strip())
    if job is None:
        raise JobInputError("name", f"no sync named {name!r}")
    return job


def set_enabled(db: DbEngine, *, name: str, enabled: bool, actor: str) -> SyncJob:
    """Pause or resume a job; recorded in its history."""
    with store.session_scope(db) as session:
        job = store.get_job_by_name(session, name=name.strip())
        if job is None:
            raise JobInputError("name", f"no sync named {name!r}")
        assert job.id is not None
        if job.enabled != enabled:
            store.update_job(session, job=job, job_in=SyncJobUpdate(enabled=enabled))
            store.record_audit(
                session,
                actor=actor,
                action="resume" if enabled else "pause",
                job_id=job.id,
                job_name=job.name,
            )
        return job


@dataclass
class JobEdit:
    """What an admin may change on an existing job; None leaves a field as it is."""

    name: str | None = None
    target_group_name: str | None = None
    add_to_my_contacts: bool | None = None
    description: str | None = None
    schedule: str | None = None
    alert_channel: str | None = None
    targets: Sequence[str] | None = None
    source_email: str | None = None  # a new source user (e.g. after a rename): same contacts, no re-creation
    group_name: str | None = None
    domains: Sequence[str] | None = None  # Directory Sync only, as are the four below
    include_ous: Sequence[str] | None = None
    exclude_ous: Sequence[str] | None = None
    include_self: bool | None = None
    include_aliases: bool | None = None


def edit_job(
    db: DbEngine,
    *,
    name: str,
    edit: JobEdit,
    actor: str,
    directory: DirectoryClient,
    people_for: Callable[[str], PeopleClient],
) -> SyncJob:
    """Change a job in place: its runs, links and contacts stay (no contact is re-created).

    A change to what targets hold (group name, My Contacts, the source) makes the next run read every
    target in full, so the change reaches contacts that an incremental read would not show.
    """
    job = find_job(db, name)
    assert job.id is not None
    changes: dict[str, object] = {}
    if edit.name is not None and edit.name.strip() != job.name:
        new_name = edit.name.strip()
        if not new_name:
            raise JobInputError("name", "a sync needs a name")
        with store.session_scope(db) as session:
            if store.get_job_by_name(session, name=new_name) is not None:
                raise JobInputError("name", f"a sync named {new_name!r} already exists")
        changes["name"] = new_name
    if edit.schedule is not None:
        try:
            changes["schedule"] = str(parse_schedule(edit.schedule))
        except ScheduleError as exc:
            raise JobInputError("schedule", str(exc)) from None
    for attr in ("description", "alert_channel", "add_to_my_contacts"):
        value = getattr(edit, attr)
        if value is not None and value != getattr(job, attr):
            changes[attr] = value
    if edit.target_group_name is not None and edit.target_group_name.strip() != job.target_group_name:
        if not edit.target_group_name.strip():
            raise JobInputError("target_group_name", "the target group needs a name")
        changes["target_group_name"] = edit.target_group_name.strip()

    source_email = (job.source_email or "").lower()
    if edit.source_email is not None and edit.source_email.strip().lower() != source_email:
        source = directory.get_user(edit.source_email.strip().lower())
        if source is None:
            raise JobInputError("source", f"no user has the address {edit.source_email}")
        if source.get("suspended") or source.get("archived"):
            raise JobInputError("source", f"the source user {source['primaryEmail']} is suspended")
        source_email = str(source["primaryEmail"]).lower()
        changes["source_email"] = source_email
        if source["id"] != job.source_user_id:  # another person: a different set of contacts
            changes.update(source_user_id=source["id"], source_sync_token=None)
    if edit.group_name is not None and edit.group_name.strip().casefold() != (job.source_group_name or "").casefold():
        group = find_source_group(people_for(source_email), edit.group_name)
        changes.update(
            source_group_resource_name=group["resourceName"],
            source_group_name=group["name"],
            source_sync_token=None,
        )
    if job.kind is JobKind.directory:
        changes.update(_directory_changes(job, edit, directory))
    rows = check_selectors(directory, parse_targets(edit.targets)) if edit.targets is not None else None

    with store.session_scope(db) as session:
        fresh = store.get_job(session, job_id=job.id)
        if fresh is None:
            raise JobInputError("name", f"no sync named {name!r}")
        if changes:
            store.update_job(session, job=fresh, job_in=SyncJobUpdate.model_validate(changes))
        if rows is not None:
            store.set_selectors(session, job_id=job.id, selectors=rows)
        if changes.keys() & {
            "target_group_name",
            "add_to_my_contacts",
            "source_user_id",
            "source_group_resource_name",
        }:
            store.force_full_reads(session, job_id=job.id)
        detail = {k: v for k, v in changes.items() if k != "source_sync_token"}
        if rows is not None:
            detail["targets"] = [f"{r.kind.value}:{r.value}" for r in rows]
        store.record_audit(session, actor=actor, action="edit", job_id=job.id, job_name=fresh.name, detail=detail)
        return fresh


def _directory_changes(job: SyncJob, edit: JobEdit, directory: DirectoryClient) -> dict[str, object]:
    changes: dict[str, object] = {}
    if edit.domains is not None:
        domains = sorted({d.strip().lower() for d in edit.domains if d.strip()})
        known = {str(d.get("domainName")).lower() for d in directory.list_domains()}
        if not domains or any(d not in known for d in domains):
            raise JobInputError("domains", f"pick one or more of this Workspace's domains ({', '.join(sorted(known))})")
        changes["directory_domains"] = domains
    if edit.include_ous is not None:
        changes["include_ous"] = _check_ous(directory, edit.include_ous, "include_ous")
    if edit.exclude_ous is not None:
        changes["exclude_ous"] = _check_ous(directory, edit.exclude_ous, "exclude_ous")
    for attr in ("include_self", "include_aliases"):
        value = getattr(edit, attr)
        if value is not None and value != getattr(job, attr):
            changes[attr] = value
    return changes


def delete_job(db: DbEngine, *, name: str, actor: str) -> None:
    """Delete a job and its state (runs, links, targets). Its history (audit) stays."""
    with store.session_scope(db) as session:
        job = store.get_job_by_name(session, name=name.strip())
        if job is None:
            raise JobInputError("name", f"no sync named {name!r}")
        assert job.id is not None
        store.delete_job(session, job_id=job.id)
        store.record_audit(session, actor=actor, action="delete", job_id=job.id, job_name=job.name)
