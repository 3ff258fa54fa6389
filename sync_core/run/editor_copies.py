"""Reading one editor's copy of a job's label: what they changed, deleted and added since the last run.

An editor is a target too: the target sync keeps a sync token and a link per contact (with the etag Google
answered to our last write) for their account. The merge reads the changes since that token (one
`connections.list`, the token left as it is: the target sync reads from it again after the merge) and keeps:

- a copy of ours (our tag) whose etag is not the one we last wrote: the editor changed it (our own writes,
  whose etag the link holds, are never taken for someone's edit);
- a copy of ours that left the label, or was deleted (a deletion names only its resourceName: the links say
  which source contact it mirrored);
- a contact of the editor's own (no tag of any sync) in the label: an add.

An expired token falls back to reading the whole account once; the same etag test keeps only what the editor
changed. An editor the target sync never reached has no copy yet, and is not read (their label may hold
contacts of their own from before: those are not adds).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sync_core.domain.contacts import memberships_of, read_tag, written_by_a_sync
from sync_core.google.errors import SyncTokenExpired
from sync_core.google.people import (
    PERSON_FIELDS,
    TARGET_READ_FIELDS,
    ConnectionsRead,
    ListedPair,
    PeopleClient,
    listed_pairs,
)
from sync_core.sync.merge import EditorCopies, Version, version_of
from sync_core.sync.plan import LinkState

JSON = dict[str, Any]


@dataclass
class EditorRead:
    """One editor's copy as the merge needs it: their changes, and each contact they added as read (the
    adoption writes our tag on it, with its etag). `read`: the incremental read itself, as Google answered it,
    which the editor's target sync takes instead of asking again (`ReadOnce`): one read of the account, not two."""

    copies: EditorCopies
    added_people: dict[str, JSON] = field(default_factory=dict)  # resourceName -> the contact as read
    read: ConnectionsRead | None = None  # None: it was a full read (the target sync makes its own)
    bodies: dict[str, JSON] = field(default_factory=dict)  # the contacts whose bodies it read, by resourceName


class ReadOnce(PeopleClient):
    """An editor's People client whose first incremental read from `sync_token` is the one the merge made
    (the same token and fields: Google would answer the same, plus nothing we wrote since, as nothing was)."""

    def __init__(
        self, inner: PeopleClient, sync_token: str, read: ConnectionsRead, bodies: Mapping[str, JSON] | None = None
    ) -> None:
        self._people = inner._people
        self._connections = inner._connections
        self._groups = inner._groups
        self._ex = inner._ex
        self._shared: tuple[str, ConnectionsRead] | None = (sync_token, read)
        self._bodies = dict(bodies or {})  # read by the merge just before: nothing wrote to them since

    def get_people(self, resource_names: Sequence[str], *, person_fields: str = PERSON_FIELDS) -> list[JSON]:
        if person_fields != PERSON_FIELDS or any(rn not in self._bodies for rn in resource_names):
            return super().get_people(resource_names, person_fields=person_fields)
        return [self._bodies[rn] for rn in resource_names]

    def read_connections(
        self,
        *,
        sync_token: str | None = None,
        person_fields: str = TARGET_READ_FIELDS,
        keep: Callable[[JSON], Any] | None = None,
        keep_page: Callable[[list[JSON]], None] | None = None,
        echoes_only: bool = False,
        keep_pairs: Callable[[list[ListedPair]], None] | None = None,
    ) -> ConnectionsRead:
        shared = self._shared
        if not echoes_only and keep_pairs is None:  # an echo check is followed by the full read of the same changes
            self._shared = None                         # when it fails
        if shared is None or shared[0] != sync_token or person_fields != TARGET_READ_FIELDS:
            return super().read_connections(sync_token=sync_token, person_fields=person_fields, keep=keep,
                                            keep_page=keep_page, echoes_only=echoes_only, keep_pairs=keep_pairs)
        read = shared[1]
        if keep_pairs is not None:
            keep_pairs(listed_pairs(read.people))
            people: list[Any] = []
        elif keep_page is not None:
            keep_page(list(read.people))
            people = []
        else:
            people = list(read.people) if keep is None else [k for p in read.people if (k := keep(p)) is not None]
        return ConnectionsRead(people, read.next_sync_token, read.incremental, read.total, read.listed)


def edited_by_them(person: JSON, *, job_uid: str, group_rn: str, links: Mapping[str, LinkState],
                   by_rn: Mapping[str, LinkState]) -> bool:
    """Whether one contact of an editor's incremental read is something they did to the label (what
    `read_editor_copy` keeps), not an echo of our own writes: for the source watch, which only asks whether."""
    rn = person.get("resourceName")
    if not rn:
        return False
    if (person.get("metadata") or {}).get("deleted"):
        return rn in by_rn
    key = read_tag(person, job_uid)
    if key is not None:
        link = links.get(key)
        return link is not None and link.target_resource_name == rn and person.get("etag") != link.target_etag
    return group_rn in memberships_of(person) and not written_by_a_sync(person) and rn not in by_rn


def read_editor_copy(
    people: PeopleClient,
    *,
    editor_id: str,
    job_uid: str,
    group_rn: str,
    sync_token: str | None,
    links: Mapping[str, LinkState],
) -> EditorRead:
    """What `editor_id` did to their copy of the label (`group_rn` in their account) since `sync_token` (None:
    their target's last sync failed and kept none; their copy is read in full)."""
    # The fields the target sync's token was asked with (Google refuses others with it): tags, groups, etags.
    read: ConnectionsRead | None = None
    if sync_token:
        try:
            read = people.read_connections(sync_token=sync_token)
        except SyncTokenExpired:
            read = None
    if read is None:
        read = people.read_connections()
        full = True
    else:
        full = False
    by_rn = {link.target_resource_name: link for link in links.values()}
    changed: dict[str, Version] = {}
    deleted: set[str] = set()
    added: dict[str, Version] = {}
    out = EditorRead(EditorCopies(editor_id))
    present: set[str] = set()
    edited: dict[str, str] = {}  # resourceName -> source key: copies whose etag moved
    new: list[str] = []  # their own contacts in the label
    for person in read.people:
        rn = person.get("resourceName")
        if not rn:
            continue
        if (person.get("metadata") or {}).get("deleted"):
            link = by_rn.get(rn)
            if link is not None:
                deleted.add(link.source_key)
            continue
        key = read_tag(person, job_uid)
        in_label = group_rn in memberships_of(person)
        if key is not None:
            link = links.get(key)
            if link is None or link.target_resource_name != rn:
                continue  # a copy we did not record (a duplicate): the target sync settles it
            present.add(key)
            if link.target_etag and person.get("etag") == link.target_etag:
                continue  # our own write, as we wrote it
            if not in_label:
                deleted.add(key)  # taken out of the label: for the label, a deletion
            else:
                edited[rn] = key
        elif in_label and not written_by_a_sync(person):
            if rn in by_rn:
                continue  # a copy of ours whose tag they removed: the target sync puts it back
            new.append(rn)
    if edited or new:  # their bodies: only of what moved (200 a call)
        for person in people.get_people([*edited, *new]):
            rn = str(person.get("resourceName", ""))
            out.bodies[rn] = person
            if rn in edited:
                changed[edited[rn]] = version_of(person)
            elif rn in new:
                added[rn] = version_of(person)
                out.added_people[rn] = person
    if full:
        # A full read lists every contact: a linked copy it does not list is gone.
        deleted |= {key for key in links if key not in present}
    out.copies = EditorCopies(editor_id, changed=changed, deleted=frozenset(deleted), added=added)
    out.read = None if full else read
    return out
