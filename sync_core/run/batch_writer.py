"""Writing a checked plan into one account: deletes, updates and creates in Google's batches, then photos one
contact at a time, all through the account's paced client (the pacer keeps the user's quota). The links of what
each batch wrote go on (`on_links`) as soon as Google took it, and those of photos before the target parks for its
user's next quota window: a target holds only what it still has to write, however many write at once (the run
stores what they hand on many targets to a commit: see run_records.TargetBatch). Without `on_links` they end in
its outcome. Links lost to a crash cost nothing: the next run reads the account in full and links the contacts
it finds by our tag instead of creating them again (see sync.plan's relinks). A target that must stop half way
reports what it wrote.

For ONE user on one thread: the user's mutations stay sequential, as the People API asks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from sync_core.domain.contacts import adopted_key, created_tag, membership_entries, memberships_of, tag_key
from sync_core.google.errors import GoogleError
from sync_core.google.people import BATCH_CREATE_MAX, BATCH_DELETE_MAX, BATCH_UPDATE_MAX, chunks
from sync_core.google.people_account import PeopleAccount
from sync_core.run.parking import Steps, drive, room_for
from sync_core.run.target_model import STALE_MEMORY, LinkSink, LinkWrite, PhotoLoader, TargetOutcome
from sync_core.sync.plan import PHOTO_UNKNOWN, Create, Creates, Plan, Release, Update

JSON = dict[str, Any]

class BatchWriter:
    def __init__(
        self,
        people: PeopleAccount,
        job_uid: str,
        *,
        photos: PhotoLoader | None = None,
        on_links: LinkSink | None = None,
        after_batch: Callable[[], None] | None = None,
    ) -> None:
        """`on_links`: where the links of each batch go once Google took it (and those of photos before the
        target parks); without it, they are returned in the outcome. `after_batch`: called after each batch
        Google took; it raises to stop the writes (the run lost the job's lease)."""
        self.people = people
        self.job_uid = job_uid
        self.photos = photos
        self.on_links = on_links
        self.after_batch = after_batch

    def apply(self, plan: Plan, out: TargetOutcome) -> None:
        """`apply_steps` on this thread, sleeping through its quota waits."""
        drive(self.apply_steps(plan, out))

    def apply_steps(self, plan: Plan, out: TargetOutcome) -> Steps[None]:
        """Write the plan batch by batch, parking (sync_core.run.parking) before a batch the user's quota has no
        room for yet. A target that must stop half way (its quota wait ran out, Google failed) keeps what it
        wrote: the counts and the links of every batch that went through."""
        writes: dict[str, LinkWrite] = {}  # by source key: the last word on each link not yet handed on
        photos_done: set[str] = set()
        try:
            yield from self._write(plan, out, writes, photos_done)
        except STALE_MEMORY:
            # An incremental sync starts again from a full read (see TargetSync.sync), in a new outcome: what
            # this one wrote is stored now (but links whose photo was not sent: their etag is not the last).
            self._hand_on(writes, {c.source_key for c in plan.photos} - photos_done)
            raise
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

    def release_tags(self, ours: dict[str, JSON], out: TargetOutcome) -> None:
        """Set each contact's clientData to the given one (our tag taken off), a batch at a time."""
        for part in chunks(list(ours), BATCH_UPDATE_MAX):
            self.people.batch_set_client_data({rn: ours[rn] for rn in part})
            out.updated += len(part)

    def release(self, releases: list[Release], group_rn: str | None, out: TargetOutcome) -> None:
        """`release_steps` on this thread, sleeping through its quota waits."""
        drive(self.release_steps(releases, group_rn, out))

    def release_steps(self, releases: list[Release], group_rn: str | None, out: TargetOutcome) -> Steps[None]:
        """Let adopted contacts go: our tag, our mark and the job's label come off; their fields and their other
        groups (My Contacts too) stay. Their clientData and groups are read first (200 a call): only ours go."""
        if not releases:
            return
        ours = (tag_key(self.job_uid), adopted_key(self.job_uid))
        bodies = self.people.get_people([r.resource_name for r in releases])
        let_go: dict[str, JSON] = {}
        for person in bodies:
            rn = person.get("resourceName")
            if not rn:
                continue
            let_go[rn] = {
                "etag": person.get("etag", ""),
                "clientData": [d for d in person.get("clientData", []) or [] if d.get("key") not in ours],
                "memberships": membership_entries(memberships_of(person) - {group_rn or ""}),
            }
        for part in chunks(list(let_go), BATCH_UPDATE_MAX):
            yield from room_for(self.people, "people.batchUpdateContacts", contacts=len(part))
            self.people.batch_release({rn: let_go[rn] for rn in part})
            out.released += len(part)

    def _wrote_all(self, out: TargetOutcome, writes: dict[str, LinkWrite], links: list[LinkWrite]) -> None:
        """`_wrote` of each link of one batch (one link a source key), their echo summed at once."""
        for link in links:
            earlier = writes.get(link.source_key)
            if earlier is not None and earlier.target_etag:
                out.echo.remove(earlier.target_resource_name, earlier.target_etag)  # superseded in this run
            writes[link.source_key] = link
        out.echo.add_all((w.target_resource_name, w.target_etag) for w in links if w.target_etag)

    def _wrote(self, out: TargetOutcome, writes: dict[str, LinkWrite], link: LinkWrite) -> None:
        """A contact written at Google: its link is the last word for its source key, and it will echo."""
        earlier = writes.get(link.source_key)
        if earlier is not None and earlier.target_etag:
            out.echo.remove(earlier.target_resource_name, earlier.target_etag)  # superseded in this run
        writes[link.source_key] = link
        if link.target_etag:
            out.echo.add(link.target_resource_name, link.target_etag)

    def _hand_on(self, writes: dict[str, LinkWrite], keep: frozenset[str] | set[str]) -> None:
        """Give the finished links to `on_links` and forget them (those whose photo is still to be written
        stay: their etag changes once more)."""
        if self.on_links is None:
            return
        done = [w for key, w in writes.items() if key not in keep]
        if done:
            self.on_links(done)
            held = {key: w for key, w in writes.items() if key in keep} if keep else {}
            writes.clear()  # a dict keeps its size once emptied key by key: this one is held while the target waits
            writes.update(held)

    def _room(
        self, method: str, writes: dict[str, LinkWrite], keep: frozenset[str] | set[str], *, contacts: int = 0
    ) -> Steps[None]:
        """`room_for`, handing on the links first when the target is about to park: a parked target holds none."""
        for park in room_for(self.people, method, contacts=contacts):
            self._hand_on(writes, keep)
            yield park

    def _batch_done(self, writes: dict[str, LinkWrite], keep: frozenset[str]) -> None:
        """After a batch Google took: the run may stop us (`after_batch`); its links go on."""
        if self.after_batch is not None:
            self.after_batch()
        self._hand_on(writes, keep)

    def _write(
        self, plan: Plan, out: TargetOutcome, writes: dict[str, LinkWrite], photos_done: set[str]
    ) -> Steps[None]:
        photo_keys = frozenset(c.source_key for c in plan.photos)
        for part in chunks([d.resource_name for d in plan.deletes], BATCH_DELETE_MAX):
            yield from room_for(self.people, "people.batchDeleteContacts")
            self.people.batch_delete(part)
            out.deleted += len(part)
            if self.after_batch is not None:
                self.after_batch()
        yield from self.release_steps(plan.releases, out.group_resource_name, out)
        # One mask a call: updates go by whether they fix memberships and by the fields they write (one kind
        # under the default rules; under rules that keep fields, those filling a kept field apart).
        masks = sorted({(u.fix_memberships, u.fields or ()) for u in plan.updates})
        for with_memberships, fields in masks:
            batch = [u for u in plan.updates if (u.fix_memberships, u.fields or ()) == (with_memberships, fields)]
            for updates in chunks(batch, BATCH_UPDATE_MAX):
                yield from self._room("people.batchUpdateContacts", writes, photo_keys, contacts=len(updates))
                self._wrote_all(out, writes, self._updated(updates, with_memberships, fields))
                out.updated += len(updates)
                self._batch_done(writes, photo_keys)
        created_names: dict[str, str] = {}
        for creates in chunks(plan.creates, BATCH_CREATE_MAX):
            yield from self._room("people.batchCreateContacts", writes, photo_keys, contacts=len(creates))
            out.created += self._created(creates, photo_keys, created_names, out, writes)
            self._batch_done(writes, photo_keys)
        yield from self._apply_photos(plan, created_names, writes, out, photos_done)
        for k in plan.relinks:  # links to record that no write changed (after the photos: those come first)
            if k.source_key in photos_done:
                continue  # its photo's link is the last word (and may be handed on already)
            writes.setdefault(
                k.source_key, LinkWrite(k.source_key, k.resource_name, k.hash, k.etag, k.photo, k.adopted)
            )

    # The next two send one batch and keep only its links: the answer is gone before the target's next call
    # (a target waiting for Google, one of thousands, holds what it still has to write, not what it wrote).
    def _updated(self, updates: Sequence[Update], with_memberships: bool, fields: tuple[str, ...]) -> list[LinkWrite]:
        result = self.people.batch_update(
            {u.resource_name: u.person for u in updates}, with_memberships=with_memberships, fields=fields or None,
        )
        return [LinkWrite(u.source_key, u.resource_name, u.hash, result.get(u.resource_name, {}).get("etag", ""),
                          u.photo, u.adopted) for u in updates]

    # (Their links go straight into `writes`: a local of `_write` would keep a batch's links, and the names and
    # etags Google answered, for as long as the target waits for its next call.)
    def _created(self, creates: Sequence[Create], photo_keys: frozenset[str], created_names: dict[str, str],
                 out: TargetOutcome, writes: dict[str, LinkWrite]) -> int:
        """Send one batch of creates and keep the links of the contacts it created; how many Google created."""
        created = self.people.batch_create(creates)  # each body made as it is sent
        # made once answered: a call waiting holds nothing more
        hashes = creates.hashes() if isinstance(creates, Creates) else {c.source_key: c.hash for c in creates}
        tag = tag_key(self.job_uid)
        links = []
        for person in created:
            # Our tag says which source contact each created one mirrors, whatever order Google answers in.
            key = created_tag(person, tag) or ""
            content_hash = hashes.get(key)
            rn = person.get("resourceName")
            if content_hash is not None and rn:
                if key in photo_keys:
                    created_names[key] = rn
                links.append(LinkWrite(key, rn, content_hash, person.get("etag", "")))
        self._wrote_all(out, writes, links)
        return len(created)

    def _apply_photos(
        self,
        plan: Plan,
        created_names: dict[str, str],
        writes: dict[str, LinkWrite],
        out: TargetOutcome,
        photos_done: set[str],
    ) -> Steps[None]:
        """Photos go one contact at a time (the API has no batch for them), and only when they changed."""
        keeps = {k.source_key: k for k in plan.keeps}
        pending = {c.source_key for c in plan.photos} - photos_done  # links that stay until their photo is sent
        for change in plan.photos:
            rn = change.resource_name or created_names.get(change.source_key)
            if rn is None:
                continue
            if change.photo is None:
                yield from self._room("people.deleteContactPhoto", writes, pending)
                person = self.people.delete_photo(rn)
            else:
                data = self.photos(change.source_key, change.photo) if self.photos else None
                if data is None:
                    continue  # the source's photo could not be read; try again next run
                yield from self._room("people.updateContactPhoto", writes, pending)
                person = self.people.update_photo(rn, data)
            link = writes.get(change.source_key)
            if link is None:
                keep = keeps.get(change.source_key)
                if keep is None:
                    continue
                link = LinkWrite(keep.source_key, keep.resource_name, keep.hash, keep.etag, adopted=keep.adopted)
            etag = person.get("etag", link.target_etag)
            photo_link = LinkWrite(
                link.source_key, link.target_resource_name, link.content_hash, etag, change.photo, link.adopted
            )
            self._wrote(out, writes, photo_link)
            photos_done.add(change.source_key)
            pending.discard(change.source_key)
