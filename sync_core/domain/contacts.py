"""What a synced contact is: the fields we copy, their canonical form, our ownership tag, and hashes.

Pure functions on Google-shaped `Person` dicts. Both sides of a sync are read from Google, so both go
through the same `canonical_body`, and a content hash says whether two contacts say the same thing.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

JSON = dict[str, Any]

# The People API personFields we copy from the source to every target.
SYNCED_FIELDS: tuple[str, ...] = (
    "names",
    "nicknames",
    "emailAddresses",
    "phoneNumbers",
    "organizations",
    "addresses",
    "urls",
    "birthdays",
    "biographies",
    "relations",
    "userDefined",
)
# What we read of a contact: the synced fields plus what we need to own and place it.
READ_FIELDS: tuple[str, ...] = (*SYNCED_FIELDS, "memberships", "clientData", "metadata", "photos")

# Output-only keys Google adds on read; they are never written and never compared.
_OUTPUT_ONLY = {"metadata", "formattedType", "canonicalForm", "displayNameLastFirst"}
_NAME_OUTPUT_ONLY = {"displayName"}
_NAME_PARTS = {
    "givenName",
    "familyName",
    "middleName",
    "honorificPrefix",
    "honorificSuffix",
}
_ADDRESS_PARTS = {"poBox", "streetAddress", "extendedAddress", "city", "region", "postalCode", "country"}

TAG_PREFIX = "contactsync:"
MY_CONTACTS = "contactGroups/myContacts"


def _from_contact_source(entry: Mapping[str, Any]) -> bool:
    """Entries that come from a linked Google profile are the profile's, not the contact's."""
    source = entry.get("metadata", {}).get("source", {})
    return source.get("type", "CONTACT") == "CONTACT"


def _canonical_entry(field: str, entry: Mapping[str, Any]) -> JSON:
    out = {k: v for k, v in entry.items() if k not in _OUTPUT_ONLY and v not in (None, "", [], {})}
    if field == "names":
        for key in _NAME_OUTPUT_ONLY:
            out.pop(key, None)
        # Google derives unstructuredName from the parts; writing both lets one override the other.
        if _NAME_PARTS & out.keys():
            out.pop("unstructuredName", None)
    elif field == "addresses" and _ADDRESS_PARTS & out.keys():
        out.pop("formattedValue", None)  # derived from the parts when they are present
    return out


def canonical_body(person: Mapping[str, Any]) -> JSON:
    """The synced fields of a Person, stripped of output-only data, in a stable form."""
    body: JSON = {}
    for field in SYNCED_FIELDS:
        entries = [
            _canonical_entry(field, e)
            for e in person.get(field, []) or []
            if isinstance(e, Mapping) and _from_contact_source(e)
        ]
        entries = [e for e in entries if e]
        if entries:
            body[field] = entries
    return body


def photo_fingerprint(person: Mapping[str, Any]) -> str | None:
    """The contact's own photo (not a profile's, not the default letter): its URL names the image."""
    for photo in person.get("photos", []) or []:
        if photo.get("default") or not _from_contact_source(photo):
            continue
        if photo.get("url"):
            return str(photo["url"])
    return None


def content_hash(body: Mapping[str, Any]) -> str:
    payload = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def tag_key(job_uid: str) -> str:
    return f"{TAG_PREFIX}{job_uid}"


def written_by_a_sync(item: Mapping[str, Any]) -> bool:
    """Whether a contact (or a label) carries a ContactSync tag: a sync made it, in this database or another.
    Such a contact is a copy, never a source: two syncs pointed at each other's labels would otherwise copy
    each other's copies, one more generation every run."""
    return any(str(d.get("key", "")).startswith(TAG_PREFIX) for d in item.get("clientData", []) or [])


def read_tag(person: Mapping[str, Any], job_uid: str) -> str | None:
    """The source key our tag for this job names, or None when the contact isn't this job's."""
    key = tag_key(job_uid)
    for item in person.get("clientData", []) or []:
        if item.get("key") == key:
            return str(item.get("value", "")) or None
    return None


def tag_entry(job_uid: str, source_key: str) -> JSON:
    return {"key": tag_key(job_uid), "value": source_key}


def memberships_of(person: Mapping[str, Any]) -> frozenset[str]:
    names = set()
    for m in person.get("memberships", []) or []:
        rn = m.get("contactGroupMembership", {}).get("contactGroupResourceName")
        if rn:
            names.add(rn)
    return frozenset(names)


def membership_entries(groups: Iterable[str]) -> list[JSON]:
    return [{"contactGroupMembership": {"contactGroupResourceName": g}} for g in sorted(groups)]


@functools.lru_cache(maxsize=256)
def shared_membership_entries(groups: frozenset[str]) -> list[JSON]:
    """The same entries, made once for every contact of a batch that joins the same groups. Callers only
    serialise them; nobody may modify the list."""
    return membership_entries(groups)
