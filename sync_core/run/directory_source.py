"""A Directory Sync's source: the Workspace users of some domains, as contacts.

`user_contact` (pure) maps one Directory `User` to the synced People fields; `read_directory_source`
streams `users.list` page by page and keeps only the compact `SourceItem`s the planner needs.
The Directory API has no sync token for users, so every run lists the users; what is written at the
targets is still only what changed (content hashes), and renames update in place (keyed by user id).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sync_core.domain.contacts import canonical_body, content_hash
from sync_core.domain.status import TargetStatus
from sync_core.run.source import SourceFailure
from sync_core.sync.plan import SourceItem

JSON = dict[str, Any]

# Directory phone types -> People phone types; others (home, fax, pager...) are not a colleague's business.
PHONE_TYPES = {"work": "work", "mobile": "mobile", "work_mobile": "workMobile", "main": "main"}


def under(path: str, roots: Sequence[str]) -> bool:
    """True if the OU `path` is one of `roots` or below one of them."""
    path = path.rstrip("/") or "/"
    for root in roots:
        root = root.rstrip("/") or "/"
        if root == "/" or path == root or path.startswith(root + "/"):
            return True
    return False


def is_listed(user: Mapping[str, Any], *, include_ous: Sequence[str], exclude_ous: Sequence[str]) -> bool:
    """Suspended, archived and hidden-from-the-directory users are never synced."""
    if user.get("suspended") or user.get("archived") or user.get("includeInGlobalAddressList") is False:
        return False
    path = str(user.get("orgUnitPath") or "/")
    if include_ous and not under(path, include_ous):
        return False
    return not (exclude_ous and under(path, exclude_ous))


def _primary_first(items: Iterable[JSON]) -> list[JSON]:
    return sorted(items, key=lambda i: not i.get("primary", False))


def user_contact(user: Mapping[str, Any], *, manager_names: Mapping[str, str], include_aliases: bool) -> JSON:
    """The People API body for a directory user (before canonicalisation)."""
    name = user.get("name", {}) or {}
    body: JSON = {}
    if name.get("givenName") or name.get("familyName"):
        body["names"] = [{"givenName": name.get("givenName", ""), "familyName": name.get("familyName", "")}]
    elif name.get("fullName"):
        body["names"] = [{"unstructuredName": name["fullName"]}]

    emails = [{"value": str(user["primaryEmail"]).lower(), "type": "work"}]
    if include_aliases:
        emails += [{"value": str(a).lower(), "type": "work"} for a in sorted(user.get("aliases", []) or [])]
    body["emailAddresses"] = emails

    phones = [
        {"value": p["value"], "type": PHONE_TYPES[p.get("type", "work")]}
        for p in _primary_first(user.get("phones", []) or [])
        if p.get("value") and p.get("type", "work") in PHONE_TYPES
    ]
    if phones:
        body["phoneNumbers"] = phones

    orgs = _primary_first(user.get("organizations", []) or [])
    if orgs:
        org = orgs[0]
        entry = {
            "type": "work",
            "name": org.get("name", ""),
            "title": org.get("title", ""),
            "department": org.get("department", ""),
            "costCenter": org.get("costCenter", ""),
            "location": org.get("location", ""),
        }
        body["organizations"] = [{k: v for k, v in entry.items() if v}]

    addresses = []
    for a in _primary_first(user.get("addresses", []) or []):
        if a.get("type", "work") != "work":
            continue  # a colleague's home address is not shared through the directory
        entry = {
            "type": "work",
            "streetAddress": a.get("streetAddress", ""),
            "extendedAddress": a.get("extendedAddress", ""),
            "poBox": a.get("poBox", ""),
            "city": a.get("locality", ""),
            "region": a.get("region", ""),
            "postalCode": a.get("postalCode", ""),
            "country": a.get("country", ""),
            "countryCode": a.get("countryCode", ""),
            "formattedValue": a.get("formatted", ""),
        }
        addresses.append({k: v for k, v in entry.items() if v})
    if addresses:
        body["addresses"] = addresses

    managers = [r["value"] for r in user.get("relations", []) or [] if r.get("type") == "manager" and r.get("value")]
    if managers:
        body["relations"] = [{"person": manager_names.get(m.lower(), m), "type": "manager"} for m in managers]
    return body


def read_directory_source(
    directory: Any,
    *,
    domains: Sequence[str],
    include_ous: Sequence[str],
    exclude_ous: Sequence[str],
    include_aliases: bool,
    max_contacts: int,
) -> dict[str, SourceItem]:
    """Every listed user of `domains` (deduplicated by id) as a SourceItem, keyed by user id.

    Each page of users is mapped as it arrives and dropped; only the SourceItems and a name per
    address (to name managers, who may be listed on a later page) are kept.
    """
    if not domains:
        raise SourceFailure(TargetStatus.error, "a Directory Sync needs at least one domain")
    names: dict[str, str] = {}
    bodies: dict[str, JSON] = {}
    photos: dict[str, str] = {}
    for domain in domains:
        for user in directory.iter_users(domain=domain):
            full_name = (user.get("name", {}) or {}).get("fullName") or str(user["primaryEmail"])
            for address in [user["primaryEmail"], *(user.get("aliases", []) or [])]:
                names[str(address).lower()] = full_name  # a manager may be named by an old address
            if not is_listed(user, include_ous=include_ous, exclude_ous=exclude_ous):
                continue
            if user.get("thumbnailPhotoEtag"):
                photos[str(user["id"])] = str(user["thumbnailPhotoEtag"])
            bodies[str(user["id"])] = canonical_body(
                user_contact(user, manager_names={}, include_aliases=include_aliases)
            )
            if len(bodies) > max_contacts:
                raise SourceFailure(
                    TargetStatus.too_many_contacts,
                    f"the directory selection holds more than {max_contacts} users, Google's limit of "
                    "contacts per account; narrow it with domains or organizational units",
                )
    items: dict[str, SourceItem] = {}
    for uid, body in bodies.items():
        for relation in body.get("relations", []):
            relation["person"] = names.get(str(relation.get("person", "")).lower(), relation.get("person"))
        items[uid] = SourceItem(uid, body, content_hash(body), photos.get(uid))
    return items
