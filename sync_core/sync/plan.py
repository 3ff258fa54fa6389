"""PURE: plan one target's sync from (source, what the target holds, our links). No I/O here.

Every action is decided before anything is written, so a plan can be printed (dry run), counted and
tested exhaustively. A contact counts as changed only when its content hash changed (or its etag
moved and its content no longer matches the source).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, overload

import orjson
from xxhash import xxh3_128_intdigest

from sync_core.domain.contacts import adopted_entry, shared_membership_entries, tag_entry
from sync_core.domain.field_rules import DEFAULT_RULES, FieldRules
from sync_core.domain.fields import MEMBERSHIPS, TAG_FIELD

JSON = dict[str, Any]


class SharedBody(dict[str, Any]):
    """A source contact's synced fields as one run shares them with every target: equal to the plain dict,
    and serialised once (`fields_json`, `head`) however many targets get the contact. Nobody may modify it."""

    __slots__ = ("_json", "_head", "_framed")

    def fields_json(self) -> bytes:
        """The body as JSON without its braces (b"" when empty), to splice into a request."""
        try:
            return self._json
        except AttributeError:
            self._json: bytes = orjson.dumps(self)[1:-1]
            return self._json

    def head(self) -> bytes | None:
        """What a created contact's JSON starts with: "{", the fields and the comma before memberships and our
        tag; None when the body holds either itself (never from a source read; `_person` overrides them)."""
        try:
            return self._head
        except AttributeError:
            fields = self.fields_json()
            clash = MEMBERSHIPS in self or TAG_FIELD in self
            self._head: bytes | None = None if clash else b"".join((b"{", fields, b"," if fields else b""))
            return self._head

    def framed(self, key: str) -> Framed | None:
        """What a created contact's JSON is made of around this target's part (see `person_json`), for the source
        contact `key`: kept for the last key asked (a run's shared body is one source contact's)."""
        try:
            last_key, framed = self._framed
            if last_key == key:
                return framed
        except AttributeError:
            pass
        head = self.head()
        framed = None if head is None else Framed.around(head, key)
        self._framed: tuple[str, Framed | None] = (key, framed)
        return framed


class Framed(NamedTuple):
    """A created contact's JSON, but for the part each target has of its own (its memberships and our tag up to
    its value: `_tail_start`): `head` + that part + `end`. `size` is their length, for a request's
    Content-Length counted without making the request."""

    head: bytes  # "{", the body's fields and a comma
    end: bytes  # our tag's value (the source key) and the brackets that close the tag, its list and the contact
    size: int

    @classmethod
    def around(cls, head: bytes, key: str) -> Framed:
        end = orjson.dumps(key) + b"}]}"
        return cls(head, end, len(head) + len(end))


def share_bodies(items: Mapping[str, SourceItem]) -> dict[str, SourceItem]:
    """The source of a run, its bodies made `SharedBody`s (the same items otherwise; equal to the input), in
    the order of their keys: each target's plan goes through them in that order, and sorting keys already in
    order takes one pass, not a sort per target."""
    return {
        k: item if isinstance(item.body, SharedBody) else item._replace(body=SharedBody(item.body))
        for k, item in sorted(items.items())
    }


# The three value types the hot path makes by the thousand are NamedTuples: several times cheaper to
# build than frozen dataclasses, and as immutable.
class SourceItem(NamedTuple):
    key: str  # source resourceName (or directory user id)
    body: JSON  # canonical synced fields
    hash: str
    photo: str | None = None  # fingerprint of the source's own photo (URL or etag), if any
    # Under field rules that keep fields (see field_rules.project): `core`, the hash of the fields the source
    # always decides (what a target's read body is compared with; "": the same as `hash`), and `kept`, the
    # kept fields the source holds a value for.
    core: str = ""
    kept: frozenset[str] = frozenset()


class TargetItem(NamedTuple):
    """A contact as the target account holds it (or as we last left it, on incremental reads)."""

    resource_name: str
    etag: str
    source_key: str | None  # what our tag for this job names; None: not ours
    hash: str  # content hash of its canonical synced fields (those the job's rules say the source decides)
    memberships: frozenset[str] = frozenset()
    # The kept fields it holds a value for, when its body was read (None: not read, so not known).
    filled: frozenset[str] | None = None
    adopted: bool = False  # the target's own contact, adopted: released, never deleted
    client_data: tuple[tuple[str, str], ...] = ()  # an own contact's clientData, kept when it is adopted


# A link's photo when a run stopped before writing the photo it planned: never a source's fingerprint (a URL
# or an etag), so the next run sends the photo again (or removes it) rather than trusting the link.
PHOTO_UNKNOWN = "(unknown)"


class LinkState(NamedTuple):
    source_key: str
    target_resource_name: str
    content_hash: str
    target_etag: str
    photo: str | None = None  # the source photo last written to this contact
    adopted: bool = False


class Create(NamedTuple):
    """A contact to create. Its body is built when it is sent (`person`), not when it is planned: a plan
    of 2,000 creates then holds 2,000 references, not 2,000 bodies, per target in flight. A NamedTuple, like
    the source's items: a first sync plans one per contact and target."""

    source_key: str
    item: SourceItem
    groups: frozenset[str]
    job_uid: str

    @property
    def hash(self) -> str:
        return self.item.hash

    @property
    def person(self) -> JSON:
        return _person(self.job_uid, self.item, self.groups)

    @property
    def wire(self) -> bytes:
        """`person` as JSON, for a request body (made as the request is sent: sync_core.google.people): the
        source fields serialised once per run when they are a `SharedBody` (see `share_bodies`), only this
        target's memberships and our tag made here."""
        return person_json(self.job_uid, self.item, self.groups)


def _shared_framing(entry: SourceItem | Create) -> Framed | None:
    """A kept item's shared body's framing (see `Creates.wires`); None for anything else."""
    if isinstance(entry, Create):
        return None
    body = entry.body
    return body.framed(entry.key) if type(body) is SharedBody else None


class Creates(Sequence[Create]):
    """A plan's creates, as a list of `Create`s reads: kept as the source contacts they copy, with the groups
    and the job they are all created with, a `Create` made each time one is read. A first sync plans one for
    each contact of every target, and a target keeps its plan while it waits for Google: 500 `Create`s cost it
    some 35 KB, 500 references to the run's shared source items 4 KB. A create made with other groups (or
    under another key) than the first one's is kept as it is."""

    __slots__ = ("_entries", "_groups", "_job_uid")

    def __init__(self, creates: Iterable[Create] = ()) -> None:
        self._entries: list[SourceItem | Create] = []
        self._groups: frozenset[str] | None = None
        self._job_uid = ""
        for create in creates:
            self.append(create)

    def add(self, key: str, item: SourceItem, groups: frozenset[str], job_uid: str) -> None:
        """`append(Create(key, item, groups, job_uid))`, without making the Create."""
        if self._groups is None:
            self._groups, self._job_uid = groups, job_uid
        if key == item.key and (groups is self._groups or groups == self._groups) and job_uid == self._job_uid:
            self._entries.append(item)
        else:
            self._entries.append(Create(key, item, groups, job_uid))

    def append(self, create: Create) -> None:
        self.add(*create)

    def source_keys(self) -> list[str]:
        return [e.source_key if isinstance(e, Create) else e.key for e in self._entries]

    def hashes(self) -> dict[str, str]:
        """Each create's content hash by its source key, without making the `Create`s."""
        return {e.source_key if isinstance(e, Create) else e.key: e.hash for e in self._entries}

    # A batch of creates is sent as the JSON of each (`wires`), its length counted first (`wires_size`) without
    # making them: a first sync sends one for each contact of every target, and making each contact's JSON
    # twice over, a `Create` and a generator step at a time, cost 4 us a contact (a tenth of what the whole first
    # sync cost; 1.5 us now, both passes: bench/RESULTS.md). Here a shared body's
    # parts (`SharedBody.framed`) are put around the target's own part once per contact, in one loop.
    def wires(self) -> list[bytes]:
        """Each create's JSON (`Create.wire`, byte for byte), made now."""
        tail = self._tail()
        made: list[bytes] = []
        for entry in self._entries:
            framed = _shared_framing(entry)
            made.append(b"".join((framed.head, tail, framed.end)) if framed is not None else self._create(entry).wire)
        return made

    def wires_size(self) -> int:
        """`sum(map(len, self.wires()))`, without making what a shared body makes."""
        tail = len(self._tail())
        size = 0
        for entry in self._entries:
            framed = _shared_framing(entry)
            size += framed.size + tail if framed is not None else len(self._create(entry).wire)
        return size

    def _tail(self) -> bytes:
        return b"" if self._groups is None else _tail_start(self._job_uid, self._groups)

    def _create(self, entry: SourceItem | Create) -> Create:
        if isinstance(entry, Create):
            return entry
        assert self._groups is not None  # an item is kept only once the first create set them
        return Create(entry.key, entry, self._groups, self._job_uid)

    def __len__(self) -> int:
        return len(self._entries)

    @overload
    def __getitem__(self, index: int) -> Create: ...

    @overload
    def __getitem__(self, index: slice) -> Creates: ...

    def __getitem__(self, index: int | slice) -> Create | Creates:
        if isinstance(index, slice):
            part = Creates()
            part._entries, part._groups, part._job_uid = self._entries[index], self._groups, self._job_uid
            return part
        return self._create(self._entries[index])

    def __iter__(self) -> Iterator[Create]:
        return map(self._create, self._entries)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str | bytes):
            return NotImplemented
        return len(self) == len(other) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]  # mutable, like a list

    def __repr__(self) -> str:
        return f"Creates({list(self)!r})"


@dataclass(frozen=True, slots=True)
class Update:
    """A contact to update. Like a create's, its body is built when it is sent (`person`): a target waiting
    for its quota window holds what it still has to write, not the bodies."""

    source_key: str
    resource_name: str
    item: SourceItem  # what the contact becomes (the run's shared source contact)
    etag: str  # the contact's, as read: the update is refused if it moved since
    groups: frozenset[str]  # its memberships once updated
    job_uid: str
    fix_memberships: bool  # memberships belong in this update's mask
    reason: str  # "source_changed" | "target_edited" | "membership" | "adopted"
    photo: str | None = None  # the photo at the target once the plan is applied
    # The body fields written (the update mask, less memberships): the job's copied fields, less the kept
    # ones the target holds; clientData unless the contact is an adopted one (its other entries stay).
    fields: tuple[str, ...] | None = None  # None: every synced field and clientData (the default rules)
    adopted: bool = False
    # An adopted contact's own clientData entries, kept beside our tag and our mark (None: not an adoption).
    own_client_data: tuple[tuple[str, str], ...] | None = None

    @property
    def hash(self) -> str:
        return self.item.hash

    @property
    def person(self) -> JSON:
        """The body sent, with the etag."""
        person = _body_update(self.job_uid, self.item, self.groups, self.fields)
        if self.own_client_data is not None:
            person[TAG_FIELD] = [
                *({"key": k, "value": v} for k, v in self.own_client_data),
                tag_entry(self.job_uid, self.item.key),
                adopted_entry(self.job_uid),
            ]
        person["etag"] = self.etag
        return person


@dataclass(frozen=True)
class Delete:
    resource_name: str
    source_key: str | None
    reason: str  # "source_removed" | "duplicate" | "target_left"


@dataclass(frozen=True)
class Release:
    """An adopted contact the job lets go of instead of deleting: our tag and the label go, the rest stays."""

    resource_name: str
    source_key: str | None
    reason: str


@dataclass(frozen=True)
class Keep:
    """No write needed; the link is (re)recorded when it differs from what we know."""

    source_key: str
    resource_name: str
    hash: str
    etag: str
    photo: str | None = None
    adopted: bool = False


@dataclass(frozen=True)
class PhotoChange:
    """Set (photo) or remove (None) the photo of a contact; resource_name None: the one just created."""

    source_key: str
    resource_name: str | None
    photo: str | None


@dataclass
class Plan:
    creates: Creates = field(default_factory=Creates)  # a list of Creates is taken too
    updates: list[Update] = field(default_factory=list)
    deletes: list[Delete] = field(default_factory=list)
    keeps: list[Keep] = field(default_factory=list)
    relinks: list[Keep] = field(default_factory=list)  # keeps whose link row must be written
    dropped_links: list[str] = field(default_factory=list)  # source keys whose link row goes
    photos: list[PhotoChange] = field(default_factory=list)
    releases: list[Release] = field(default_factory=list)  # adopted contacts let go (never deleted)
    ambiguous: list[str] = field(default_factory=list)  # source keys whose own-contact match was not one to one
    # A dry run's word on each field its updates change: (field, what happens) -> how many contacts.
    field_changes: dict[tuple[str, str], int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.creates, Creates):
            self.creates = Creates(self.creates)

    @property
    def is_empty(self) -> bool:
        return not (
            self.creates or self.updates or self.deletes or self.relinks or self.dropped_links or self.photos
            or self.releases
        )

    @property
    def writes(self) -> int:
        return len(self.creates) + len(self.updates) + len(self.deletes) + len(self.photos) + len(self.releases)


def _person(job_uid: str, item: SourceItem, groups: Iterable[str]) -> JSON:
    person: JSON = dict(item.body)
    person[MEMBERSHIPS] = shared_membership_entries(frozenset(groups))
    person[TAG_FIELD] = [tag_entry(job_uid, item.key)]
    return person


def person_json(job_uid: str, item: SourceItem, groups: frozenset[str]) -> bytes:
    """The JSON of `_person(job_uid, item, groups)`, byte for byte: the body's fields, then memberships and our
    tag, spliced as bytes so that a `SharedBody`'s fields are serialised once per run, not once per target."""
    body = item.body
    framed: Framed | None
    if isinstance(body, SharedBody):
        framed = body.framed(item.key)
    elif MEMBERSHIPS in body or TAG_FIELD in body:
        framed = None
    else:
        fields = orjson.dumps(body)[1:-1]
        framed = Framed.around(b"".join((b"{", fields, b"," if fields else b"")), item.key)
    if framed is None:  # the body holds memberships or our tag: never from a source read; _person overrides them
        return orjson.dumps(_person(job_uid, item, groups))
    return b"".join((framed.head, _tail_start(job_uid, groups), framed.end))


@functools.lru_cache(maxsize=256)
def _tail_start(job_uid: str, groups: frozenset[str]) -> bytes:
    """What every created contact of a target says after its fields, up to its tag's value (the source key)."""
    entry = orjson.dumps(tag_entry(job_uid, ""))
    assert entry.endswith(b'""}')
    return b"".join((
        orjson.dumps(MEMBERSHIPS), b":", orjson.dumps(shared_membership_entries(groups)), b",",
        orjson.dumps(TAG_FIELD), b":[", entry[: -len(b'""}')],
    ))


def _keeper(candidates: list[TargetItem], link: LinkState | None) -> TargetItem:
    if link is not None:
        for c in candidates:
            if c.resource_name == link.target_resource_name:
                return c
    return min(candidates, key=lambda c: c.resource_name)


def _gone(plan: Plan, item: TargetItem, key: str | None, reason: str) -> None:
    """A contact of ours the target no longer needs: deleted, or, when it was the target's own, released."""
    if item.adopted:
        plan.releases.append(Release(item.resource_name, key, reason))
    else:
        plan.deletes.append(Delete(item.resource_name, key, reason))


def plan_target(
    *,
    job_uid: str,
    source: Mapping[str, SourceItem],
    target: Iterable[TargetItem],
    links: Mapping[str, LinkState],
    required_groups: frozenset[str],
    unwanted_groups: frozenset[str] = frozenset(),
    rules: FieldRules = DEFAULT_RULES,
    adopt: Mapping[str, TargetItem] | None = None,
    ambiguous: Iterable[str] = (),
) -> Plan:
    """Plan what makes the target's contacts of this job equal the source.

    `target` may hold any contacts: those not tagged for this job are ignored, never touched.
    `required_groups`: the job's group in this account (and My Contacts where asked).
    `unwanted_groups`: groups our contacts must leave (My Contacts, once the job no longer asks for it).
    `rules`: the job's field rules: only the copied fields are compared and written, the kept ones only where
    the target holds none. `adopt`: source key -> the target's own contact to adopt instead of creating a copy
    (see sync.adoption); `ambiguous`: source keys whose match was not one to one (created as usual, said).
    """
    plan = Plan(ambiguous=sorted(ambiguous))
    adopt = adopt or {}
    ours: dict[str, list[TargetItem]] = {}
    for item in target:
        if item.source_key is not None:
            ours.setdefault(item.source_key, []).append(item)

    for key in sorted(source):
        src = source[key]
        candidates = ours.pop(key, [])
        link = links.get(key)
        if not candidates:
            own = adopt.get(key)
            if own is not None:
                _plan_adoption(plan, job_uid, src, own, required_groups, unwanted_groups, rules)
                continue
            plan.creates.add(key, src, required_groups, job_uid)
            if src.photo is not None and rules.photo != "off":
                plan.photos.append(PhotoChange(key, None, src.photo))
            continue
        keeper = _keeper(candidates, link)
        for extra in candidates:
            if extra is not keeper:
                _gone(plan, extra, key, "duplicate")

        _plan_held(plan, job_uid, key, src, keeper, link, required_groups, unwanted_groups, rules)

    for key, leftovers in sorted(ours.items()):
        for item in leftovers:
            _gone(plan, item, key, "source_removed")

    if links:
        planned = {*plan.creates.source_keys(), *(k.source_key for k in plan.keeps)}
        planned |= {u.source_key for u in plan.updates}
        plan.dropped_links = sorted(k for k in links if k not in planned)
    return plan


def _written_fields(rules: FieldRules, fill: Iterable[str], *, tag: bool) -> tuple[str, ...] | None:
    """An update's mask (less memberships): the fields the source decides, the kept ones to fill, and our tag
    unless the contact is an adopted one. None: the default rules' mask."""
    if rules.is_default and tag:
        return None
    wanted = set(rules.managed) | set(fill)
    fields = tuple(f for f in rules.body_fields if f in wanted)
    return (*fields, TAG_FIELD) if tag else fields


def _body_update(job_uid: str, src: SourceItem, groups: frozenset[str], fields: tuple[str, ...] | None) -> JSON:
    person = _person(job_uid, src, groups)
    if fields is not None:
        person = {k: v for k, v in person.items() if k in fields or k == MEMBERSHIPS}
    return person


def _plan_adoption(
    plan: Plan,
    job_uid: str,
    src: SourceItem,
    own: TargetItem,
    required_groups: frozenset[str],
    unwanted_groups: frozenset[str],
    rules: FieldRules,
) -> None:
    """Adopt a target's own contact: tagged as ours (its other clientData kept), put in the label, the copied
    fields written but for the kept ones it holds."""
    fill = src.kept - (own.filled or frozenset()) if own.filled is not None else frozenset()
    fields = _written_fields(rules, fill, tag=False)
    assert fields is not None
    groups = own.memberships | required_groups  # its own groups (My Contacts too) are the user's business
    plan.updates.append(Update(
        src.key, own.resource_name, src, own.etag, groups, job_uid, True, "adopted", None, (*fields, TAG_FIELD),
        True, own_client_data=tuple(own.client_data),
    ))


def _plan_held(
    plan: Plan,
    job_uid: str,
    key: str,
    src: SourceItem,
    keeper: TargetItem,
    link: LinkState | None,
    required_groups: frozenset[str],
    unwanted_groups: frozenset[str],
    rules: FieldRules = DEFAULT_RULES,
) -> None:
    """Plan one source contact the target already holds (as `keeper`): its photo, then keep it as it is, or
    update its content or its groups, saying why."""
    if keeper.adopted:
        unwanted_groups = frozenset()  # an adopted contact's own groups are the user's business
    # What photo the contact has, if we know: the one we last wrote to this very contact.
    known_photo = link is not None and link.target_resource_name == keeper.resource_name
    photo_now = link.photo if known_photo and link is not None else None
    if rules.photo == "copy" and (
        (known_photo and photo_now != src.photo) or (not known_photo and src.photo is not None)
    ):
        plan.photos.append(PhotoChange(key, keeper.resource_name, src.photo))
        photo_now = src.photo
    missing_groups = not required_groups <= keeper.memberships or bool(unwanted_groups & keeper.memberships)
    untouched = (
        link is not None and link.target_etag == keeper.etag and link.target_resource_name == keeper.resource_name
    )
    # Kept fields the target holds no value for, while the source does: filled (known only from a read body).
    fill = src.kept - keeper.filled if keeper.filled is not None else frozenset()
    if untouched:
        assert link is not None
        content_ok = link.content_hash == src.hash
    else:
        content_ok = keeper.hash == (src.core or src.hash) and not fill
    if content_ok and not missing_groups:
        keep = Keep(key, keeper.resource_name, src.hash, keeper.etag, photo_now, keeper.adopted)
        plan.keeps.append(keep)
        if not untouched:
            plan.relinks.append(keep)
        return
    fields = _written_fields(rules, fill, tag=not keeper.adopted)
    groups = (keeper.memberships | required_groups) - unwanted_groups
    if missing_groups and content_ok:
        reason = "membership"
    elif untouched:
        reason = "source_changed"
    else:
        reason = "target_edited" if link is not None and link.content_hash == src.hash else "source_changed"
    plan.updates.append(Update(
        key, keeper.resource_name, src, keeper.etag, groups, job_uid, missing_groups, reason, photo_now, fields,
        keeper.adopted,
    ))


def plan_removal(*, target: Iterable[TargetItem]) -> Plan:
    """A user who left the target set: every contact of ours goes, and only those."""
    plan = Plan()
    for item in target:
        if item.source_key is not None:
            _gone(plan, item, item.source_key, "target_left")
    return plan


def observed_from_links(
    links: Mapping[str, LinkState],
    changed: Iterable[TargetItem],
    deleted: Iterable[str],
    *,
    assumed_groups: frozenset[str],
) -> list[TargetItem]:
    """What the target holds, from our links plus an incremental read's changes and deletions.

    A contact we linked and the read did not report is as we left it: same etag, same content, still
    in the job's groups.
    """
    held: dict[str, TargetItem] = {
        link.target_resource_name: TargetItem(
            link.target_resource_name, link.target_etag, link.source_key, link.content_hash, assumed_groups,
            adopted=link.adopted,
        )
        for link in links.values()
    }
    for rn in deleted:
        held.pop(rn, None)
    for item in changed:
        held[item.resource_name] = item
    return list(held.values())


def source_changed(before: Mapping[str, SourceItem], after: Mapping[str, SourceItem]) -> bool:
    """Whether a source read changed anything the targets get: a contact added, removed, edited or re-photoed."""
    if before.keys() != after.keys():
        return True
    return any((before[k].hash, before[k].photo) != (item.hash, item.photo) for k, item in after.items())


def source_version(items: Mapping[str, SourceItem], *settings: object) -> str:
    """A digest of everything a target's synced contacts are made from: each source contact's content and
    photo, and the job's target-side settings. Two runs with the same version would plan the same writes
    for a target that did not change in between."""
    digest = hashlib.sha256(repr(settings).encode("utf-8"))
    for key in sorted(items):
        item = items[key]
        digest.update(f"\x00{key}\x00{item.hash}\x00{item.photo or ''}".encode())
    return digest.hexdigest()


def echo_value(resource_name: str, etag: str) -> int:
    """One (resourceName, etag) pair's part of an echo digest: its 128-bit XXH3.

    Not a cryptographic hash, on purpose: Google chooses both halves of every pair (nobody can pick an etag to
    make two sets collide), so the digest guards against chance alone, which 128 bits put at 2**-128 a
    comparison. The run after a first sync takes this once for each contact it wrote, and SHA-256 (an OpenSSL
    object a pair) cost 0.7 us against XXH3's 0.2. A digest of the older kind (64 hex digits) never equals
    one of these (32): the target is then checked against its links once, as when no digest was kept."""
    return xxh3_128_intdigest(echo_key(resource_name, etag))


def echo_key(resource_name: str, etag: str) -> bytes:
    """The bytes of a pair that `echo_value` hashes."""
    return f"{resource_name}\x00{etag}".encode()


def echo_sum(keys: Iterable[bytes]) -> int:
    """The sum of the `echo_value`s of many pairs' `echo_key`s, hashed and added in C (a page at a time)."""
    return sum(map(xxh3_128_intdigest, keys))


ECHO_MODULUS = 1 << 128


def echo_hex(total: int) -> str:
    """The stored form of a sum of `echo_value`s."""
    return f"{total % ECHO_MODULUS:032x}"


class EchoDigest:
    """A digest of a set of (resourceName, etag) pairs, built one pair at a time in any order: what a run
    wrote to a target, compared with what the next incremental read reports of ours. A multiset hash (the
    sum of the pairs' `echo_value`s, modulo 2**128), so a run can add each batch's writes as they are
    stored and forget them, and take back a pair that a later write in the same run superseded."""

    __slots__ = ("total", "count")

    def __init__(self) -> None:
        self.total = 0
        self.count = 0

    def add(self, resource_name: str, etag: str) -> None:
        self.total = (self.total + echo_value(resource_name, etag)) % ECHO_MODULUS
        self.count += 1

    def add_all(self, pairs: Iterable[tuple[str, str]]) -> None:
        """`add` of each pair (the same value), summed as they come and reduced once: a batch's 200 writes."""
        keys = [echo_key(rn, etag) for rn, etag in pairs]
        self.total = (self.total + echo_sum(keys)) % ECHO_MODULUS
        self.count += len(keys)

    def remove(self, resource_name: str, etag: str) -> None:
        self.total = (self.total - echo_value(resource_name, etag)) % ECHO_MODULUS
        self.count -= 1

    def hexdigest(self) -> str | None:
        return echo_hex(self.total) if self.count else None


def echo_digest(pairs: Iterable[tuple[str, str]]) -> str | None:
    """`EchoDigest` of all the pairs at once (the same value)."""
    total = count = 0
    for rn, etag in pairs:  # a running sum: no list of 2,000 big ints to build and sum
        total += echo_value(rn, etag)
        count += 1
    return echo_hex(total) if count else None
