"""PURE: the three-way, field-by-field merge of a label that editors may change. No I/O here.

A job with editors has one **base** per source contact: its synced fields as the source and every copy last
agreed on. A run reads the source and the copies of the editors whose etag moved since we wrote them, and
merges them against the base, one People field at a time (`SYNCED_FIELDS`: names, emails, phones, ...):

- a **change** is a field whose value differs from the base; a side that changed nothing is no input;
- one side changed a field, or several changed it to the same value: that value;
- different values: the source's, if the source changed it ("source wins"); else the editor whose copy was
  updated last (Google's `metadata.sources[].updateTime`: "later edit wins"); at equal times (or both
  unknown) the editor whose Google user id sorts first ("same update time: first user id wins"), an order
  that needs nothing but the ids, so the result never depends on the order the editors are given in;
- every value that lost is kept in a `Conflict`, with who set it, so nothing is lost unreported.

Whole contacts:

- the source deleted it: it is deleted, and an editor's edit of it is a conflict the deletion won (the source
  owns the label, as it wins a field);
- an editor deleted their copy: without `editors_can_delete` the delete is no input (the copy is put back);
  with it, the contact is deleted at the source (and then everywhere), unless another side edited the
  contact: then the edit survives, the delete loses as a conflict ("edit beats delete"), and the copy comes
  back. A sales team that edited a customer expects to find them again;
- an editor's own contact added to the label becomes a source contact (`NewContact`); once the engine made
  it, the editor's contact is adopted as their copy (`created_from` tells a re-run that it was made already);
- a contact without a base (new at the source, or a job that just got editors) takes the source's version:
  there is no telling an editor's change from an old copy without one. The run then writes its base.

An editor's own base: the job's base moves on only once every editor's copy holds the merged source, so while
one editor's account keeps failing it stays behind, and what the others received since differs from it. Each
editor's changes are told against what we last wrote to their copy (`EditorCopies.bases`, when the engine
still has that version; else the job's base): a field they changed after receiving the source's value for it
is their change, made after the source's (so it lands, with no conflict: "source wins" is for changes made
side by side); a field they changed without having received the source's value for it is a change side by side
with the source's (a conflict, even where the source's value is the job's base); a field they left as we wrote
it is no change of theirs, whatever the job's base says.

The merge is idempotent: merging the same editors' copies again once the source holds the result (a run cut
off between its source write and its target writes, whose base did not advance) changes nothing more, and
every conflict it reports has the identity (`Conflict.identity`) of one reported the first time.

The engine's part: read the base (`sync_core.store.merge_base`), pass only the copies whose etag moved since
our own write (our writes are never someone's edit), write `updates`, `deletes` and `creates` to the source,
let the targets follow as today, and advance the base only once the source holds the result.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, NamedTuple

from sync_core.domain.contacts import SYNCED_FIELDS, canonical_body
from sync_core.sync.deletion_guard import GuardPolicy, holds

# A contact's synced fields in canonical form (`canonical_body`): field name -> list of canonical entries. An
# absent field and an empty one are the same value (canonical_body leaves empty fields out).
Fields = Mapping[str, Any]
# The name a conflict gives to a whole contact (a delete against an edit), beside the People field names.
CONTACT = "contact"


# --------------------------------------------------------------------------- sides and versions


@dataclass(frozen=True)
class Side:
    """Who set a value: the source (`editor` None) or one editor (their Google user id)."""

    editor: str | None = None

    @property
    def is_source(self) -> bool:
        return self.editor is None

    def __str__(self) -> str:
        return "source" if self.editor is None else f"editor:{self.editor}"

    @classmethod
    def parse(cls, text: str) -> Side:
        """The inverse of `str`: how a stored conflict names its sides."""
        if text == "source":
            return SOURCE
        kind, sep, editor = text.partition(":")
        if kind != "editor" or not sep or not editor:
            raise ValueError(f"not a side: {text!r}")
        return cls(editor)

    @property
    def order(self) -> tuple[int, str]:
        """The source first, then editors by user id: how sides are listed, everywhere."""
        return (0, "") if self.editor is None else (1, self.editor)


SOURCE = Side()


def editor(user_id: str) -> Side:
    return Side(user_id)


class Version(NamedTuple):
    """One side's version of a contact: its canonical fields and when it was last updated there."""

    fields: Fields
    updated: datetime | None = None  # Google's metadata.sources[].updateTime; None: not known


_FRACTION = re.compile(r"\.(\d+)")


def update_time(person: Mapping[str, Any]) -> datetime | None:
    """When the contact itself (its CONTACT source, not a linked profile) was last updated, per Google's
    `metadata.sources[].updateTime`; None when Google gave none we can read."""
    times = []
    for source in (person.get("metadata") or {}).get("sources", []) or []:
        if not isinstance(source, Mapping) or source.get("type", "CONTACT") != "CONTACT":
            continue
        stamp = source.get("updateTime")
        if isinstance(stamp, str) and (parsed := _parse_time(stamp)) is not None:
            times.append(parsed)
    return max(times, default=None)


def _parse_time(stamp: str) -> datetime | None:
    # Google writes RFC 3339 with up to nine fraction digits; Python reads six.
    text = _FRACTION.sub(lambda m: "." + m.group(1)[:6].ljust(6, "0"), stamp.strip(), count=1)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def version_of(person: Mapping[str, Any]) -> Version:
    """A Person as read from Google, as one side's version."""
    return Version(canonical_body(person), update_time(person))


def field_value(fields: Fields, name: str) -> Any:
    """One field's value; None when the contact has none."""
    return fields.get(name) or None


def _token(value: Any) -> str:
    """A value's stable text: equal values, equal tokens (the same form `content_hash` hashes)."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def field_names(*versions: Fields) -> list[str]:
    """The synced fields in their order, then any other field a version holds (none, from canonical_body)."""
    extra = sorted({name for fields in versions for name in fields} - set(SYNCED_FIELDS))
    return [*SYNCED_FIELDS, *extra]


def normalised(fields: Fields) -> dict[str, Any]:
    """The fields with values, in field order: equal contacts compare equal."""
    return {name: value for name in field_names(fields) if (value := field_value(fields, name)) is not None}


def same_fields(a: Fields, b: Fields) -> bool:
    return normalised(a) == normalised(b)


# --------------------------------------------------------------------------- conflicts


class Why(StrEnum):
    """Why the winner of a conflict won."""

    source_wins = "source wins"
    later_edit_wins = "later edit wins"
    same_time_first_id = "same update time: first user id wins"
    edit_beats_delete = "edit beats delete"


class Claim(NamedTuple):
    """One value a conflict saw, and every side that set it. For `CONTACT`, the value is the contact's
    fields (an edit) or None (a delete)."""

    value: Any
    sides: tuple[Side, ...]
    updated: datetime | None = None  # the latest update time among those sides' versions


@dataclass(frozen=True)
class Conflict:
    """Sides changed one field of one contact to different values: which one won, and why, and every value
    that lost, so an admin can put a losing value back everywhere instead."""

    key: str  # the source contact's key
    field: str  # a People field name, or CONTACT
    winner: Claim
    losers: tuple[Claim, ...]
    why: Why

    @property
    def identity(self) -> str:
        """The same decision, whoever is credited with the winning value and however it is explained: a
        re-merge after the source took the winner's value credits the source too ("source wins"), and must not
        count as a new conflict. So: the contact, the field, the winning value and each losing value with
        its sides."""
        losers = sorted((_token(c.value), [str(s) for s in c.sides]) for c in self.losers)
        payload = _token([self.key, self.field, _token(self.winner.value), losers])
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()

    def describe(self, limit: int = 80) -> str:
        """One line for a run's output: the word conflict, the field, who won with what, who lost with what."""
        lost = "; ".join(f"{_names(c.sides)} {_shown(self.field, c.value, limit)}" for c in self.losers)
        return (
            f"conflict on {self.field} of {self.key}: kept {_names(self.winner.sides)} "
            f"{_shown(self.field, self.winner.value, limit)} ({self.why}); lost: {lost}"
        )


def _names(sides: Sequence[Side]) -> str:
    return " and ".join(str(s) for s in sides)


def _shown(name: str, value: Any, limit: int) -> str:
    """What a side did, as the run's output says it: `set <value>`, `emptied it`, `deleted it`, `edited it`."""
    if value is None:
        return "deleted it" if name == CONTACT else "emptied it"
    if name == CONTACT:
        return "edited it"
    text = _token(value)
    text = "".join(c if c.isprintable() else "?" for c in text)
    return "set " + (text if len(text) <= limit else text[:limit] + "…")


def _claims(changes: Sequence[tuple[Side, Any, datetime | None]]) -> list[Claim]:
    """The changes grouped by value: one claim per distinct value, sides in order."""
    grouped: dict[str, tuple[Any, list[Side], datetime | None]] = {}
    for side, value, updated in changes:
        token = _token(value)
        if token in grouped:
            held, sides, latest = grouped[token]
            sides.append(side)
            grouped[token] = (held, sides, _later(latest, updated))
        else:
            grouped[token] = (value, [side], updated)
    return [
        Claim(value, tuple(sorted(sides, key=lambda s: s.order)), latest)
        for value, sides, latest in grouped.values()
    ]


def _later(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _editor_rank(side: Side, updated: datetime | None) -> tuple[int, int, str]:
    """Sorts the editor whose edit wins first: the latest update time (unknown counts as oldest), then the
    first user id."""
    if updated is None:
        return (1, 0, side.editor or "")
    return (0, -((updated - _EPOCH) // timedelta(microseconds=1)), side.editor or "")


def decide_field(
    key: str, name: str, base: Any, changes: Sequence[tuple[Side, Any, datetime | None]], *, changed: bool = False
) -> tuple[Any, tuple[Side, ...], Conflict | None]:
    """One field: (its merged value, the sides whose change it is, the conflict if values differed).

    `changes`: each side's value and update time; those equal to `base` are no change. `changed`: each of them
    is a change already (measured against that side's own base; see `merge_contact`)."""
    if not changed:
        changes = [c for c in changes if _token(c[1]) != _token(base)]
    if not changes:
        return base, (), None
    claims = _claims(changes)
    if len(claims) == 1:
        return claims[0].value, claims[0].sides, None
    source_claim = next((c for c in claims if SOURCE in c.sides), None)
    if source_claim is not None:
        winner, why = source_claim, Why.source_wins
    else:
        ranked = sorted(((side, updated) for side, _, updated in changes), key=lambda c: _editor_rank(*c))
        first = ranked[0]
        winner = next(c for c in claims if first[0] in c.sides)
        # Whether time decided it: against the best editor who holds another value.
        other = next(r for r in ranked if r[0] not in winner.sides)
        why = Why.same_time_first_id if other[1] == first[1] else Why.later_edit_wins
    losers = tuple(sorted((c for c in claims if c is not winner), key=lambda c: c.sides[0].order))
    return winner.value, winner.sides, Conflict(key, name, winner, losers, why)


# --------------------------------------------------------------------------- one contact


@dataclass(frozen=True)
class ContactMerge:
    """What became of one source contact."""

    key: str
    fields: Fields | None  # the merged contact; None: it is deleted
    deleted_by: tuple[Side, ...] = ()  # who deleted it (when `fields` is None)
    set_by: Mapping[str, tuple[Side, ...]] = field(default_factory=dict)  # field -> the sides whose change landed
    put_back: tuple[str, ...] = ()  # editors whose deleted copy comes back
    conflicts: tuple[Conflict, ...] = ()
    bases: Mapping[str, Fields] = field(default_factory=dict)  # editors whose own base was not the job's: theirs


def merge_contact(
    key: str,
    base: Fields,
    source: Version | None,
    copies: Mapping[str, Version | None],
    *,
    editors_can_delete: bool,
    bases: Mapping[str, Fields] | None = None,
) -> ContactMerge:
    """Merge one contact: its base, the source's version (None: the source deleted it) and the editors'
    copies that moved (editor id -> their copy; None: they deleted it). `bases`: an editor's own base, what
    we last wrote to their copy, where it is not the job's (see the module's docstring)."""
    own = {e: (bases or {}).get(e, base) for e in copies}
    edits = {e: v for e, v in copies.items() if v is not None and not same_fields(v.fields, own[e])}
    deleters = tuple(sorted(e for e, v in copies.items() if v is None))
    ordered_edits = sorted(edits.items())

    if source is None:
        conflicts: tuple[Conflict, ...] = ()
        if edits:
            winner = Claim(None, (SOURCE, *(editor(e) for e in deleters)))
            losers = tuple(
                sorted(
                    _claims([(editor(e), normalised(v.fields), v.updated) for e, v in ordered_edits]),
                    key=lambda c: c.sides[0].order,
                )
            )
            conflicts = (Conflict(key, CONTACT, winner, losers, Why.source_wins),)
        return ContactMerge(key, None, deleted_by=(SOURCE, *(editor(e) for e in deleters)), conflicts=conflicts)

    # The source's change counts against a deletion unless every deleter had received it.
    source_changed = not same_fields(source.fields, base) and not (
        deleters and all(same_fields(source.fields, own[d]) for d in deleters))
    if deleters and editors_can_delete and not edits and not source_changed:
        return ContactMerge(key, None, deleted_by=tuple(editor(e) for e in deleters))

    merged: dict[str, Any] = {}
    set_by: dict[str, tuple[Side, ...]] = {}
    conflicts_found: list[Conflict] = []
    for name in field_names(base, source.fields, *(v.fields for _, v in ordered_edits)):
        was, now = field_value(base, name), field_value(source.fields, name)
        # Each editor's change against their own base. The source's value is a change side by side with theirs
        # where it moved from the job's base, or where an editor who changed the field had not received it; not
        # where an editor who had received it changed it after.
        changes, seen_after = [], False
        for e, v in ordered_edits:
            had = _token(field_value(own[e], name))
            if _token(value := field_value(v.fields, name)) != had:
                changes.append((editor(e), value, v.updated))
                seen_after = seen_after or had == _token(now)
        if (changes or _token(now) != _token(was)) and not seen_after:
            changes.insert(0, (SOURCE, now, source.updated))
        value, sides, conflict = decide_field(key, name, was, changes, changed=True)
        if value is not None:
            merged[name] = value
        if sides:
            set_by[name] = sides
        if conflict is not None:
            conflicts_found.append(conflict)

    if deleters and editors_can_delete:
        # Another side edited what an editor deleted: the edit survives, the delete is a conflict it lost.
        editing = tuple(sorted({s for sides in set_by.values() for s in sides}, key=lambda s: s.order))
        updated = max((v.updated for _, v in ordered_edits if v.updated is not None), default=None)
        if SOURCE in editing:
            updated = _later(updated, source.updated)
        conflicts_found.insert(
            0,
            Conflict(
                key,
                CONTACT,
                Claim(merged, editing, updated),
                (Claim(None, tuple(editor(e) for e in deleters)),),
                Why.edit_beats_delete,
            ),
        )
    return ContactMerge(key, merged, set_by=set_by, put_back=deleters, conflicts=tuple(conflicts_found),
                        bases={e: own[e] for e in copies if own[e] is not base})


# --------------------------------------------------------------------------- a whole label


@dataclass(frozen=True)
class EditorCopies:
    """What one editor did to their copy of the label since the last run."""

    editor: str  # their Google user id
    changed: Mapping[str, Version] = field(default_factory=dict)  # source key -> their copy, etag moved
    deleted: frozenset[str] = frozenset()  # source keys whose copy left their label
    added: Mapping[str, Version] = field(default_factory=dict)  # their own contacts in the label, by resourceName
    # Source key -> what we last wrote to their copy, where it is not the job's base (see the module's
    # docstring): their changes are told against it.
    bases: Mapping[str, Fields] = field(default_factory=dict)


class NewContact(NamedTuple):
    """An editor's own contact added to the label: it becomes a source contact, and theirs its copy."""

    editor: str
    resource_name: str  # the editor's contact
    fields: Fields
    updated: datetime | None = None


class Adoption(NamedTuple):
    """An editor's add that a run already made at the source: their contact becomes that one's copy."""

    editor: str
    resource_name: str
    source_key: str


@dataclass(frozen=True)
class MergeResult:
    """What a label's merge asks of the source, and what it reports."""

    updates: dict[str, Fields] = field(default_factory=dict)  # source key -> merged fields to write there
    deletes: dict[str, tuple[Side, ...]] = field(default_factory=dict)  # source key -> who deleted it
    creates: tuple[NewContact, ...] = ()
    adoptions: tuple[Adoption, ...] = ()
    put_back: tuple[tuple[str, str], ...] = ()  # (editor, source key): a copy deleted without effect comes back
    conflicts: tuple[Conflict, ...] = ()
    held: tuple[str, ...] = ()  # editors' deletions the deletion guard holds (source keys)
    contacts: dict[str, ContactMerge] = field(default_factory=dict)  # every contact an editor touched

    @property
    def source_deletes(self) -> list[str]:
        """The source contacts to delete at the source: those editors deleted (the source's own are gone)."""
        return sorted(k for k, by in self.deletes.items() if SOURCE not in by)


def merge(
    base: Mapping[str, Fields],
    source: Mapping[str, Version],
    editors: Iterable[EditorCopies],
    *,
    editors_can_delete: bool,
    created_from: Mapping[tuple[str, str], str] | None = None,
) -> MergeResult:
    """Merge a label: the job's base (source key -> last-synced fields), the source as read now (source key ->
    version) and what each editor changed. `created_from`: the source contacts runs made from editors' adds,
    by (editor, the editor's resourceName), so an add is made once.

    Memory follows the source: the result holds the contacts editors touched, and the source's own deletes."""
    copies: dict[str, dict[str, Version | None]] = {}
    own_bases: dict[str, dict[str, Fields]] = {}  # source key -> editor -> their own base for it
    adds: list[NewContact] = []
    adoptions: list[Adoption] = []
    made = created_from or {}
    for copy in sorted(editors, key=lambda c: c.editor):
        for key, version in copy.changed.items():
            copies.setdefault(key, {})[copy.editor] = version
        for key in copy.deleted:
            copies.setdefault(key, {})[copy.editor] = None
        for key, fields in copy.bases.items():
            own_bases.setdefault(key, {})[copy.editor] = fields
        for resource_name, version in sorted(copy.added.items()):
            made_as = made.get((copy.editor, resource_name))
            if made_as is not None and made_as in source:
                adoptions.append(Adoption(copy.editor, resource_name, made_as))
            else:
                adds.append(NewContact(copy.editor, resource_name, normalised(version.fields), version.updated))

    updates: dict[str, Fields] = {}
    deletes: dict[str, tuple[Side, ...]] = {}
    put_back: list[tuple[str, str]] = []
    conflicts: list[Conflict] = []
    contacts: dict[str, ContactMerge] = {}
    for key in sorted(base.keys() - source.keys()):
        if key not in copies:
            deletes[key] = (SOURCE,)
    for key in sorted(copies):
        if key not in base:
            continue  # no base: the source's version stands, and the copy is put back as today
        result = merge_contact(key, base[key], source.get(key), copies[key], editors_can_delete=editors_can_delete,
                               bases=own_bases.get(key))
        contacts[key] = result
        conflicts.extend(result.conflicts)
        if result.fields is None:
            deletes[key] = result.deleted_by
            continue
        put_back.extend((e, key) for e in result.put_back)
        if not same_fields(result.fields, source[key].fields):
            updates[key] = result.fields
    return MergeResult(
        updates=updates,
        deletes=deletes,
        creates=tuple(adds),
        adoptions=tuple(adoptions),
        put_back=tuple(sorted(put_back)),
        conflicts=tuple(conflicts),
        contacts=contacts,
    )


def hold_editor_deletions(result: MergeResult, policy: GuardPolicy, *, before: int) -> MergeResult:
    """The deletion guard, for editors' deletes as for a shrinking source: when editors delete more than the
    policy's share of the label's `before` contacts (its base) at once, and at least its minimum, those
    deletions wait (`held`) until an admin applies them, and their copies are not put back meanwhile."""
    going = result.source_deletes
    if not holds(policy, before=before, leaving=len(going), deletions=len(going)):
        return result
    return replace(
        result,
        deletes={k: by for k, by in result.deletes.items() if k not in going},
        held=tuple(going),
    )


def merged_source(source: Mapping[str, Version], result: MergeResult) -> dict[str, Version]:
    """The source once the result is written there (its creates aside, which get their keys from Google): what
    the next base is, once every write succeeded."""
    out = {key: version for key, version in source.items() if key not in result.deletes}
    for key, fields in result.updates.items():
        if key in out:
            out[key] = Version(fields, out[key].updated)
    return out
