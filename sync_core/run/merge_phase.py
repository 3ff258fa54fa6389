"""The merge phase of a run of a job with editors (issue 21): between reading the source and keeping it.

Reads, then writes, in this order (each step safe to repeat if a run is killed after it):

1. the editors: their selectors resolved as targets are (the source user is an editor by nature: their edits
   are the source); for each editor the target sync already reached, the changes to their account since its
   sync token (`editor_copies`), without moving that token: the target sync reads from it again afterwards;
2. the job's base (`store.merge_base`), and the merge (`sync_core.sync.merge`, pure);
3. one transaction: the conflicts recorded, and every change that came from an editor in the job's history
   (who, which contact, which field, old -> new), before anything is written: a kill never loses one;
4. the source account: new contacts from editors' adds (each marked with who added which contact, so a
   re-run adopts it rather than making it twice), merged fields written in place (the contact's own
   clientData and groups kept), editors' deletions (a contact in other labels of the source user only
   leaves the job's label);
5. the editors' adds: our tag written on their contact, which so becomes their copy (no duplicate);
6. after the targets (`JobRun.advance_merge_base`): the base set to the source as it now stands, only when
   every editor's copy was written. Until then an editor's copy may still hold a value that lost (or one the
   source since replaced): against the new base it would look like a fresh edit of theirs and bounce back.

A run killed anywhere before 6 merges the same copies again against the same base: the source already holds
the result, so the merge changes nothing more and reports the same conflicts (recorded once). Our own writes
are never read back as an edit: an editor's copy counts only when its etag is not the one Google answered to
our last write (the link's).
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import Engine as DbEngine

from sync_core import store
from sync_core.domain.contacts import (
    MY_CONTACTS,
    canonical_body,
    content_hash,
    created_tag,
    membership_entries,
    memberships_of,
    photo_fingerprint,
    tag_entry,
    written_by_a_sync,
)
from sync_core.domain.fields import TAG_FIELD
from sync_core.domain.models import JobKind, SyncJob
from sync_core.domain.reports import RunReport
from sync_core.google.errors import GoogleError, SyncTokenExpired
from sync_core.google.people import BATCH_UPDATE_MAX, PERSON_FIELDS, ConnectionsRead, PeopleClient, chunks
from sync_core.run.editor_copies import EditorRead, read_editor_copy
from sync_core.run.targets import DirectoryReader, Selector, TargetResolver, TargetUser
from sync_core.sync.deletion_guard import GuardPolicy
from sync_core.sync.merge import (
    SOURCE,
    Conflict,
    MergeResult,
    Version,
    field_value,
    hold_editor_deletions,
    merge,
    normalised,
)
from sync_core.sync.plan import LinkState, SourceItem

log = logging.getLogger(__name__)

JSON = dict[str, Any]

# The mark on a source contact made from an editor's add: "<editor id>|<their resourceName>". Not under our tag
# prefix (`contactsync:`): a contact carrying that is a copy, and the source read leaves copies out.
EDITOR_ADD_KEY = "contactsync-editor-add"
SHOWN_MAX = 120  # a value in the run's output and the history: at most this many characters


def resolve_editors(
    directory: DirectoryReader, rows: list[Any], *, source_user_id: str | None
) -> dict[str, TargetUser]:
    """The users a job's editor selectors name now (by Google id), the source user left out (their edits are
    the source's)."""
    selectors = [Selector(r.kind.value, r.value, r.resolved_user_id) for r in rows]
    exclude = {source_user_id} if source_user_id else set()
    return TargetResolver(directory).resolve(selectors, exclude_ids=exclude).reachable


@dataclass
class MergeInput:
    """What the phase needs of the run (see `JobRun.merge_editors`)."""

    db: DbEngine
    job: SyncJob
    source_email: str
    directory: DirectoryReader
    people: Callable[[str], PeopleClient]
    links: Callable[[str], dict[str, LinkState]]
    report: RunReport
    dry_run: bool
    run_id: int | None
    guard: GuardPolicy | None
    # Filled by the phase: each editor's incremental read (by user id), for their target sync to take as its
    # own (`ReadOnce`), so an editor costs the reads of any target. Not for an editor whose account the
    # merge wrote to (an adoption): their target sync reads again, and sees that write.
    shared_reads: dict[str, tuple[str, ConnectionsRead, dict[str, JSON]]] = field(default_factory=dict)
    # The source's sync token as the run read it; filled by the phase when its own writes are all that came
    # since: the token past them (so the next run, and the source watch, do not read our writes back).
    source_token: str | None = None
    next_source_token: str | None = None
    # Filled by the phase: the editors it found (user ids), and the base to keep once every editor's copy holds
    # the merged source (None: no editors, nothing to keep).
    editor_ids: set[str] = field(default_factory=set)
    next_base: dict[str, Any] | None = None
    # Editors whose deletions the deletion guard holds: user id -> how many. Their copies are left as they are
    # (not put back, their token not moved) until an admin applies the deletions or the editor restores them.
    held_by: dict[str, int] = field(default_factory=dict)
    # Editors whose copy could not be read (their account refused, or Google failed for it): user id -> the
    # failure. Nothing is written to their copy this run (it would overwrite edits not merged yet), and the base
    # stays where it is; their edits are merged once their copy can be read.
    unread: dict[str, GoogleError] = field(default_factory=dict)


def merge_editors(given: MergeInput, items: dict[str, SourceItem], source_user_id: str | None) -> dict[str, SourceItem]:
    """The source after the editors' changes are merged into it (and written there, unless a dry run)."""
    job = given.job
    assert job.id is not None
    if job.kind is not JobKind.personal or not job.source_group_resource_name:
        return items
    with store.session_scope(given.db) as session:
        rows = store.list_editors(session, job_id=job.id)
        if not rows:
            if not given.dry_run and store.base_hashes(session, job_id=job.id):
                store.delete_base(session, job_id=job.id)  # read-only again: a later editor starts afresh
            return items
        states = store.target_states_for_job(session, job_id=job.id)
        base = store.read_base(session, job_id=job.id)
    editors = resolve_editors(given.directory, rows, source_user_id=source_user_id)
    reads: dict[str, EditorRead] = {}
    editor_links: dict[str, Mapping[str, LinkState]] = {}
    for user_id, user in sorted(editors.items()):
        state = states.get(user_id)
        if state is None or not state.target_group_resource_name:
            continue  # not reached yet: no copy to have edited
        # A target whose last sync failed keeps no token: their copy is read in full (the same etag test), or
        # their target sync's own full read would write the source's version over what they changed since.
        links = editor_links[user_id] = given.links(user_id)
        try:
            reads[user_id] = read_editor_copy(
                given.people(user.email), editor_id=user_id, job_uid=job.uid,
                group_rn=state.target_group_resource_name, sync_token=state.sync_token, links=links,
            )
        except GoogleError as exc:  # one editor's account failing does not hold up the others' edits
            log.warning("could not read the copy of editor %s (%s): nothing is written there this run",
                        user.email, exc.reason)
            given.unread[user_id] = exc
    _own_bases(given.db, job.id, reads, editor_links)
    source_people = given.people(given.source_email)
    made = _made_from_adds(source_people, job.source_group_resource_name) if any(
        r.copies.added for r in reads.values()) else {}
    result = merge(
        base,
        {key: Version(item.body) for key, item in items.items()},
        [r.copies for r in reads.values()],
        editors_can_delete=job.editors_can_delete,
        created_from=made,
    )
    if given.guard is not None:
        result = hold_editor_deletions(result, given.guard, before=len(base))
        for key in result.held:
            for side in result.contacts[key].deleted_by:
                if side.editor is not None:
                    given.held_by[side.editor] = given.held_by.get(side.editor, 0) + 1
    emails = {user_id: user.email for user_id, user in editors.items()}
    merged = _apply_to_items(items, result)
    # Recorded before the source is written: a run killed in between never loses it, and the next run does not
    # record it twice (see `_record`).
    _record(given, base, items, result, emails)
    adopted: list[tuple[str, str, str]] = []
    if not given.dry_run:
        created = _write_source(source_people, job.source_group_resource_name, items, result)
        merged.update(created.items)
        adopted = [*created.adopted, *((a.editor, a.resource_name, a.source_key) for a in result.adoptions)]
        _adopt(given, reads, editors, adopted)
        if given.source_token and (result.updates or result.creates or result.source_deletes):
            given.next_source_token = past_our_writes(source_people, given.source_token,
                                                      job.source_group_resource_name, merged)
    written_to = {editor for editor, _, _ in adopted}
    for user_id, read in reads.items():
        state = states[user_id]
        if read.read is not None and state.sync_token and user_id not in written_to:
            given.shared_reads[user_id] = (state.sync_token, read.read, read.bodies)
    if not given.dry_run:
        _keep_versions(given.db, job.id, base, merged)
    given.editor_ids = set(editors)
    given.next_base = {key: item.body for key, item in merged.items()}
    return merged


def advance_base(db: DbEngine, job_id: int, entries: Mapping[str, Mapping[str, Any]]) -> None:
    """The base set to the source as every copy now holds it: called once the run's targets are written, and
    only when every editor's copy was (see `JobRun.advance_merge_base`)."""
    with store.session_scope(db) as session:
        store.replace_base(session, job_id=job_id, entries=entries)


# --------------------------------------------------------------------------- the source's side


def _apply_to_items(items: Mapping[str, SourceItem], result: MergeResult) -> dict[str, SourceItem]:
    """The source's contacts once the result is written there (creates aside: Google names them)."""
    out = {key: item for key, item in items.items() if key not in result.deletes}
    for key, fields in result.updates.items():
        if key in out:
            body = normalised(fields)
            out[key] = SourceItem(key, body, content_hash(body), out[key].photo)
    return out


def _made_from_adds(people: PeopleClient, group_rn: str) -> dict[tuple[str, str], str]:
    """Source contacts that runs made from editors' adds: (editor, their resourceName) -> the source contact.
    Read (clientData and groups only) when some editor added a contact, so an add is made once even when the
    run that made it was killed before it could record anything."""
    made: dict[tuple[str, str], str] = {}
    for person in people.read_connections(person_fields="clientData,memberships,metadata").people:
        if group_rn not in memberships_of(person) or (person.get("metadata") or {}).get("deleted"):
            continue
        for entry in person.get(TAG_FIELD, []) or []:
            if entry.get("key") == EDITOR_ADD_KEY:
                editor, _, rn = str(entry.get("value", "")).partition("|")
                if editor and rn:
                    made[(editor, rn)] = str(person["resourceName"])
    return made


def past_our_writes(
    people: PeopleClient, token: str, group_rn: str, merged: Mapping[str, SourceItem]
) -> str | None:
    """The source's token past the merge's own writes, when they are all that changed since `token` (read with
    the fields the source read uses, so Google takes the token); None when anything else changed: the next
    run reads it as usual."""
    try:
        delta = people.read_connections(sync_token=token, person_fields=PERSON_FIELDS)
    except SyncTokenExpired:
        return None
    for person in delta.people:
        rn = str(person.get("resourceName", ""))
        gone = (person.get("metadata") or {}).get("deleted") or group_rn not in memberships_of(person) \
            or written_by_a_sync(person)
        item = merged.get(rn)
        if gone:
            if item is not None:
                return None  # one we hold left the label: not our doing
            continue
        if item is None or content_hash(canonical_body(person)) != item.hash:
            return None  # someone else's edit, or an add: the next run takes it
        if photo_fingerprint(person) != item.photo:
            return None
    return delta.next_sync_token


@dataclass
class _Created:
    items: dict[str, SourceItem]
    adopted: list[tuple[str, str, str]]  # (editor, their resourceName, the source contact made)


def _write_source(
    people: PeopleClient, group_rn: str, items: Mapping[str, SourceItem], result: MergeResult
) -> _Created:
    """The result, written to the source account: creates, then updates in place, then deletes."""
    created = _Created({}, [])
    if result.creates:
        bodies = []
        for new in result.creates:
            body = dict(normalised(new.fields))
            body["memberships"] = membership_entries({group_rn, MY_CONTACTS})
            body[TAG_FIELD] = [{"key": EDITOR_ADD_KEY, "value": f"{new.editor}|{new.resource_name}"}]
            bodies.append(body)
        marks = {f"{n.editor}|{n.resource_name}": n for n in result.creates}
        for made in people.batch_create(bodies):
            mark = created_tag(made, EDITOR_ADD_KEY) or ""
            added = marks.get(mark)
            rn = made.get("resourceName")
            if added is None or not rn:
                continue
            content = normalised(added.fields)
            created.items[rn] = SourceItem(rn, dict(content), content_hash(content), None)
            created.adopted.append((added.editor, added.resource_name, rn))
    deletes = result.source_deletes
    touched = sorted(set(result.updates) | set(deletes))
    current = {str(p["resourceName"]): p for p in people.get_people(touched)} if touched else {}
    updates: dict[str, JSON] = {}
    for key, fields in result.updates.items():
        found = current.get(key)
        if found is None:
            continue  # deleted at the source since it was read: the next run sees it gone
        body = dict(normalised(fields))
        body["etag"] = found.get("etag", "")
        body[TAG_FIELD] = found.get(TAG_FIELD, []) or []  # the update's mask names clientData: keep it
        updates[key] = body
    for part in chunks(sorted(updates), BATCH_UPDATE_MAX):
        people.batch_update({key: updates[key] for key in part}, with_memberships=False)
    leave_label: dict[str, JSON] = {}
    gone: list[str] = []
    for key in deletes:
        person = current.get(key)
        if person is None:
            continue
        others = {g for g in memberships_of(person) if g not in (group_rn, MY_CONTACTS)}
        if others:  # in other labels of the source user too: it only leaves the job's label
            body = dict(canonical_body(person))
            body.update(etag=person.get("etag", ""),
                        memberships=membership_entries(memberships_of(person) - {group_rn}))
            body[TAG_FIELD] = person.get(TAG_FIELD, []) or []
            leave_label[key] = body
        else:
            gone.append(key)
    if leave_label:
        people.batch_update(leave_label, with_memberships=True)
    if gone:
        people.batch_delete(gone)
    return created


def _adopt(
    given: MergeInput, reads: Mapping[str, EditorRead], editors: Mapping[str, TargetUser],
    adopted: list[tuple[str, str, str]],
) -> None:
    """Each editor's added contact becomes their copy of the source contact made from it: our tag on it."""
    by_editor: dict[str, dict[str, JSON]] = {}
    for editor, rn, source_key in adopted:
        read = reads.get(editor)
        person = read.added_people.get(rn) if read is not None else None
        if person is None or editor not in editors:
            continue
        data = [*(person.get(TAG_FIELD, []) or []), tag_entry(given.job.uid, source_key)]
        by_editor.setdefault(editor, {})[rn] = {"etag": person.get("etag", ""), TAG_FIELD: data}
    for editor, people in sorted(by_editor.items()):
        given.people(editors[editor].email).batch_set_client_data(people)


# --------------------------------------------------------------------------- what the run says and keeps


EDITOR_ACTIONS = ("editor change", "editor delete", "editor add")


def _event_key(actor: str, action: str, detail: Mapping[str, Any]) -> tuple[str, str, str]:
    return actor, action, json.dumps(detail, sort_keys=True, default=str)


def _shown(value: Any) -> str:
    if value is None:
        return "(none)"
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    text = "".join(c if c.isprintable() else "?" for c in text)
    return text if len(text) <= SHOWN_MAX else text[:SHOWN_MAX] + "…"


def contact_label(key: str, fields: Mapping[str, Any] | None) -> str:
    """A contact as the run's output and the history name it: its display name (if any) and its key."""
    for name in (fields or {}).get("names", []) or []:
        shown = " ".join(str(name.get(part, "")) for part in ("givenName", "familyName")).strip()
        if shown:
            return f"{shown} ({key})"
    return key


def _who(text: str, emails: Mapping[str, str]) -> str:
    """A side ("source", "editor:<id>") by the editor's address."""
    for user_id, email in emails.items():
        text = text.replace(f"editor:{user_id}", email)
    return text


def conflict_line(conflict: Conflict, label: str, emails: Mapping[str, str]) -> str:
    return _who(conflict.describe(SHOWN_MAX).replace(f" of {conflict.key}:", f" of {label}:", 1), emails)


def _own_bases(db: DbEngine, job_id: int, reads: Mapping[str, EditorRead],
               links: Mapping[str, Mapping[str, LinkState]]) -> None:
    """Each editor's own base for the contacts they changed or deleted: the version our link says we last wrote
    to their copy, where it was kept (written while the job's base was behind); else the job's base."""
    named = {uid: {key: link.content_hash for key in (*read.copies.changed, *read.copies.deleted)
                   if (link := links[uid].get(key)) is not None} for uid, read in reads.items()}
    wanted = {(key, digest) for by_key in named.values() for key, digest in by_key.items()}
    if not wanted:
        return
    with store.session_scope(db) as session:
        kept = store.read_versions(session, job_id=job_id, wanted=wanted)
    for uid, read in reads.items():
        bases = {key: kept[(key, digest)] for key, digest in named[uid].items() if (key, digest) in kept}
        if bases:
            read.copies = replace(read.copies, bases=bases)


def _keep_versions(db: DbEngine, job_id: int, base: Mapping[str, Mapping[str, Any]],
                   merged: Mapping[str, SourceItem]) -> None:
    """Keep each version the targets are about to get that is not the job's base (by the hash the links will
    name it by): should the base stay behind (an editor's account failing), an editor who got it has their
    changes told against it. A contact without a base needs none (the source's version stands)."""
    entries = {key: (item.hash, item.body) for key, item in merged.items()
               if (had := base.get(key)) is not None and normalised(item.body) != had}
    if entries:
        with store.session_scope(db) as session:
            store.keep_versions(session, job_id=job_id, entries=entries)


def _record(
    given: MergeInput,
    base: Mapping[str, Mapping[str, Any]],
    before: Mapping[str, SourceItem],
    result: MergeResult,
    emails: Mapping[str, str],
) -> None:
    """The run's lines, and (unless a dry run) the conflicts and the history, in one transaction."""
    job = given.job
    report = given.report
    events: list[tuple[str, str, dict[str, Any]]] = []  # (actor, action, detail)
    for key, contact in sorted(result.contacts.items()):
        label = contact_label(key, base.get(key))
        had = before.get(key)
        for name, sides in contact.set_by.items():
            if had is not None and field_value(had.body, name) == field_value(contact.fields or {}, name):
                continue  # the source holds it already: merged by a run cut off before its base moved on
            for side in sides:
                if side == SOURCE or side.editor is None:
                    continue
                who = emails.get(side.editor, side.editor)
                was = contact.bases.get(side.editor, base.get(key, {}))
                old, new = field_value(was, name), field_value(contact.fields or {}, name)
                report.editor_changes.append(f"{who} set {name} of {label}: {_shown(old)} -> {_shown(new)}")
                events.append((who, "editor change", {"contact": label, "field": name,
                                                      "from": _shown(old), "to": _shown(new)}))
        if contact.fields is None and had is not None and any(s != SOURCE for s in contact.deleted_by):
            who = ", ".join(emails.get(s.editor or "", s.editor or "") for s in contact.deleted_by if s != SOURCE)
            report.editor_changes.append(f"{who} deleted {label}")
            events.append((who, "editor delete", {"contact": label}))
    for new in result.creates:
        who = emails.get(new.editor, new.editor)
        label = contact_label(new.resource_name, new.fields)
        report.editor_changes.append(f"{who} added {label}")
        events.append((who, "editor add", {"contact": label}))
    for key in result.held:
        report.editor_changes.append(f"held by the deletion guard: the deletion of {contact_label(key, base.get(key))}")
    for conflict in result.conflicts:
        label = contact_label(conflict.key, base.get(conflict.key) or (
            before[conflict.key].body if conflict.key in before else None))
        report.conflicts.append(conflict_line(conflict, label, emails))
        events.append(("contactsync", "conflict", {
            "contact": label, "field": conflict.field, "why": str(conflict.why),
            "kept": f"{_who(' and '.join(map(str, conflict.winner.sides)), emails)}: {_shown(conflict.winner.value)}",
            "lost": "; ".join(f"{_who(' and '.join(map(str, c.sides)), emails)}: {_shown(c.value)}"
                              for c in conflict.losers),
        }))
    if given.dry_run:
        return
    assert job.id is not None
    with store.session_scope(given.db) as session:
        fresh = store.record_conflicts(session, job_id=job.id, conflicts=result.conflicts, run_id=given.run_id)
        fresh_ids = {row.identity for row in fresh}
        # A run killed (or failed) after recording its merge (step 3) and before the source held it: this run
        # merges the same changes again against the same base, which only a completed run moves on. What such a
        # run recorded is not recorded a second time.
        told = Counter(_event_key(e.actor, e.action, e.detail) for e in store.events_since_last_completed_run(
            session, job_id=job.id, actions=EDITOR_ACTIONS))
        for actor, action, detail in events:
            if action == "conflict" and not fresh_ids:
                continue  # reported before (a re-run after a crash): not a new entry in the history
            said = _event_key(actor, action, detail)
            if action in EDITOR_ACTIONS and told[said] > 0:
                told[said] -= 1
                continue
            store.record_audit(session, actor=actor, action=action, job_id=job.id, job_name=job.name,
                               detail=detail)

