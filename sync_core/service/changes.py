"""Changing existing jobs: find, pause/resume, edit in place, delete. Each change is recorded in the job's
history (audit)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Engine as DbEngine
from sqlmodel import Session

from sync_core import store
from sync_core.domain.models import JobKind, SelectorCreate, SyncJob, SyncJobUpdate, TargetSelector
from sync_core.google.directory import DirectoryClient
from sync_core.google.errors import InvalidGrant
from sync_core.google.people import PeopleClient
from sync_core.kinds import typed
from sync_core.run.engine import JobDeleting
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
from sync_core.service.edit_preview import EditPreview, edit_preview
from sync_core.service.errors import JobInputError, JobNotFound, RemovalNotConfirmed
from sync_core.service.label_owner import check_label_is_free
from sync_core.service.specs import JobEdit


def _job_named(session: Session, name: str) -> SyncJob:
    job = store.get_job_by_name(session, name=name.strip())
    if job is None:
        raise JobNotFound(name)
    assert job.id is not None
    return job


def find_job(db: DbEngine, name: str) -> SyncJob:
    with store.session_scope(db) as session:
        return _job_named(session, name)


def refuse_if_deleting(job: SyncJob) -> None:
    """A job being deleted only waits for its delete to be retried: it is not resumed nor changed."""
    if job.deleting:
        raise JobInputError("name", str(JobDeleting(job.name)))  # worded once, as a run refused is


@dataclass(frozen=True)
class EnabledChange:
    """What a pause or resume did: `changed` is False when the job already was so (nothing recorded)."""

    job: SyncJob
    changed: bool


def set_enabled(db: DbEngine, *, name: str, enabled: bool, actor: str) -> EnabledChange:
    """Pause or resume a job; recorded in its history when it changes anything."""
    with store.session_scope(db) as session:
        job = _job_named(session, name)
        assert job.id is not None
        if enabled:
            refuse_if_deleting(job)
        changed = job.enabled != enabled
        if changed:
            store.update_job(session, job=job, job_in=SyncJobUpdate(enabled=enabled))
            store.record_audit(
                session,
                actor=actor,
                action="resume" if enabled else "pause",
                job_id=job.id,
                job_name=job.name,
            )
        return EnabledChange(job, changed)


@dataclass(frozen=True)
class PlannedEdit:
    """An edit checked and ready to save: the job as it was, its changed fields, its new targets (None: they
    stay), and what saving it deletes."""

    job: SyncJob
    changes: dict[str, object]
    rows: list[SelectorCreate] | None
    preview: EditPreview
    editors: list[SelectorCreate] | None = None  # the new editors (None: they stay; []: none)


Confirm = Callable[[EditPreview], bool]


class _OnDemand:
    def __init__(self, make: Callable[[], DirectoryClient]) -> None:
        self._make = make
        self._client: DirectoryClient | None = None

    def __getattr__(self, name: str) -> Any:
        if self._client is None:
            self._client = self._make()
        return getattr(self._client, name)


def directory_on_demand(make: Callable[[], DirectoryClient]) -> DirectoryClient:
    """The directory client, made when an edit first asks it something: an edit of the schedule, the channel,
    the description or the name checks nothing with Google, so it is saved without Google's settings."""
    return cast(DirectoryClient, _OnDemand(make))


def plan_edit(
    db: DbEngine,
    *,
    name: str,
    edit: JobEdit,
    directory: DirectoryClient,
    people_for: Callable[[str], PeopleClient],
    allow_empty: bool = False,
) -> PlannedEdit:
    """Check an edit as `edit_job` does and say what it would delete; nothing is saved."""
    job = find_job(db, name)
    assert job.id is not None
    refuse_if_deleting(job)
    refuse_other_kind(job, edit)
    changes = _plain_changes(db, job, edit)
    if job.kind is JobKind.personal:
        changes.update(_source_changes(job, edit, directory, people_for))
    if job.kind is JobKind.directory:
        changes.update(_directory_changes(job, edit, directory))
    rows = _checked_targets(db, job, edit, changes, directory)
    editors = check_editors(directory, edit.editors) if edit.editors is not None else None
    if editors:  # an editor receives the label too: it must be free in their accounts (one label, one owner)
        check_label_is_free(db, directory, label=str(changes.get("target_group_name", job.target_group_name)),
                            selectors=editors, job_id=job.id,
                            source_user_id=str(changes.get("source_user_id", job.source_user_id or "")) or None)
    if edit.editors_can_delete is not None and edit.editors_can_delete != job.editors_can_delete:
        changes["editors_can_delete"] = edit.editors_can_delete
    preview = _preview(db, job, changes, rows, directory, allow_empty=allow_empty)
    return PlannedEdit(job, changes, rows, preview, editors)


def edit_job(
    db: DbEngine,
    *,
    name: str,
    edit: JobEdit,
    actor: str,
    directory: DirectoryClient,
    people_for: Callable[[str], PeopleClient],
    confirm: Confirm | None = None,
    allow_empty: bool = False,
) -> SyncJob:
    """Change a job in place: its runs, links and contacts stay (no contact is re-created).

    Everything is checked before anything is saved: the plain fields, the source (as create checks it),
    the targets (which must reach someone, unless `allow_empty`) and the label's ownership. An edit that
    deletes contacts (targets dropped, another source) is saved only if `confirm` says yes to its preview;
    else `RemovalNotConfirmed`, and nothing changes. A change to what targets hold (group name, My
    Contacts, the source) makes the next run read every target in full, so the change reaches contacts
    that an incremental read would not show.
    """
    planned = plan_edit(db, name=name, edit=edit, directory=directory, people_for=people_for,
                        allow_empty=allow_empty)
    if planned.preview.removes_anything and (confirm is None or not confirm(planned.preview)):
        raise RemovalNotConfirmed(planned.preview)
    return _save_edit(db, planned.job, name=name, changes=planned.changes, rows=planned.rows, actor=actor,
                      editors=planned.editors)


def _preview(
    db: DbEngine,
    job: SyncJob,
    changes: dict[str, object],
    rows: list[SelectorCreate] | None,
    directory: DirectoryClient,
    *,
    allow_empty: bool,
) -> EditPreview:
    """What saving deletes: the accounts the edited targets no longer reach lose every contact the job put
    there, and a new source (user or group) replaces every copy. Counted from the job's links; new targets
    are resolved as a run resolves them, and must reach someone (unless `allow_empty`)."""
    assert job.id is not None
    source_changed = bool(changes.keys() & {"source_user_id", "source_group_resource_name"})
    with store.session_scope(db) as session:
        current = store.list_selectors(session, job_id=job.id)
        states = store.target_states_for_job(session, job_id=job.id)
        same_targets = rows is None or sorted(_labels(rows)) == sorted(_labels(current))
        if same_targets and not source_changed:
            return EditPreview(job.name)  # who is targeted, and with what, stays as it is
        contacts = store.link_counts(session, job_id=job.id, target_user_ids=list(states))
    selected = rows if rows is not None else current
    source_user_id = str(changes.get("source_user_id", job.source_user_id or "")) or None
    resolution = resolve_rows(directory, selected, source_user_id=source_user_id)
    if not same_targets:
        require_someone(resolution, selected, allow_empty=allow_empty)
    staying = set(resolution.reachable) | {u.user_id for u in resolution.unreachable if u.user_id}
    accounts = {user_id: state.target_email for user_id, state in states.items()}
    # A run forgets a leaver whose account is gone or suspended, deleting nothing there: said so here too.
    cleaned_up = {user_id for user_id in accounts if user_id not in staying
                  and (not contacts.get(user_id) or _reachable(directory, user_id))}
    words = None
    if source_changed:
        words = (f"{job.source_email}'s “{job.source_group_name}” to {changes.get('source_email', job.source_email)}'s "
                 f"“{changes.get('source_group_name', job.source_group_name)}”")
    return edit_preview(job.name, accounts=accounts, contacts=contacts, staying=staying, cleaned_up=cleaned_up,
                        source_change=words)


def _labels(rows: Sequence[SelectorCreate] | Sequence[TargetSelector]) -> list[str]:
    return [f"{r.kind.value}:{r.value}" for r in rows]


def _reachable(directory: DirectoryClient, user_id: str) -> bool:
    user = directory.get_user(user_id)
    return user is not None and not user.get("suspended") and not user.get("archived")


# The fields only one kind of sync has, as (field, what it is): an edit of the other kind naming one is refused
# rather than quietly ignored.
KIND_FIELDS: dict[JobKind, dict[str, tuple[str, str]]] = {
    JobKind.personal: {"source_email": ("source", "a source user"), "group_name": ("group", "a source group")},
    JobKind.directory: {
        "domains": ("domains", "domains"),
        "include_ous": ("include_ous", "organizational units"),
        "exclude_ous": ("exclude_ous", "organizational units"),
        "include_self": ("include_self", "targets' own cards"),
        "include_aliases": ("include_aliases", "alias addresses"),
        "directory_fields": ("directory_fields", "a directory field mapping"),
        "include_shared_contacts": ("include_shared_contacts", "the domain's shared contacts"),
    },
}


def refuse_other_kind(job: SyncJob, edit: JobEdit) -> None:
    if job.kind is JobKind.directory and (edit.editors or edit.editors_can_delete is not None):
        raise JobInputError("editors", DIRECTORY_HAS_NO_EDITORS)
    for kind, fields in KIND_FIELDS.items():
        if kind is job.kind:
            continue
        for attr, (field, what) in fields.items():
            if getattr(edit, attr) is not None:
                raise JobInputError(field, f"only a {kind.value.capitalize()} Sync has {what}; "
                                           f"{job.name!r} is a {job.kind.value.capitalize()} Sync")


def _plain_changes(db: DbEngine, job: SyncJob, edit: JobEdit) -> dict[str, object]:
    """The fields checked by the rules alone (name, schedule, description, channel, My Contacts, label
    name), where they differ from the job's."""
    changes: dict[str, object] = {}
    if edit.name is not None:
        new_name = rules.job_name(edit.name)
        if new_name != job.name:
            with store.session_scope(db) as session:
                rules.check_name_free(new_name, store.job_names(session), renaming_from=job.name)
            changes["name"] = new_name
    if edit.schedule is not None:
        schedule = rules.schedule(edit.schedule)
        if schedule != job.schedule:
            changes["schedule"] = schedule
    cleaned = {
        "description": rules.description(edit.description) if edit.description is not None else None,
        "alert_channel": rules.channel(edit.alert_channel),
        "add_to_my_contacts": edit.add_to_my_contacts,
        "opt_out": edit.opt_out,
        "joinable": edit.joinable,
    }
    for attr, value in cleaned.items():
        if value is not None and value != getattr(job, attr):
            changes[attr] = value
    changes.update(_rule_changes(job, edit))
    if edit.target_group_name is not None:
        target_group_name = rules.label_name(edit.target_group_name)
        if target_group_name != job.target_group_name:
            changes["target_group_name"] = target_group_name
    return changes


def _rule_changes(job: SyncJob, edit: JobEdit) -> dict[str, object]:
    """The field rules an edit names, checked together with those it leaves as they are (a kept field must
    stay copied), where they differ from the job's."""
    if edit.fields is None and edit.keep_target_fields is None and edit.match_existing is None:
        return {}
    now = rules.job_rules(job)
    found = rules.field_rules(
        now.fields if edit.fields is None else edit.fields,
        now.keep if edit.keep_target_fields is None else edit.keep_target_fields,
        now.match_existing if edit.match_existing is None else edit.match_existing,
    )
    changes = {k: v for k, v in rules.rule_columns(found).items() if v != getattr(job, k)}
    if found.extra != now.extra:
        # The source's reads ask for the extra fields (externalIds, locations) or no longer do: its sync token
        # is bound to what it read, and its cache lacks them, so the next run reads it in full.
        changes["source_sync_token"] = None
    return changes


def _checked_targets(
    db: DbEngine, job: SyncJob, edit: JobEdit, changes: dict[str, object], directory: DirectoryClient
) -> list[SelectorCreate] | None:
    """The new targets, checked against the directory (None: the targets stay). Where the targets or the
    label name change, the label must still be free in every target's account (one label, one owner)."""
    assert job.id is not None
    rows = check_selectors(directory, parse_targets(edit.targets)) if edit.targets is not None else None
    if rows is not None or "target_group_name" in changes:
        with store.session_scope(db) as session:
            current = rows if rows is not None else store.list_selectors(session, job_id=job.id)
        check_label_is_free(db, directory, label=str(changes.get("target_group_name", job.target_group_name)),
                            selectors=current, job_id=job.id,
                            source_user_id=str(changes.get("source_user_id", job.source_user_id or "")) or None)
    return rows


def _save_edit(
    db: DbEngine,
    job: SyncJob,
    *,
    name: str,
    changes: dict[str, object],
    rows: list[SelectorCreate] | None,
    actor: str,
    editors: list[SelectorCreate] | None = None,
) -> SyncJob:
    """Save the checked changes, with one history entry listing each as old -> new (none when nothing
    changed)."""
    assert job.id is not None
    with store.session_scope(db) as session:
        fresh = store.get_job(session, job_id=job.id)
        if fresh is None:
            raise JobNotFound(name)
        if changes:
            store.update_job(session, job=fresh, job_in=SyncJobUpdate.model_validate(changes))
        if changes.keys() & {
            "target_group_name",
            "add_to_my_contacts",
            "source_user_id",
            "source_group_resource_name",
            "match_existing",  # a target's reads ask for its contacts' emails, or no longer do
        }:
            store.force_full_reads(session, job_id=job.id)
        detail = {k: {"from": getattr(job, k), "to": v} for k, v in changes.items() if k in AUDITED}
        if rows is not None:
            before = [typed(s.kind.value, s.value) for s in store.list_selectors(session, job_id=job.id)]
            after = [typed(r.kind.value, r.value) for r in rows]
            if sorted(before) != sorted(after):
                detail["targets"] = {"from": before, "to": after}
            store.set_selectors(session, job_id=job.id, selectors=rows)
        if editors is not None:
            before = [typed(s.kind.value, s.value) for s in store.list_editors(session, job_id=job.id)]
            after = [typed(r.kind.value, r.value) for r in editors]
            if sorted(before) != sorted(after):
                detail["editors"] = {"from": before, "to": after}
            store.set_editors(session, job_id=job.id, selectors=editors)
        if changes or detail:  # an edit that changes nothing leaves no empty entry in the history
            store.record_audit(session, actor=actor, action="edit", job_id=job.id, job_name=fresh.name,
                               detail=detail)
        return fresh


# What an edit's history entry shows, old -> new (the sync token and the group's resourceName are plumbing).
AUDITED = frozenset(set(SyncJobUpdate.model_fields) - {"source_sync_token", "source_group_resource_name"})


def _source_changes(
    job: SyncJob, edit: JobEdit, directory: DirectoryClient, people_for: Callable[[str], PeopleClient]
) -> dict[str, object]:
    """A personal job's source, checked as create checks it whenever an edit names the source or its group:
    the user is active, and the group is found by name at that user: the group asked for, or, for a new
    source, the job's group under the same name there (never the old source's group id)."""
    if edit.source_email is None and edit.group_name is None:
        return {}
    email = (edit.source_email if edit.source_email is not None else job.source_email or "").strip()
    if not EMAIL_RE.match(email):
        raise JobInputError("source", f"{email!r} is not an email address")
    source = active_source_user(directory, email)
    source_email = str(source["primaryEmail"]).lower()
    group_name = edit.group_name if edit.group_name is not None else job.source_group_name or ""
    try:
        group = find_source_group(people_for(source_email), group_name, owner=source_email)
    except InvalidGrant:
        raise JobInputError("source", f"Google refused to act as {source_email} (domain-wide delegation?)") from None
    changes: dict[str, object] = {}
    if source_email != (job.source_email or "").lower():
        changes["source_email"] = source_email
    if source["id"] != job.source_user_id:  # another person: a different set of contacts
        changes.update(source_user_id=source["id"], source_sync_token=None)
    if group["resourceName"] != job.source_group_resource_name or "source_user_id" in changes:
        changes.update(source_group_resource_name=group["resourceName"], source_sync_token=None)
    if group["name"] != job.source_group_name:
        changes["source_group_name"] = group["name"]
    return changes


def _directory_changes(job: SyncJob, edit: JobEdit, directory: DirectoryClient) -> dict[str, object]:
    changes: dict[str, object] = {}
    if edit.domains is not None:
        domains = sorted({d.strip().lower() for d in edit.domains if d.strip()})
        known = {str(d.get("domainName")).lower() for d in directory.list_domains()}
        if not domains or any(d not in known for d in domains):
            raise JobInputError("domains", f"pick one or more of this Workspace's domains ({', '.join(sorted(known))})")
        changes["directory_domains"] = domains
    if edit.include_ous is not None:
        changes["include_ous"] = check_ous(directory, edit.include_ous, "include_ous")
    if edit.exclude_ous is not None:
        changes["exclude_ous"] = check_ous(directory, edit.exclude_ous, "exclude_ous")
    if edit.include_ous is not None or edit.exclude_ous is not None:
        include = changes.get("include_ous", job.include_ous or [])
        exclude = changes.get("exclude_ous", job.exclude_ous or [])
        assert isinstance(include, list) and isinstance(exclude, list)
        rules.units_apart(include, exclude)
    for attr in ("include_self", "include_aliases"):
        value = getattr(edit, attr)
        if value is not None and value != getattr(job, attr):
            changes[attr] = value
    if edit.directory_fields is not None:
        mapping = rules.directory_fields(edit.directory_fields, directory.list_schemas)
        if mapping != list(job.directory_fields or []):
            changes["directory_fields"] = mapping
    if edit.include_shared_contacts is not None and edit.include_shared_contacts != job.include_shared_contacts:
        # Either way the shared contacts' sync token goes: the next run reads them in full (or not at all).
        changes.update(include_shared_contacts=edit.include_shared_contacts, source_sync_token=None)
    return changes


def written_accounts(db: DbEngine, *, job_id: int) -> int:
    """How many accounts the job has reached (made or used its label, written contacts): what a delete must
    remove or release."""
    with store.session_scope(db) as session:
        return len(store.target_states_for_job(session, job_id=job_id))


def contacts_word(keep: bool) -> str:
    """How a delete's history entry says what became of the contacts."""
    return "kept" if keep else "removed"


def mark_deleting(db: DbEngine, *, job_id: int, actor: str, keep_contacts: bool) -> SyncJob:
    """Before its contacts are removed (or released): the job is paused and marked as deleting, with the
    choice, so that no run writes while they go, and a delete that stops at some accounts (or dies) leaves a
    job that says so and is finished by deleting it again, as first chosen. Returns the job as it now is."""
    with store.session_scope(db) as session:
        job = store.get_job(session, job_id=job_id)
        if job is None:
            raise JobNotFound(str(job_id))
        if not job.deleting:
            store.update_job(session, job=job, job_in=SyncJobUpdate(enabled=False, deleting=True,
                                                                    keep_contacts=keep_contacts))
            store.record_audit(session, actor=actor, action="deleting", job_id=job_id, job_name=job.name,
                               detail={"contacts": contacts_word(keep_contacts)})
        return job


def record_unfinished_delete(db: DbEngine, *, job: SyncJob, actor: str, failed: list[str]) -> None:
    """The accounts whose contacts could not be removed (or released), in the job's history."""
    assert job.id is not None
    with store.session_scope(db) as session:
        store.record_audit(session, actor=actor, action="delete unfinished", job_id=job.id, job_name=job.name,
                           detail={"accounts_left": failed})


def delete_job(db: DbEngine, *, name: str, actor: str, keep_contacts: bool | None) -> None:
    """Delete a job and its state (runs, links, targets). Its history (audit) stays. `keep_contacts`: what
    became of its contacts (None: it had written none)."""
    with store.session_scope(db) as session:
        job = _job_named(session, name)
        assert job.id is not None
        store.delete_job(session, job_id=job.id)
        store.record_audit(
            session,
            actor=actor,
            action="delete",
            job_id=job.id,
            job_name=job.name,
            detail={} if keep_contacts is None else {"contacts": contacts_word(keep_contacts)},
        )
