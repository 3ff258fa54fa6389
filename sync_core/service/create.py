"""Creating jobs: every field checked (names, schedule, Google) before one transaction saves the job."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import Engine as DbEngine

from sync_core import store
from sync_core.domain.directory_fields import parse_mapping
from sync_core.domain.models import JobKind, SelectorCreate, SyncJob, SyncJobCreate
from sync_core.google.directory import DirectoryClient
from sync_core.google.errors import InvalidGrant
from sync_core.google.people import PeopleClient
from sync_core.kinds import typed
from sync_core.run.directory_source import read_directory_source
from sync_core.run.source import SourceFailure
from sync_core.run.targets import EMAIL_RE
from sync_core.service import rules
from sync_core.service.checks import (
    DIRECTORY_HAS_NO_EDITORS,
    active_source_user,
    check_editors,
    check_ous,
    check_selectors,
    find_source_group,
    parse_targets,
    require_someone,
    resolve_rows,
)
from sync_core.service.errors import JobInputError
from sync_core.service.label_owner import check_label_is_free
from sync_core.service.specs import DirectoryJobSpec, PersonalJobSpec


@dataclass(frozen=True)
class NewJob:
    """A job checked and ready to save (nothing saved yet): what a request shows, and what approving it saves."""

    job_in: SyncJobCreate
    rows: list[SelectorCreate]
    detail: Mapping[str, object]
    reach: int  # the accounts its targets reach now
    editors: list[SelectorCreate] = field(default_factory=list)  # who may edit the label (a Personal Sync)

    def save(self, db: DbEngine, *, created_by: str) -> SyncJob:
        return _save_new_job(db, self.job_in, self.rows, created_by=created_by, detail=self.detail,
                             editors=self.editors)


def create_personal_job(
    db: DbEngine,
    *,
    spec: PersonalJobSpec,
    directory: DirectoryClient,
    people_for: Callable[[str], PeopleClient],
) -> SyncJob:
    return check_personal_job(db, spec=spec, directory=directory, people_for=people_for).save(
        db, created_by=spec.created_by)


def check_personal_job(
    db: DbEngine,
    *,
    spec: PersonalJobSpec,
    directory: DirectoryClient,
    people_for: Callable[[str], PeopleClient],
) -> NewJob:
    """Every check of `create_personal_job`; nothing is saved."""
    name, schedule = _new_name_and_schedule(db, spec.name, spec.schedule)
    alert_channel = rules.channel(spec.alert_channel)
    description = rules.description(spec.description)
    field_columns = rules.rule_columns(rules.field_rules(spec.fields, spec.keep_target_fields, spec.match_existing))
    # Left out, the targets' group is named like the source's; given, it must be a usable name (an empty
    # one is a mistake, not a request for the default).
    target_group_name = rules.label_name(spec.target_group_name) if spec.target_group_name is not None else None
    if not EMAIL_RE.match(spec.source_email.strip()):
        raise JobInputError("source", f"{spec.source_email!r} is not an email address")
    selectors = parse_targets(spec.targets)

    source = active_source_user(directory, spec.source_email)
    source_email = str(source["primaryEmail"]).lower()
    try:
        group = find_source_group(people_for(source_email), spec.group_name, owner=source_email)
    except InvalidGrant:
        raise JobInputError("source", f"Google refused to act as {source_email} (domain-wide delegation?)") from None
    rows = check_selectors(directory, selectors)
    resolution = resolve_rows(directory, rows, source_user_id=source["id"])
    editors = check_editors(directory, spec.editors)
    require_someone(resolution, rows, allow_empty=spec.allow_empty)
    target_group_name = target_group_name or group["name"]
    check_label_is_free(db, directory, label=target_group_name, selectors=[*rows, *editors],
                        source_user_id=source["id"])

    job_in = SyncJobCreate(
        name=name,
        kind=JobKind.personal,
        source_user_id=source["id"],
        source_email=source_email,
        source_group_resource_name=group["resourceName"],
        source_group_name=group["name"],
        target_group_name=target_group_name,
        add_to_my_contacts=spec.add_to_my_contacts,
        description=description,
        schedule=schedule,
        alert_channel=alert_channel,
        opt_out=spec.opt_out,
        joinable=spec.joinable,
        **field_columns,  # type: ignore[arg-type]
        editors_can_delete=spec.editors_can_delete,
    )
    detail: dict[str, object] = {"source": source_email, "group": group["name"],
                                 "targets": [s.label for s in selectors]}
    if editors:
        detail["editors"] = [typed(e.kind.value, e.value) for e in editors]
        detail["editors_can_delete"] = spec.editors_can_delete
    return NewJob(job_in, rows, detail, reach=len(resolution.reachable), editors=editors)


def create_directory_job(
    db: DbEngine, *, spec: DirectoryJobSpec, directory: DirectoryClient, max_contacts: int
) -> SyncJob:
    return check_directory_job(db, spec=spec, directory=directory, max_contacts=max_contacts).save(
        db, created_by=spec.created_by)


def check_directory_job(
    db: DbEngine, *, spec: DirectoryJobSpec, directory: DirectoryClient, max_contacts: int
) -> NewJob:
    """A Directory Sync: the users of `domains` (within the OUs asked) become contacts at every target."""
    if spec.editors:
        raise JobInputError("editors", DIRECTORY_HAS_NO_EDITORS)
    name, schedule = _new_name_and_schedule(db, spec.name, spec.schedule)
    alert_channel = rules.channel(spec.alert_channel)
    description = rules.description(spec.description)
    field_columns = rules.rule_columns(rules.field_rules(spec.fields, spec.keep_target_fields, spec.match_existing))
    target_group_name = rules.label_name(spec.target_group_name)
    domains = sorted({d.strip().lower() for d in spec.domains if d.strip()})
    if not domains:
        raise JobInputError("domains", "pick at least one of the Workspace's domains")
    known = {str(d.get("domainName")).lower() for d in directory.list_domains()}
    unknown = [d for d in domains if d not in known]
    if unknown:
        raise JobInputError(
            "domains", f"{', '.join(unknown)} is not one of this Workspace's domains ({', '.join(sorted(known))})"
        )
    include = check_ous(directory, spec.include_ous, "include_ous")
    exclude = check_ous(directory, spec.exclude_ous, "exclude_ous")
    rules.units_apart(include, exclude)
    mapping = rules.directory_fields(spec.directory_fields, directory.list_schemas)
    selectors = parse_targets(spec.targets)
    rows = check_selectors(directory, selectors)
    resolution = resolve_rows(directory, rows, source_user_id=None)
    require_someone(resolution, rows, allow_empty=spec.allow_empty)
    try:
        count = len(
            read_directory_source(
                directory,
                domains=domains,
                include_ous=include,
                exclude_ous=exclude,
                include_aliases=False,
                max_contacts=max_contacts,
                rules=parse_mapping(mapping),
            ).items
        )
    except SourceFailure as failure:
        raise JobInputError("domains", failure.reason) from None
    check_label_is_free(db, directory, label=spec.target_group_name.strip(), selectors=rows)

    job_in = SyncJobCreate(
        name=name,
        kind=JobKind.directory,
        target_group_name=target_group_name,
        add_to_my_contacts=spec.add_to_my_contacts,
        description=description,
        directory_domains=domains,
        include_ous=include,
        exclude_ous=exclude,
        include_self=spec.include_self,
        include_aliases=spec.include_aliases,
        directory_fields=mapping,
        include_shared_contacts=spec.include_shared_contacts,
        schedule=schedule,
        alert_channel=alert_channel,
        opt_out=spec.opt_out,
        joinable=spec.joinable,
        **field_columns,  # type: ignore[arg-type]
    )
    detail: dict[str, object] = {"domains": domains, "users": count, "targets": [s.label for s in selectors]}
    if mapping:
        detail["directory_fields"] = mapping
    if spec.include_shared_contacts:
        detail["shared_contacts"] = True
    return NewJob(job_in, rows, detail, reach=len(resolution.reachable))


def _new_name_and_schedule(db: DbEngine, name: str, schedule: str) -> tuple[str, str]:
    """A new job's name (valid and free, ignoring case) and normalised schedule, or the field error."""
    name = rules.job_name(name)
    with store.session_scope(db) as session:
        rules.check_name_free(name, store.job_names(session))
    return name, rules.schedule(schedule)


def _save_new_job(
    db: DbEngine,
    job_in: SyncJobCreate,
    rows: list[SelectorCreate],
    *,
    created_by: str,
    detail: Mapping[str, object],
    editors: list[SelectorCreate] | None = None,
) -> SyncJob:
    with store.session_scope(db) as session:
        try:
            job = store.create_job(session, job_in=job_in, created_by=created_by)
        except store.DuplicateJobName:  # created by someone else since we checked
            raise JobInputError("name", f"a sync named {job_in.name!r} already exists") from None
        assert job.id is not None
        store.set_selectors(session, job_id=job.id, selectors=rows)
        if editors:
            store.set_editors(session, job_id=job.id, selectors=editors)
        store.record_audit(
            session, actor=created_by, action="create", job_id=job.id, job_name=job.name, detail=dict(detail)
        )
    return job


