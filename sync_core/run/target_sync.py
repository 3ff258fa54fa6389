"""Syncing one target account: find or make the job's group, read, plan, check limits, apply.

Everything here is for ONE user and runs on one thread, so the user's mutations stay sequential as
the People API asks. It talks to Google only; the engine persists what it returns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

from sync_core.domain.contacts import (
    MY_CONTACTS,
    canonical_body,
    content_hash,
    memberships_of,
    read_tag,
    tag_key,
    written_by_a_sync,
)
from sync_core.domain.reports import ContactCounts, LabelFate
from sync_core.domain.status import TargetStatus
from sync_core.google.errors import BadRequest, Conflict, GoogleError, NotFound, PreconditionFailed, SyncTokenExpired
from sync_core.google.people import BATCH_CREATE_MAX, BATCH_DELETE_MAX, BATCH_UPDATE_MAX, chunks
from sync_core.google.people_account import PeopleAccount
from sync_core.sync.deletion_guard import GuardPolicy, hold_source_removals
from sync_core.sync.plan import (
    PHOTO_UNKNOWN,
    EchoDigest,
    LinkState,
    Plan,
    SourceItem,
    TargetItem,
    echo_digest,
    observed_from_links,
    plan_removal,
    plan_target,
)

JSON = dict[str, Any]
# What an incremental sync answers when what we remembered is out of date (a stale etag, a deleted group).
STALE_MEMORY = (PreconditionFailed, SyncTokenExpired, NotFound, BadRequest)


@dataclass
class TargetJob:
    """What one target's sync needs to know of the job."""

    job_uid: str
    group_name: str
    add_to_my_contacts: bool
    max_contacts: int
    # The mass-deletion guard (see deletion_guard); None: this run's deletions go through (an admin applied
    # them, or the run was told to allow them).
    deletion_guard: GuardPolicy | None = None


class TargetMemory:
    """What we knew of this target before the run. Its links (one per synced contact) are read from the
    store only when the sync needs them: a target already in sync never does."""

    def __init__(
        self,
        group_resource_name: str | None = None,
        sync_token: str | None = None,
        full_read_due: bool = True,
        links: dict[str, LinkState] | None = None,
        *,
        load_links: Callable[[], dict[str, LinkState]] | None = None,
        source_version: str | None = None,
        echo_digest: str | None = None,
        linked: Callable[[list[str]], set[str]] | None = None,
    ) -> None:
        self.group_resource_name = group_resource_name
        self.sync_token = sync_token
        self.full_read_due = full_read_due
        self.source_version = source_version
        self.echo_digest = echo_digest
        self._links = links
        self._load_links = load_links
        self._linked = linked

    def linked(self, resource_names: list[str]) -> set[str]:
        """Which of these contacts we have links to, without loading every link when we need not."""
        if self._links is None and self._linked is not None:
            return self._linked(resource_names)
        names = set(resource_names)
        return {link.target_resource_name for link in self.links.values()} & names

    @property
    def links(self) -> dict[str, LinkState]:
        if self._links is None:
            self._links = self._load_links() if self._load_links is not None else {}
        return self._links


@dataclass
class LinkWrite:
    source_key: str
    target_resource_name: str
    content_hash: str
    target_etag: str
    photo: str | None = None


PhotoLoader = Callable[[str, str], bytes | None]  # (source key, photo fingerprint) -> image bytes
LinkSink = Callable[[list[LinkWrite]], None]  # stores the links of a batch as soon as it is written


@dataclass
class TargetOutcome(ContactCounts):
    status: TargetStatus = TargetStatus.ok
    reason: str = ""
    plan: Plan | None = None
    group_resource_name: str | None = None
    sync_token: str | None = None
    full_read: bool = False
    source_version: str | None = None  # set when the target ended in sync with this source version
    in_sync: bool = False  # found in sync without a write or a plan (its state can be stored later)
    link_writes: list[LinkWrite] = field(default_factory=list)  # those not yet handed to `on_links`
    dropped_links: list[str] = field(default_factory=list)
    group_removed: bool = False
    label: LabelFate = LabelFate.absent  # what a remove or release did with the job's label
    echo: EchoDigest = field(default_factory=EchoDigest)  # what this run wrote to Google, as it will echo

    @property
    def wrote(self) -> bool:
        return self.echo.count > 0

    @property
    def echo_digest(self) -> str | None:
        """What this run wrote, as the next incremental read will report it back."""
        return self.echo.hexdigest()


class Seen(NamedTuple):
    """What a read keeps of one contact (read with `TARGET_READ_FIELDS`: no synced fields)."""

    resource_name: str
    etag: str
    source_key: str | None  # what our tag for this job names; None: not ours
    memberships: frozenset[str]
    deleted: bool = False


def _target_item(seen: Seen, known: dict[str, LinkState]) -> TargetItem | None:
    """What the planner needs of one contact.

    `known`: our links by target resourceName. A contact whose etag is the one we last wrote holds what we
    wrote, so its hash is the link's. A contact that is not ours is never compared (the planner ignores it).
    None: ours, but changed since we wrote it: its body must be read to compare it.
    """
    if seen.source_key is None:
        return TargetItem(seen.resource_name, seen.etag, None, "", seen.memberships)
    link = known.get(seen.resource_name)
    if link is not None and seen.etag and link.target_etag == seen.etag:
        return TargetItem(seen.resource_name, seen.etag, seen.source_key, link.content_hash, seen.memberships)
    return None


def _full_item(person: JSON, job_uid: str) -> TargetItem:
    return TargetItem(
        person["resourceName"],
        person.get("etag", ""),
        read_tag(person, job_uid),
        content_hash(canonical_body(person)),
        memberships_of(person),
    )


def _is_ours(group: JSON, job_uid: str) -> bool:
    return any(d.get("key") == tag_key(job_uid) for d in group.get("clientData", []) or [])


def _is_another_jobs(group: JSON, job_uid: str) -> bool:
    return written_by_a_sync(group) and not _is_ours(group, job_uid)


class LabelTaken(Exception):
    """The account holds a label of the job's name that is not this job's (another job made it, or the target
    made its own after renaming ours): one label, one owner."""


class TargetSync:
    def __init__(
        self,
        people: PeopleAccount,
        job: TargetJob,
        *,
        dry_run: bool = False,
        photos: PhotoLoader | None = None,
        on_links: LinkSink | None = None,
    ) -> None:
        """`on_links`: where each batch's links go as soon as it is written (the engine stores them), so a
        target holds one batch of them at a time and a crash keeps what went through. Without it they are
        all returned in the outcome."""
        self.people = people
        self.job = job
        self.dry_run = dry_run
        self.photos = photos
        self.on_links = on_links

    # --- reading ------------------------------------------------------------------------------------
    def _keeper(self, *, incremental: bool) -> Callable[[JSON], Seen | None]:
        """What a read keeps of each contact: ours, and deletions; on an incremental read also the target's
        own changed contacts (one may carry the resourceName of a contact we linked, its tag removed). A
        full read drops the target's own contacts as they come: the planner never looks at them."""
        groups: dict[frozenset[str], frozenset[str]] = {}  # one frozenset per distinct set of groups
        uid = self.job.job_uid

        def keep(person: JSON) -> Seen | None:
            rn = person.get("resourceName")
            if not rn:
                return None
            if person.get("metadata", {}).get("deleted"):
                return Seen(rn, "", None, frozenset(), True)
            source_key = read_tag(person, uid)
            if source_key is None and not incremental:
                return None
            member_of = memberships_of(person)
            return Seen(rn, person.get("etag", ""), source_key, groups.setdefault(member_of, member_of))

        return keep

    # --- the job's contact group -------------------------------------------------------------------
    def _find_group(self, *, claim: bool = False) -> JSON | None:
        """The job's label here. `claim`: it is about to be written, so a label of its name (in any case)
        that another job made raises LabelTaken instead of being shared."""
        groups = [g for g in self.people.list_groups() if g.get("groupType") == "USER_CONTACT_GROUP"]
        ours = [g for g in groups if _is_ours(g, self.job.job_uid)]
        if ours:
            return ours[0]
        if claim:
            name = self.job.group_name.casefold()
            for g in groups:
                if str(g.get("name", "")).casefold() == name and _is_another_jobs(g, self.job.job_uid):
                    raise LabelTaken(f"the label {g.get('name')!r} in this account belongs to another sync; "
                                     "nothing was written here")
        # A label of that name that we didn't tag: use it, never rename or delete it. Google compares label
        # names without case (a user has one "Partners" or one "partners"), so we do too.
        name = self.job.group_name.casefold()
        return next((g for g in groups if str(g.get("name", "")).casefold() == name), None)

    def _misnamed(self, group: JSON) -> bool:
        """The label is not under the job's name: the target renamed it. A label of the target's own that the
        job writes to (found without case) keeps the case they gave it."""
        name = str(group.get("name", ""))
        if name == self.job.group_name:
            return False
        return _is_ours(group, self.job.job_uid) or name.casefold() != self.job.group_name.casefold()

    def _named_back(self, group: JSON) -> JSON:
        """Our label under the job's name again, after the target renamed it. If they have since made a label
        of their own under that name, Google refuses (409): one label, one owner, so this target is a
        conflict, reported for an admin to settle (rename the sync's label, or remove the target)."""
        try:
            return self.people.rename_group(group, self.job.group_name)
        except Conflict:
            raise LabelTaken(
                f"this account renamed the sync's label to {group.get('name')!r} and has a label of its own "
                f"named {self.job.group_name!r}; nothing was written here"
            ) from None

    def _ensure_group(self) -> str | None:
        group = self._find_group(claim=True)
        if group is None:
            if self.dry_run:
                return None
            tag = [{"key": tag_key(self.job.job_uid), "value": "group"}]
            return str(self.people.create_group(self.job.group_name, tag)["resourceName"])
        if self._misnamed(group) and not self.dry_run:
            self._named_back(group)  # put back a target's rename
        return str(group["resourceName"])

    def _label_kept(self, group_rn: str) -> int:
        """The job's label as the target left it, under the job's name again if they renamed it: how many
        contacts it holds. Raises NotFound when they deleted it."""
        group = self.people.get_group(group_rn)
        if self._misnamed(group) and not self.dry_run:
            group = self._named_back(group)
        return int(group.get("memberCount", 0) or 0)  # Google leaves memberCount out when it is 0

    # --- one target ---------------------------------------------------------------------------------
    def sync(
        self, source: dict[str, SourceItem], memory: TargetMemory, *, source_version: str | None = None
    ) -> TargetOutcome:
        """`source_version`: the digest of this run's source and target-side settings (see engine)."""
        incremental = bool(memory.sync_token and memory.group_resource_name and not memory.full_read_due)
        try:
            try:
                out = self._sync(source, memory, incremental, source_version)
            except STALE_MEMORY:
                if not incremental:
                    raise
                # What we remembered is out of date (a stale etag, a deleted group): read it all again.
                out = self._sync(source, memory, False, source_version)
        except LabelTaken as taken:
            return TargetOutcome(status=TargetStatus.conflict, reason=str(taken))
        if out.status is TargetStatus.ok and not self.dry_run and not out.held:
            out.source_version = source_version  # a target with held deletions is not in sync: planned again
        return out

    def _sync(
        self, source: dict[str, SourceItem], memory: TargetMemory, incremental: bool, source_version: str | None
    ) -> TargetOutcome:
        out = TargetOutcome(full_read=not incremental)
        holds: int | None = None  # what the label holds (incremental runs only)
        if incremental:
            group_rn: str | None = memory.group_resource_name
            assert group_rn is not None
            # A sync token shows our contacts' changes, never the label's: one group read (their own, cheaper
            # quota) sees it renamed (put back here), deleted (NotFound: a full read recreates it) or emptied.
            holds = self._label_kept(group_rn)
            try:
                read = self.people.read_connections(
                    sync_token=memory.sync_token, keep=self._keeper(incremental=True)
                )
            except SyncTokenExpired:
                return self._sync(source, memory, False, source_version)
        else:
            group_rn = self._ensure_group()
            read = self.people.read_connections(keep=self._keeper(incremental=False))
        out.group_resource_name = group_rn
        out.sync_token = read.next_sync_token
        in_sync_before = incremental and source_version is not None and memory.source_version == source_version
        if in_sync_before and holds is not None and holds + len(read.people) < len(source):
            # The label lost members that the read does not explain: read everything.
            return self._sync(source, memory, False, source_version)
        if in_sync_before and self._nothing_of_ours_moved(read.people, memory):
            # The source is as this target last had it, and nothing of ours changed there: in sync.
            out.unchanged = len(source)
            out.in_sync = True
            return out

        changed, deleted = self._items(read.people, memory)
        required = frozenset({group_rn or "contactGroups/(new)"})
        if self.job.add_to_my_contacts:
            required |= {MY_CONTACTS}
        observed = (
            observed_from_links(memory.links, changed, deleted, assumed_groups=required) if incremental else changed
        )
        plan = plan_target(
            job_uid=self.job.job_uid,
            source=source,
            target=observed,
            links=memory.links,
            required_groups=required,
            unwanted_groups=frozenset() if self.job.add_to_my_contacts else frozenset({MY_CONTACTS}),
        )
        if self.job.deletion_guard is not None:
            guarded = hold_source_removals(plan, self.job.deletion_guard)
            plan, out.held = guarded.plan, guarded.held
        out.plan = plan
        out.unchanged = len(plan.keeps)

        if plan.creates:
            if read.total is not None:
                size = read.total
            elif not incremental:
                size = read.listed  # Google leaves totalPeople out when it is 0; a full read counted them
            else:
                size = self.people.account_size()
            projected = size + len(plan.creates) - len(plan.deletes)
            if projected > self.job.max_contacts:
                out.status = TargetStatus.too_many_contacts
                out.reason = (
                    f"would hold {projected} contacts; Google allows {self.job.max_contacts} per account. "
                    "Nothing was written."
                )
                return out
        if self.dry_run:
            out.created, out.updated, out.deleted = len(plan.creates), len(plan.updates), len(plan.deletes)
            return out
        self._apply(plan, out)
        return out

    def _nothing_of_ours_moved(self, seen: list[Seen], memory: TargetMemory) -> bool:
        """True when an incremental read reports no deletion (it carries no tag: it may be ours), none of the
        target's own contacts under a name we linked, and, of our contacts, only the echoes of our own last
        writes (the etag we wrote, so the content and memberships we wrote): the run after a first sync sees
        every contact it created, and nothing else."""
        if any(s.deleted for s in seen):
            return False
        ours = [s for s in seen if s.source_key is not None]
        theirs = [s for s in seen if s.source_key is None]
        if theirs and memory.linked([s.resource_name for s in theirs]):
            return False  # a contact we linked, no longer tagged as ours
        if not ours:
            return True  # without reading our links
        if memory.echo_digest == echo_digest((s.resource_name, s.etag) for s in ours):
            return True  # exactly what the last run wrote, as it wrote it (still without reading our links)
        links = memory.links
        for s in ours:
            link = links.get(s.source_key or "")
            if link is None or link.target_resource_name != s.resource_name:
                return False
            if not link.target_etag or link.target_etag != s.etag:
                return False
        return True

    def _items(self, seen: list[Seen], memory: TargetMemory) -> tuple[list[TargetItem], list[str]]:
        """The read's contacts as the planner sees them, and the resourceNames it reported deleted.

        Reads carry only etags, memberships and tags; full bodies are fetched (200 a call) for the contacts
        of ours whose etag is not the one we wrote, the only ones whose content is in question. So the run
        after a first sync, which sees every contact it created, downloads none of their bodies again.
        """
        known = {link.target_resource_name: link for link in memory.links.values()} if seen else {}
        changed: list[TargetItem] = []
        deleted: list[str] = []
        edited: list[str] = []
        for s in seen:
            if s.deleted:
                deleted.append(s.resource_name)
            elif (item := _target_item(s, known)) is not None:
                changed.append(item)
            else:
                edited.append(s.resource_name)
        if edited:
            bodies = self.people.get_people(edited)
            changed.extend(_full_item(p, self.job.job_uid) for p in bodies)
            gone = set(edited) - {p.get("resourceName") for p in bodies}
            deleted.extend(sorted(gone))  # deleted between the two reads
        return changed, deleted

    def _apply(self, plan: Plan, out: TargetOutcome) -> None:
        """Write the plan batch by batch. A target that must stop half way (its quota wait ran out, Google
        failed) keeps what it wrote: the counts and the links of every batch that went through."""
        writes: dict[str, LinkWrite] = {}  # by source key: the last word on each link not yet handed on
        photos_done: set[str] = set()
        try:
            self._write(plan, out, writes, photos_done)
        except STALE_MEMORY:
            raise  # an incremental sync starts again from a full read (see sync)
        except GoogleError as exc:
            out.status = exc.kind
            written = f"+{out.created} ~{out.updated} -{out.deleted}"
            out.reason = f"{exc.reason} (stopped after writing {written}; the next run goes on)"[:480]
            # A contact written whose photo change was not: its link must not claim the planned photo (an
            # update's link names it already), or the next run would think it there and never send it.
            pending = {c.source_key for c in plan.photos} - photos_done
            out.link_writes = [replace(w, photo=PHOTO_UNKNOWN) if w.source_key in pending else w
                               for w in writes.values()]
            return
        out.link_writes = list(writes.values())
        out.dropped_links = list(plan.dropped_links)

    def _wrote(self, out: TargetOutcome, writes: dict[str, LinkWrite], link: LinkWrite) -> None:
        """A contact written at Google: its link is the last word for its source key, and it will echo."""
        earlier = writes.get(link.source_key)
        if earlier is not None and earlier.target_etag:
            out.echo.remove(earlier.target_resource_name, earlier.target_etag)  # superseded in this run
        writes[link.source_key] = link
        if link.target_etag:
            out.echo.add(link.target_resource_name, link.target_etag)

    def _hand_on(self, writes: dict[str, LinkWrite], keep: frozenset[str]) -> None:
        """Give the finished links to `on_links` and forget them (those whose photo is still to be written
        stay: their etag changes once more)."""
        if self.on_links is None:
            return
        done = [w for key, w in writes.items() if key not in keep]
        if done:
            self.on_links(done)
            for w in done:
                del writes[w.source_key]

    def _write(self, plan: Plan, out: TargetOutcome, writes: dict[str, LinkWrite], photos_done: set[str]) -> None:
        photo_keys = frozenset(c.source_key for c in plan.photos)
        for part in chunks([d.resource_name for d in plan.deletes], BATCH_DELETE_MAX):
            self.people.batch_delete(part)
            out.deleted += len(part)
        for with_memberships in (False, True):
            batch = [u for u in plan.updates if u.fix_memberships is with_memberships]
            for updates in chunks(batch, BATCH_UPDATE_MAX):
                result = self.people.batch_update(
                    {u.resource_name: u.person for u in updates}, with_memberships=with_memberships
                )
                for u in updates:
                    etag = result.get(u.resource_name, {}).get("etag", "")
                    self._wrote(out, writes, LinkWrite(u.source_key, u.resource_name, u.hash, etag, u.photo))
                out.updated += len(updates)
                self._hand_on(writes, photo_keys)
        created_names: dict[str, str] = {}
        by_key = {c.source_key: c for c in plan.creates}
        for creates in chunks(plan.creates, BATCH_CREATE_MAX):
            created = self.people.batch_create([c.person for c in creates])
            for person in created:
                # Our tag says which source contact each created one mirrors, whatever order Google answers in.
                create = by_key.get(read_tag(person, self.job.job_uid) or "")
                if create is not None and person.get("resourceName"):
                    if create.source_key in photo_keys:
                        created_names[create.source_key] = person["resourceName"]
                    self._wrote(
                        out,
                        writes,
                        LinkWrite(create.source_key, person["resourceName"], create.hash, person.get("etag", "")),
                    )
            out.created += len(created)
            self._hand_on(writes, photo_keys)
        self._apply_photos(plan, created_names, writes, out, photos_done)
        for k in plan.relinks:  # links to record that no write changed (after the photos: those come first)
            writes.setdefault(k.source_key, LinkWrite(k.source_key, k.resource_name, k.hash, k.etag, k.photo))
        self._hand_on(writes, frozenset())

    def _apply_photos(
        self,
        plan: Plan,
        created_names: dict[str, str],
        writes: dict[str, LinkWrite],
        out: TargetOutcome,
        photos_done: set[str],
    ) -> None:
        """Photos go one contact at a time (the API has no batch for them), and only when they changed."""
        keeps = {k.source_key: k for k in plan.keeps}
        for change in plan.photos:
            rn = change.resource_name or created_names.get(change.source_key)
            if rn is None:
                continue
            if change.photo is None:
                person = self.people.delete_photo(rn)
            else:
                data = self.photos(change.source_key, change.photo) if self.photos else None
                if data is None:
                    continue  # the source's photo could not be read; try again next run
                person = self.people.update_photo(rn, data)
            link = writes.get(change.source_key)
            if link is None:
                keep = keeps.get(change.source_key)
                if keep is None:
                    continue
                link = LinkWrite(keep.source_key, keep.resource_name, keep.hash, keep.etag)
            etag = person.get("etag", link.target_etag)
            photo_link = LinkWrite(link.source_key, link.target_resource_name, link.content_hash, etag, change.photo)
            self._wrote(out, writes, photo_link)
            photos_done.add(change.source_key)

    # --- a user who left the target set ----------------------------------------------------------------
    def remove(self, memory: TargetMemory) -> TargetOutcome:
        """Delete every contact of ours and the job's group (if nothing else is left in it)."""
        out = TargetOutcome(status=TargetStatus.removed, full_read=True)
        read = self.people.read_connections(keep=self._keeper(incremental=False))
        items = [TargetItem(s.resource_name, s.etag, s.source_key, "") for s in read.people if not s.deleted]
        plan = plan_removal(target=items)
        out.plan = plan
        if self.dry_run:
            out.deleted = len(plan.deletes)
            return out
        if plan.deletes:
            self.people.batch_delete([d.resource_name for d in plan.deletes])
        out.deleted = len(plan.deletes)
        out.dropped_links = list(memory.links)
        group = self._find_group()
        if group is None:
            return out
        if not _is_ours(group, self.job.job_uid):
            out.label = LabelFate.theirs
            return out
        out.label = LabelFate.in_use
        try:
            fresh = self.people.get_group(group["resourceName"])
            if int(fresh.get("memberCount", 0)) == 0:
                self.people.delete_group(group["resourceName"])
                out.group_removed = True
                out.label = LabelFate.removed
        except GoogleError:
            pass  # the contacts are gone; an empty label left behind is harmless
        return out

    # --- a deleted job that leaves its contacts to the users ---------------------------------------------
    def release(self, memory: TargetMemory) -> TargetOutcome:
        """Take our tag off every contact of ours and off the job's label; nothing else changes. They are then
        the user's own contacts in a label of their own: no sync deletes or rewrites them, and a later sync
        under that label name writes into it as into any label of theirs, without a conflict.

        Paced and batched as any update. A contact the user edits meanwhile fails its batch (a stale etag):
        the account is read again and the rest released (those done carry no tag any more)."""
        assert not self.dry_run, "a release is never planned, only done"
        out = TargetOutcome(status=TargetStatus.removed, full_read=True)
        key = tag_key(self.job.job_uid)

        def tagged(person: JSON) -> tuple[str, JSON] | None:
            rn, data = person.get("resourceName"), person.get("clientData", []) or []
            if not rn or person.get("metadata", {}).get("deleted") or not any(d.get("key") == key for d in data):
                return None
            return rn, {"etag": person.get("etag", ""), "clientData": [d for d in data if d.get("key") != key]}

        for attempt in range(RELEASE_READS):
            ours = dict(self.people.read_connections(keep=tagged).people)
            try:
                for part in chunks(list(ours), BATCH_UPDATE_MAX):
                    self.people.batch_set_client_data({rn: ours[rn] for rn in part})
                    out.updated += len(part)
                break
            except (PreconditionFailed, NotFound):
                if attempt == RELEASE_READS - 1:
                    raise
        out.dropped_links = list(memory.links)
        group = self._find_group()
        if group is None:
            return out
        if not _is_ours(group, self.job.job_uid):
            out.label = LabelFate.theirs
            return out
        self.people.set_group_client_data(group, [d for d in group.get("clientData", []) or []
                                                  if d.get("key") != key])
        out.label = LabelFate.released
        return out


# A release reads the account again (and goes on) at most this many times when the user edits a contact of
# ours while its batch is on the way.
RELEASE_READS = 3
