"""What a synced contact is: the fields we copy and their canonical form (both from the one field table,
`fields.py`), our ownership tag, and hashes.

Pure functions on Google-shaped `Person` dicts. Both sides of a sync are read from Google, so both go
through the same `canonical_body`, and a content hash says whether two contacts say the same thing.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from sync_core.domain.fields import (
    READ_FIELDS,
    SYNCED_FIELDS,
    TAG_FIELD,
    canonical_body,
    memberships_of,
    photo_fingerprint,
)

__all__ = [
    "MY_CONTACTS",
    "adopted_entry",
    "adopted_key",
    "is_adopted",
    "READ_FIELDS",
    "SYNCED_FIELDS",
    "TAG_PREFIX",
    "canonical_body",
    "content_hash",
    "created_tag",
    "membership_entries",
    "memberships_of",
    "photo_fingerprint",
    "read_tag",
    "shared_membership_entries",
    "tag_entry",
    "tag_key",
    "written_by_a_sync",
]

JSON = dict[str, Any]

TAG_PREFIX = "contactsync:"
MY_CONTACTS = "contactGroups/myContacts"


def content_hash(body: Mapping[str, Any]) -> str:
    payload = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def tag_key(job_uid: str) -> str:
    return f"{TAG_PREFIX}{job_uid}"


def written_by_a_sync(item: Mapping[str, Any]) -> bool:
    """Whether a contact (or a label) carries a ContactSync tag: a sync made it, in this database or another.
    Such a contact is a copy, never a source: two syncs pointed at each other's labels would otherwise copy
    each other's copies, one more generation every run."""
    return any(str(d.get("key", "")).startswith(TAG_PREFIX) for d in item.get(TAG_FIELD, []) or [])


def read_tag(person: Mapping[str, Any], job_uid: str) -> str | None:
    """The source key our tag for this job names, or None when the contact isn't this job's."""
    key = tag_key(job_uid)
    for item in person.get(TAG_FIELD, []) or []:
        if item.get("key") == key:
            return str(item.get("value", "")) or None
    return None


def created_tag(person: Mapping[str, Any], key: str) -> str | None:
    """The value of the clientData entry `key` names, in the answer to a create of ours: that answer carries
    the values only (google.people.CREATED_FIELDS), so an entry without a key is taken for it; one with another
    key is not. None: no such entry."""
    for item in person.get(TAG_FIELD, []) or []:
        if item.get("key", key) == key:
            return str(item.get("value", "")) or None
    return None


def tag_and_adoption(person: Mapping[str, Any], tag: str, adopted_tag: str) -> tuple[str | None, bool]:
    """`read_tag` and `is_adopted` in one pass over the contact's clientData, with the keys (`tag_key`,
    `adopted_key`) made once by the caller: a target's read asks this of every contact it lists."""
    source_key: str | None = None
    tagged = adopted = False
    for item in person.get(TAG_FIELD, []) or []:
        key = item.get("key")
        if key == tag and not tagged:
            tagged = True
            source_key = str(item.get("value", "")) or None
        elif key == adopted_tag:
            adopted = True
    return source_key, adopted


def tag_entry(job_uid: str, source_key: str) -> JSON:
    return {"key": tag_key(job_uid), "value": source_key}


def adopted_key(job_uid: str) -> str:
    """The clientData key that marks a contact this job adopted (the target's own before): released, never
    deleted. Beside the tag, not in it, so every reader of the tag stays as it is."""
    return f"{tag_key(job_uid)}:adopted"


def adopted_entry(job_uid: str) -> JSON:
    return {"key": adopted_key(job_uid), "value": "1"}


def is_adopted(person: Mapping[str, Any], job_uid: str) -> bool:
    key = adopted_key(job_uid)
    return any(item.get("key") == key for item in person.get(TAG_FIELD, []) or [])


def membership_entries(groups: Iterable[str]) -> list[JSON]:
    return [{"contactGroupMembership": {"contactGroupResourceName": g}} for g in sorted(groups)]


@functools.lru_cache(maxsize=256)
def shared_membership_entries(groups: frozenset[str]) -> list[JSON]:
    """The same entries, made once for every contact of a batch that joins the same groups. Callers only
    serialise them; nobody may modify the list."""
    return membership_entries(groups)
