"""Syncing one target account: the orchestrator of its steps. Find or make the job's label (`target_label`),
read the account, plan, check the plan (`plan_check`), write it (`batch_writer`); or, for an account the job
leaves, remove or release what it wrote there.

Everything here is for ONE user and runs on one thread, so the user's mutations stay sequential as
the People API asks. It talks to Google only; the run persists what it returns (see `job_run`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from sync_core.domain.contacts import (
    MY_CONTACTS,
    adopted_key,
    is_adopted,
    memberships_of,
    read_tag,
    tag_and_adoption,
    tag_key,
)
from sync_core.domain.field_rules import EMAILS, FieldRules, all_emails, first_email
from sync_core.domain.fields import MEMBERSHIPS, METADATA, TAG_FIELD, read_fields
from sync_core.domain.reports import LabelFate
from sync_core.domain.status import TargetStatus
from sync_core.google.errors import NotFound, PreconditionFailed, SyncTokenExpired
from sync_core.google.people import TARGET_READ_FIELDS, ConnectionsRead, ListedPair
from sync_core.google.people_account import PeopleAccount
from sync_core.run.batch_writer import BatchWriter
from sync_core.run.parking import Steps, drive
from sync_core.run.plan_check import check_plan
from sync_core.run.target_label import LabelTaken, TargetLabel
from sync_core.run.target_model import (
    STALE_MEMORY,
    LinkSink,
    LinkWrite,
    PhotoLoader,
    TargetJob,
    TargetMemory,
    TargetOutcome,
)
from sync_core.sync.adoption import match_by_email
from sync_core.sync.plan import (
    LinkState,
    Plan,
    SourceItem,
    TargetItem,
    echo_hex,
    echo_key,
    echo_sum,
    echo_value,
    observed_from_links,
    plan_removal,
    plan_target,
)
from sync_core.sync.projection import field_changes, target_hash

# What callers take from here: the account's sync, and what it takes and gives (defined in `target_model`).
__all__ = ["LinkWrite", "PhotoLoader", "TargetJob", "TargetMemory", "TargetOutcome", "TargetSync"]

JSON = dict[str, Any]


class Seen(NamedTuple):
    """What a read keeps of one contact (read with `TARGET_READ_FIELDS`: no synced fields)."""

    resource_name: str
    etag: str
    source_key: str | None  # what our tag for this job names; None: not ours
    memberships: frozenset[str]
    deleted: bool = False
    adopted: bool = False  # ours, adopted: released, never deleted
    # A target's own contact, on a read that matches existing contacts: its addresses and its clientData.
    emails: frozenset[str] = frozenset()
    client_data: tuple[tuple[str, str], ...] = ()


class EchoTally:
    """What an incremental read that should bring back only our own last writes found, tallied by the read's
    keeper as it keeps each contact (`TargetSync._keeper`): the run after a first sync lists every contact it
    wrote, and the in-sync check then needs no second pass over them (`TargetSync._nothing_of_ours_moved`)."""

    __slots__ = ("total", "ours", "gone", "theirs", "listed")

    def __init__(self) -> None:
        self.total = 0  # the sum of ours' (resourceName, etag) values: see EchoDigest
        self.ours = 0  # contacts kept that carry our tag
        self.gone: list[str] = []  # resourceNames listed as deleted (a deletion carries no tag: it may be ours)
        self.theirs: list[str] = []  # resourceNames kept that carry no tag of ours
        self.listed = 0  # contacts listed with a resourceName (an echo check's count of what a read keeps)

    def count(self, rn: str, etag: str, source_key: str | None) -> None:
        """One contact listed and not deleted: the target's own (no tag of ours), or ours, its (resourceName,
        etag) summed as EchoDigest sums it (here, as the read goes, rather than in a second pass)."""
        if source_key is None:
            self.theirs.append(rn)
        else:
            self.total += echo_value(rn, etag)
            self.ours += 1

    def count_page(self, people: list[JSON], tag: str | None, adopted_tag: str = "") -> None:
        """`count` of each contact of one page of an echo check (read with `echoes_only`: no groups), and each
        deletion in `gone`; `tag`, `adopted_tag`: the job's `tag_key` and `adopted_key`. A page at a time, the
        pairs hashed and summed in C: the run after a first sync lists every contact it wrote, and a call and
        a hash call per contact were a fifth of that run's CPU. `tag` None: see `count_pairs`."""
        keys: list[bytes] = []
        gone, theirs = self.gone, self.theirs
        listed = 0
        for person in people:
            rn = person.get("resourceName")
            if not rn:
                continue
            listed += 1
            metadata = person.get(METADATA)
            if metadata and metadata.get("deleted"):
                gone.append(rn)
                continue
            if tag is None:
                ours = True
            elif (data := person.get(TAG_FIELD)) and len(data) == 1 and (entry := data[0]).get("key") == tag:
                # What `tag_and_adoption` makes of the usual case (our tag, alone), without its call and loop
                ours = bool(str(entry.get("value", "")))
            else:
                ours = tag_and_adoption(person, tag, adopted_tag)[0] is not None
            if ours:
                keys.append(echo_key(rn, person.get("etag", "")))
            else:
                theirs.append(rn)
        self.listed += listed
        self.ours += len(keys)
        self.total += echo_sum(keys)

    def count_pairs(self, pairs: list[ListedPair]) -> None:
        """One page of a read that should list exactly our last writes (read with `keep_pairs`): each contact
        listed and not deleted summed as ours, whatever its tag (if the sum is what we wrote, they are our
        writes, as we wrote them), each deletion in `gone`. The run after a first sync comes here once for
        every contact it wrote: the keys are made as `echo_key` makes them, in one comprehension."""
        listed = [p for p in pairs if p.resource_name]
        self.listed += len(listed)
        if any(p.metadata is not None for p in listed):
            self.gone.extend(p.resource_name for p in listed if p.deleted)
            listed = [p for p in listed if not p.deleted]
        keys = [f"{p.resource_name}\x00{p.etag}".encode() for p in listed]
        self.ours += len(keys)
        self.total += echo_sum(keys)

    def digest(self) -> str | None:
        """`echo_digest` of ours' (resourceName, etag) pairs: the same value."""
        return echo_hex(self.total) if self.ours else None


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
        return TargetItem(seen.resource_name, seen.etag, seen.source_key, link.content_hash, seen.memberships,
                          adopted=seen.adopted or link.adopted)
    return None


def _full_item(person: JSON, job_uid: str, rules: FieldRules) -> TargetItem:
    digest, filled = target_hash(person, rules)
    return TargetItem(
        person["resourceName"],
        person.get("etag", ""),
        read_tag(person, job_uid),
        digest,
        memberships_of(person),
        filled,
        is_adopted(person, job_uid),
    )


def _merged(body: TargetItem, seen: TargetItem) -> TargetItem:
    """A contact's read body, with the groups and the adoption the first read saw."""
    return body._replace(memberships=seen.memberships, adopted=seen.adopted or body.adopted)


def _group_names(person: JSON) -> tuple[str, ...]:
    """The contact's groups as listed (what `memberships_of` makes a set of)."""
    return tuple([  # a list first: tuple() of a generator is slower, once per contact read
        rn for m in person.get(MEMBERSHIPS) or ()
        if (rn := (m.get("contactGroupMembership") or {}).get("contactGroupResourceName"))
    ])


def _client_data(person: JSON) -> tuple[tuple[str, str], ...]:
    return tuple((str(d.get("key", "")), str(d.get("value", ""))) for d in person.get("clientData", []) or [])


_NOT_LISTED = object()  # equal to no contact's memberships (a keeper's first contact reads its groups)


def _read_fields(rules: FieldRules) -> str:
    """What a target's reads ask for: with --match-existing, its contacts' addresses too (on the read a sync
    makes anyway, so matching costs no call). A sync token is bound to these fields: a change of the rule
    forces a full read (see service.changes)."""
    return f"{TARGET_READ_FIELDS},{EMAILS}" if rules.match_existing else TARGET_READ_FIELDS


class TargetSync:
    def __init__(
        self,
        people: PeopleAccount,
        job: TargetJob,
        *,
        dry_run: bool = False,
        photos: PhotoLoader | None = None,
        on_links: LinkSink | None = None,
        after_batch: Callable[[], None] | None = None,
    ) -> None:
        """`on_links`: where the links of each batch written go (the run stores them); without it, they are
        returned in the outcome (see BatchWriter).
        `after_batch`: called after each batch written; it raises to stop the writes (a lost lease)."""
        self.people = people
        self.job = job
        self.dry_run = dry_run
        self.label = TargetLabel(people, job.job_uid, job.group_name, dry_run=dry_run)
        self.writer = BatchWriter(people, job.job_uid, photos=photos, on_links=on_links, after_batch=after_batch)

    # --- reading ------------------------------------------------------------------------------------
    def _bodies(self, resource_names: list[str]) -> list[JSON]:
        """The contacts' bodies, with the extra fields the job copies (none by default: READ_FIELDS)."""
        return self.people.get_people(resource_names, person_fields=",".join(read_fields(self.job.rules.extra)))

    def _echo_keeper(self, tally: EchoTally) -> Callable[[list[JSON]], None]:
        """What an echo check keeps of each page (read with `echoes_only`: no groups): nothing but `tally`,
        as `_keeper` fills it. Only a read whose every contact is an echo of our last writes ends the sync here;
        anything else is read again in full."""
        uid = self.job.job_uid
        return functools.partial(tally.count_page, tag=tag_key(uid), adopted_tag=adopted_key(uid))

    def _keeper(self, *, incremental: bool, tally: EchoTally | None = None) -> Callable[[JSON], Seen | None]:
        """What a read keeps of each contact: ours, and deletions; on an incremental read also the target's
        own changed contacts (one may carry the resourceName of a contact we linked, its tag removed). A
        full read drops the target's own contacts as they come: the planner never looks at them.

        `tally`: filled as the contacts are kept (an incremental read whose target was in sync before it)."""
        groups: dict[tuple[str, ...], frozenset[str]] = {}  # one frozenset per distinct list of groups
        uid = self.job.job_uid
        tag, adopted_tag = tag_key(uid), adopted_key(uid)
        matching = bool(self.job.rules.match_existing) and not incremental
        no_emails: frozenset[str] = frozenset()
        new_seen = tuple.__new__
        # The contacts of one label list the same groups, as Google answers them: a contact whose memberships
        # equal (in C, a list's ==) the previous one's has its groups. Any other is read group by group.
        last_listed: Any = _NOT_LISTED
        last_groups: frozenset[str] = frozenset()

        def keep(person: JSON) -> Seen | None:
            nonlocal last_listed, last_groups
            rn = person.get("resourceName")
            if not rn:
                return None
            metadata = person.get(METADATA)
            if metadata and metadata.get("deleted"):
                if tally is not None:
                    tally.gone.append(rn)
                return Seen(rn, "", None, frozenset(), True)
            data = person.get(TAG_FIELD)
            if data and len(data) == 1 and (entry := data[0]).get("key") == tag:
                # What `tag_and_adoption` makes of the usual case (our tag, alone), without its call and loop
                source_key, adopted = str(entry.get("value", "")) or None, False
            else:
                source_key, adopted = tag_and_adoption(person, tag, adopted_tag)
            emails = all_emails(person) if source_key is None and matching else no_emails
            if source_key is None and not incremental and not emails:
                return None
            etag = person.get("etag", "")
            if tally is not None:
                tally.count(rn, etag, source_key)
            listed = person.get(MEMBERSHIPS)
            if listed == last_listed:
                member_of = last_groups
            else:
                names = _group_names(person)
                found = groups.get(names)
                if found is None:
                    found = groups[names] = frozenset(names)
                member_of = last_groups = found
                last_listed = listed
            # tuple.__new__: a NamedTuple's own __new__ is Python code, and this runs once per contact read
            return new_seen(Seen, (
                rn, etag, source_key, member_of, False, source_key is not None and adopted,
                emails, _client_data(person) if emails else (),
            ))

        return keep

    # --- one target ---------------------------------------------------------------------------------
    def sync(
        self, source: Mapping[str, SourceItem], memory: TargetMemory, *, source_version: str | None = None
    ) -> TargetOutcome:
        """`sync_steps` on this thread, sleeping through its quota waits."""
        return drive(self.sync_steps(source, memory, source_version=source_version))

    def sync_steps(
        self, source: Mapping[str, SourceItem], memory: TargetMemory, *, source_version: str | None = None
    ) -> Steps[TargetOutcome]:
        """Sync the account, parking (sync_core.run.parking) whenever its user's quota has no room for the next
        write. `source_version`: the digest of this run's source and target-side settings (see engine)."""
        incremental = bool(memory.sync_token and memory.group_resource_name and not memory.full_read_due)
        try:
            try:
                out = yield from self._sync(source, memory, incremental, source_version)
            except STALE_MEMORY:
                if not incremental:
                    raise
                # What we remembered is out of date (a stale etag, a deleted group): read it all again.
                out = yield from self._sync(source, memory, False, source_version)
        except LabelTaken as taken:
            return TargetOutcome(status=TargetStatus.conflict, reason=str(taken))
        if out.status is TargetStatus.ok and not self.dry_run and not out.held:
            out.source_version = source_version  # a target with held deletions is not in sync: planned again
        return out

    def _sync(
        self, source: Mapping[str, SourceItem], memory: TargetMemory, incremental: bool, source_version: str | None
    ) -> Steps[TargetOutcome]:
        out = TargetOutcome(full_read=not incremental)
        holds: int | None = None  # what the label holds (incremental runs only)
        in_sync_before = incremental and source_version is not None and memory.source_version == source_version
        # In sync before: the read should bring back only our own last writes; an echo check tallies them first.
        tally = EchoTally() if in_sync_before else None
        if incremental:
            group_rn: str | None = memory.group_resource_name
            assert group_rn is not None
            # A sync token shows our contacts' changes, never the label's: one group read (their own, cheaper
            # quota) sees it renamed (put back here), deleted (NotFound: a full read recreates it) or emptied.
            holds = self.label.kept(group_rn)
            if tally is not None:
                # First, after a run that wrote here (and no other job since), whether the changes are exactly its
                # writes; then only what tells our echoes from anything else; anything else, the same changes
                # in full.
                try:
                    pairs_first = memory.echo_digest is not None and not memory.others_wrote_since
                    echoes = self._our_writes_alone(memory, holds, len(source)) if pairs_first else None
                    alone = echoes is not None
                    if echoes is None:
                        echoes = self.people.read_connections(
                            sync_token=memory.sync_token, person_fields=_read_fields(self.job.rules),
                            keep_page=self._echo_keeper(tally), echoes_only=True,
                        )
                except SyncTokenExpired:
                    return (yield from self._sync(source, memory, False, source_version))
                if not alone and holds + tally.listed < len(source):
                    # The label lost members that the read does not explain: read everything.
                    return (yield from self._sync(source, memory, False, source_version))
                if alone or self._echo_verdict(memory, tally):
                    # The source is as this target last had it, and nothing of ours changed there: in sync.
                    out.group_resource_name, out.sync_token = group_rn, echoes.next_sync_token
                    out.unchanged = len(source)
                    out.in_sync = True
                    return out
                tally = EchoTally()
            try:
                read = self.people.read_connections(
                    sync_token=memory.sync_token, person_fields=_read_fields(self.job.rules),
                    keep=self._keeper(incremental=True, tally=tally),
                )
            except SyncTokenExpired:
                return (yield from self._sync(source, memory, False, source_version))
        else:
            group_rn = self.label.ensure()
            read = self.people.read_connections(
                person_fields=_read_fields(self.job.rules), keep=self._keeper(incremental=False)
            )
        out.group_resource_name = group_rn
        out.sync_token = read.next_sync_token
        if in_sync_before and holds is not None and holds + len(read.people) < len(source):
            # The label lost members that the read does not explain: read everything.
            return (yield from self._sync(source, memory, False, source_version))
        if tally is not None and self._nothing_of_ours_moved(read.people, memory, tally):
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
        rules = self.job.rules
        held = {item.source_key for item in observed if item.source_key is not None}
        if rules.match_existing and incremental and any(key not in held for key in source):
            # A source contact new to this target may be one of its own contacts: match on a full read.
            return (yield from self._sync(source, memory, False, source_version))
        observed = self._with_kept_fields(observed, source)
        adopt, ambiguous = self._adoptions(read.people, source, held) if rules.match_existing else ({}, set())
        plan = plan_target(
            job_uid=self.job.job_uid,
            source=source,
            target=observed,
            links=memory.links,
            required_groups=required,
            unwanted_groups=frozenset() if self.job.add_to_my_contacts else frozenset({MY_CONTACTS}),
            rules=rules,
            adopt=adopt,
            ambiguous=ambiguous,
        )
        # From here on a target holds what it still has to write, not what its plan was made from: its links,
        # what its read observed and matched go before it next waits for Google (the plan's check may ask the
        # account's size; then its writes, and its user's quota window between them). A churn run of a
        # 20,000-contact source held them all, for each of its targets in flight, through those waits.
        read.people.clear()
        del changed, deleted, observed, held, adopt, ambiguous
        memory.forget_links()
        out.ambiguous = len(plan.ambiguous)
        out.adopted = sum(1 for u in plan.updates if u.reason == "adopted")
        checked = check_plan(plan, self.job, lambda: self._account_size(read, incremental))
        plan, out.held = checked.plan, checked.held
        out.plan = plan
        out.unchanged = len(plan.keeps)
        if checked.refused:
            out.status, out.reason = TargetStatus.too_many_contacts, checked.refused
            return out
        if self.dry_run:
            out.created, out.updated, out.deleted = len(plan.creates), len(plan.updates), len(plan.deletes)
            out.released = len(plan.releases)
            self._field_changes(plan)
            return out
        # Nor the contacts it keeps as they are, now counted (but those whose photo it sends).
        if plan.keeps:
            photos = {change.source_key for change in plan.photos}
            plan.keeps = [keep for keep in plan.keeps if keep.source_key in photos]
        yield from self.writer.apply_steps(plan, out)
        return out

    def _field_changes(self, plan: Plan) -> None:
        """What a dry run's updates change, field by field ("emailAddresses: 40 contacts will gain it"): the
        updated contacts are read (200 a call; a dry run only), and each field written compared."""
        if not plan.updates:
            return
        bodies = {p.get("resourceName"): p for p in self._bodies([u.resource_name for u in plan.updates])}
        counts: dict[tuple[str, str], int] = {}
        for u in plan.updates:
            for change in field_changes(u.person, bodies.get(u.resource_name, {})):
                counts[change] = counts.get(change, 0) + 1
        plan.field_changes = dict(sorted(counts.items()))

    # --- field rules ----------------------------------------------------------------------------------
    def _with_kept_fields(self, observed: list[TargetItem], source: Mapping[str, SourceItem]) -> list[TargetItem]:
        """Under rules that keep fields, a contact of ours whose source changed must show which kept fields it
        holds (a filled one is never overwritten): its body is read (200 a call), only for those."""
        if not self.job.rules.keep:
            return observed
        stale = [
            item.resource_name for item in observed
            if item.source_key is not None and item.source_key in source and item.filled is None
            and item.hash != source[item.source_key].hash
        ]
        if not stale:
            return observed
        bodies = {p["resourceName"]: p for p in self._bodies(stale) if p.get("resourceName")}
        read = {rn: _full_item(p, self.job.job_uid, self.job.rules) for rn, p in bodies.items()}
        # A body read is compared in full; the memberships stay as the first read saw them.
        return [
            _merged(read[i.resource_name], i)
            if i.resource_name in read
            else i
            for i in observed
        ]

    def _adoptions(
        self, seen: list[Seen], source: Mapping[str, SourceItem], held: set[str]
    ) -> tuple[dict[str, TargetItem], set[str]]:
        """The target's own contacts to adopt (source key -> the contact) for the source contacts it holds no
        copy of, and the source keys whose match was ambiguous (see sync.adoption)."""
        own = {s.resource_name: s for s in seen if s.source_key is None and not s.deleted and s.emails}
        if not own:
            return {}, set()
        wanted = {key: first_email(item.body) for key, item in source.items() if key not in held}
        found = match_by_email(wanted, {rn: s.emails for rn, s in own.items()})
        adopt = {
            key: TargetItem(rn, own[rn].etag, None, "", own[rn].memberships, client_data=own[rn].client_data)
            for key, rn in found.adopt.items()
        }
        if adopt and self.job.rules.keep:  # which kept fields they hold: never overwritten
            names = [t.resource_name for t in adopt.values()]
            bodies = {p.get("resourceName"): p for p in self._bodies(names)}
            adopt = {
                key: t._replace(filled=_full_item(bodies[t.resource_name], self.job.job_uid, self.job.rules).filled)
                if t.resource_name in bodies else t
                for key, t in adopt.items()
            }
        return adopt, set(found.ambiguous)

    def _account_size(self, read: ConnectionsRead, incremental: bool) -> int:
        """How many contacts the account holds, from the read when it says (one call when it does not)."""
        if read.total is not None:
            return read.total
        if not incremental:
            return read.listed  # Google leaves totalPeople out when it is 0; a full read counted them
        return self.people.account_size()

    def _our_writes_alone(self, memory: TargetMemory, holds: int, wanted: int) -> ConnectionsRead | None:
        """The read of a target in sync before, when it lists exactly what the last run wrote there, each as it
        was written: the sum of the pairs listed is the digest kept (see ECHO_PAIRS_ANSWER), nothing was
        deleted, and the label holds what the source has. The run after a first sync, which lists every
        contact it wrote, then parses half the bytes and tallies them without our tag. None: read the same
        changes with our tag (the target's own contacts moved too, or ours did)."""
        pairs = EchoTally()
        read = self.people.read_connections(
            sync_token=memory.sync_token, person_fields=_read_fields(self.job.rules), keep_pairs=pairs.count_pairs,
        )
        if pairs.gone or holds + pairs.listed < wanted or pairs.digest() != memory.echo_digest:
            return None
        return read

    @staticmethod
    def _echo_verdict(memory: TargetMemory, tally: EchoTally) -> bool | None:
        """`_nothing_of_ours_moved` as far as the tally alone tells: None when only our links can (the read
        lists contacts of ours, and what the last run wrote has no digest, or another)."""
        if (tally.theirs or tally.gone) and memory.linked(tally.theirs + tally.gone):
            return False  # a contact we linked, deleted or no longer tagged as ours
        if not tally.ours:
            return True  # without reading our links
        if memory.echo_digest == tally.digest():
            return True  # exactly what the last run wrote, as it wrote it (still without reading our links)
        return None

    def _nothing_of_ours_moved(self, seen: list[Seen], memory: TargetMemory, tally: EchoTally) -> bool:
        """True when an incremental read reports no deletion of a contact we linked, none of the target's own
        contacts under a name we linked, and, of our contacts, only the echoes of our own last
        writes (the etag we wrote, so the content and memberships we wrote): the run after a first sync sees
        every contact it created, and nothing else. `tally`: what the read's keeper counted of `seen`."""
        verdict = self._echo_verdict(memory, tally)
        if verdict is not None:
            return verdict
        links = memory.links
        for s in seen:
            if s.source_key is None:
                continue
            link = links.get(s.source_key)
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
            bodies = self._bodies(edited)
            changed.extend(_full_item(p, self.job.job_uid, self.job.rules) for p in bodies)
            gone = set(edited) - {p.get("resourceName") for p in bodies}
            deleted.extend(sorted(gone))  # deleted between the two reads
        return changed, deleted

    # --- a user who left the target set ----------------------------------------------------------------
    def remove(self, memory: TargetMemory) -> TargetOutcome:
        """Delete every contact of ours and the job's group (if nothing else is left in it)."""
        out = TargetOutcome(status=TargetStatus.removed, full_read=True)
        read = self.people.read_connections(
            person_fields=_read_fields(self.job.rules), keep=self._keeper(incremental=False)
        )
        adopted = {link.target_resource_name for link in memory.links.values() if link.adopted}
        items = [
            TargetItem(s.resource_name, s.etag, s.source_key, "", adopted=s.adopted or s.resource_name in adopted)
            for s in read.people if not s.deleted and s.source_key is not None
        ]
        plan = plan_removal(target=items)
        out.plan = plan
        if self.dry_run:
            out.deleted, out.released = len(plan.deletes), len(plan.releases)
            return out
        if plan.deletes:
            self.people.batch_delete([d.resource_name for d in plan.deletes])
        out.deleted = len(plan.deletes)
        self.writer.release(plan.releases, memory.group_resource_name, out)
        out.dropped_links = list(memory.links)
        out.label = self.label.remove()
        out.group_removed = out.label is LabelFate.removed
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
        tags = (key, adopted_key(self.job.job_uid))  # the tag, and the mark of a contact we adopted

        def tagged(person: JSON) -> tuple[str, JSON] | None:
            rn, data = person.get("resourceName"), person.get("clientData", []) or []
            if not rn or person.get("metadata", {}).get("deleted") or not any(d.get("key") == key for d in data):
                return None
            return rn, {"etag": person.get("etag", ""), "clientData": [d for d in data if d.get("key") not in tags]}

        for attempt in range(RELEASE_READS):
            ours = dict(self.people.read_connections(keep=tagged).people)
            try:
                self.writer.release_tags(ours, out)
                break
            except (PreconditionFailed, NotFound):
                if attempt == RELEASE_READS - 1:
                    raise
        out.dropped_links = list(memory.links)
        out.label = self.label.release()
        return out


# A release reads the account again (and goes on) at most this many times when the user edits a contact of
# ours while its batch is on the way.
RELEASE_READS = 3
