"""Reading a personal job's source: one contact group of one user, incrementally where possible."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sync_core.domain.contacts import canonical_body, content_hash, memberships_of, photo_fingerprint, written_by_a_sync
from sync_core.domain.fields import read_fields
from sync_core.domain.status import TargetStatus
from sync_core.google.errors import NotFound, SyncTokenExpired
from sync_core.google.people import PeopleClient
from sync_core.sync.plan import SourceItem

JSON = dict[str, Any]


class SourceFailure(Exception):
    """The whole run fails: `kind` is from the run failure vocabulary."""

    def __init__(self, kind: TargetStatus, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


@dataclass
class SourceRead:
    items: dict[str, SourceItem]
    sync_token: str | None
    group_name: str
    full: bool
    changed_keys: set[str] = field(default_factory=set)
    # The newest edit among the changes an incremental read returned (Google's updateTime); None after a
    # full read, which cannot tell when anything changed.
    changed_at: datetime | None = None


def last_update_time(people: Iterable[JSON]) -> datetime | None:
    """The latest `updateTime` in the people's metadata (a contact's, or a deletion's), if any."""
    latest: datetime | None = None
    for person in people:
        metadata = person.get("metadata") or {}
        stamps = [metadata.get("updateTime"), *(s.get("updateTime") for s in metadata.get("sources") or [])]
        for stamp in stamps:
            if not stamp:
                continue
            try:
                moment = datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
            except ValueError:
                continue
            if moment.tzinfo is not None and (latest is None or moment > latest):
                latest = moment
    return latest


def _item(person: JSON, extra: tuple[str, ...] = ()) -> SourceItem:
    body = canonical_body(person, extra)
    return SourceItem(person["resourceName"], body, content_hash(body), photo_fingerprint(person))


def read_source_group(
    people: PeopleClient,
    *,
    group_resource_name: str,
    cached: Mapping[str, SourceItem],
    sync_token: str | None,
    extra: tuple[str, ...] = (),
) -> SourceRead:
    """The group's contacts. With a sync token and a cache, only the changes are read.

    The group's member count cross-checks an incremental result; a mismatch falls back to a full read.
    Contacts a sync wrote (tagged) are copies, never part of a source (see `written_by_a_sync`); a group
    that holds some is read in full each run, since its member count counts them.
    `extra`: the body fields beyond the default ones the job copies (externalIds, locations): read and kept
    too. The sync token is bound to them: a job whose extra fields change has its token dropped (see
    service.changes).
    """
    person_fields = ",".join(read_fields(extra))
    try:
        group = people.get_group(group_resource_name)
    except NotFound:
        raise SourceFailure(
            TargetStatus.source_group_missing, f"the source contact group {group_resource_name} no longer exists"
        ) from None
    member_count = int(group.get("memberCount", 0))

    if sync_token and cached:
        try:
            delta = people.read_connections(sync_token=sync_token, person_fields=person_fields)
        except SyncTokenExpired:
            delta = None
        if delta is not None:
            items = dict(cached)
            changed: set[str] = set()
            touched: list[JSON] = []
            for person in delta.people:
                rn = person.get("resourceName")
                if not rn:
                    continue
                deleted = person.get("metadata", {}).get("deleted", False)
                if deleted or group_resource_name not in memberships_of(person) or written_by_a_sync(person):
                    if items.pop(rn, None) is not None:
                        changed.add(rn)
                        touched.append(person)
                    continue
                item = _item(person, extra)
                if rn not in items or (items[rn].hash, items[rn].photo) != (item.hash, item.photo):
                    changed.add(rn)
                    touched.append(person)
                items[rn] = item
            if len(items) == member_count:
                return SourceRead(
                    items, delta.next_sync_token, group.get("name", ""), False, changed, last_update_time(touched)
                )

    full = people.read_connections(person_fields=person_fields)
    items = {
        p["resourceName"]: _item(p, extra)
        for p in full.people
        if group_resource_name in memberships_of(p) and not p.get("metadata", {}).get("deleted")
        and not written_by_a_sync(p)
    }
    changed = {
        k
        for k in items.keys() | cached.keys()
        if k not in cached or k not in items or cached[k].hash != items[k].hash
    }
    return SourceRead(items, full.next_sync_token, group.get("name", ""), True, changed)
