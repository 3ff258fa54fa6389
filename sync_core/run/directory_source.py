"""A Directory Sync's source: the Workspace users of some domains, as contacts.

`user_contact` (pure) maps one Directory `User` to the synced People fields; `read_directory_source`
streams `users.list` page by page and keeps only the compact `SourceItem`s the planner needs.
The Directory API has no sync token for users, so every run lists the users; what is written at the
targets is still only what changed (content hashes), and renames update in place (keyed by user id).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial
from typing import Any, NamedTuple

from sync_core.domain.contacts import canonical_body, content_hash
from sync_core.domain.directory_fields import FieldRule, apply_mapping, custom_schemas, target_fields
from sync_core.domain.fields import BODY_FIELDS, SYNCED_FIELDS
from sync_core.domain.status import TargetStatus
from sync_core.google.domain_contacts import DomainContactsClient
from sync_core.google.errors import SyncTokenExpired
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


class _Mapping(NamedTuple):
    """What a field's mapping may need besides the user."""

    manager_names: Mapping[str, str]
    include_aliases: bool


def _names(user: Mapping[str, Any], _m: _Mapping) -> list[JSON]:
    name = user.get("name", {}) or {}
    if name.get("givenName") or name.get("familyName"):
        return [{"givenName": name.get("givenName", ""), "familyName": name.get("familyName", "")}]
    return [{"unstructuredName": name["fullName"]}] if name.get("fullName") else []


def _emails(user: Mapping[str, Any], m: _Mapping) -> list[JSON]:
    emails = [{"value": str(user["primaryEmail"]).lower(), "type": "work"}]
    if m.include_aliases:
        emails += [{"value": str(a).lower(), "type": "work"} for a in sorted(user.get("aliases", []) or [])]
    return emails


def _phones(user: Mapping[str, Any], _m: _Mapping) -> list[JSON]:
    return [
        {"value": p["value"], "type": PHONE_TYPES[p.get("type", "work")]}
        for p in _primary_first(user.get("phones", []) or [])
        if p.get("value") and p.get("type", "work") in PHONE_TYPES
    ]


def _organizations(user: Mapping[str, Any], _m: _Mapping) -> list[JSON]:
    orgs = _primary_first(user.get("organizations", []) or [])
    if not orgs:
        return []
    org = orgs[0]
    entry = {
        "type": "work",
        "name": org.get("name", ""),
        "title": org.get("title", ""),
        "department": org.get("department", ""),
        "costCenter": org.get("costCenter", ""),
        "location": org.get("location", ""),
    }
    return [{k: v for k, v in entry.items() if v}]


def _addresses(user: Mapping[str, Any], _m: _Mapping) -> list[JSON]:
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
    return addresses


def _relations(user: Mapping[str, Any], m: _Mapping) -> list[JSON]:
    managers = [r["value"] for r in user.get("relations", []) or [] if r.get("type") == "manager" and r.get("value")]
    return [{"person": m.manager_names.get(v.lower(), v), "type": "manager"} for v in managers]


# How a directory user fills each body field the field table marks `from_directory` (a test checks they agree;
# the photo comes apart, as the user's thumbnail etag).
FROM_DIRECTORY: dict[str, Callable[[Mapping[str, Any], _Mapping], list[JSON]]] = {
    "names": _names,
    "emailAddresses": _emails,
    "phoneNumbers": _phones,
    "organizations": _organizations,
    "addresses": _addresses,
    "relations": _relations,
}
DIRECTORY_FIELDS = tuple(f.name for f in BODY_FIELDS if f.from_directory)


def user_contact(user: Mapping[str, Any], *, manager_names: Mapping[str, str], include_aliases: bool) -> JSON:
    """The People API body for a directory user (before canonicalisation): the fields the table says Directory
    Sync fills, each as its mapping makes it."""
    options = _Mapping(manager_names, include_aliases)
    body: JSON = {}
    for name in DIRECTORY_FIELDS:
        entries = FROM_DIRECTORY[name](user, options)
        if entries:
            body[name] = entries
    return body


# --- a card's version: when a user's card need not be built again ----------------------------------------------
# Bump when the code that makes a user's card changes what it makes (`user_contact`, `canonical_body`, a
# mapping's code): every stored card is then built again once. A test holds the card of a sample user to it.
# (A change of the field table itself is seen without a bump: see `mapping_digest`.)
CARD_FORMAT = "1"


def _field_table() -> str:
    """The field table as far as it shapes a card, in a form stable across processes (no set's order)."""
    return ";".join(
        f"{f.name}:{f.default}:{f.from_directory}:{sorted(f.output_only)}:{sorted(f.derived)}:{sorted(f.parts)}"
        for f in BODY_FIELDS
    )


def mapping_digest(rules: Sequence[FieldRule], *, include_aliases: bool) -> str:
    """A digest of everything besides the user that shapes their card: the card's format and the field table,
    the job's field rules (which also say which schemas are read and which extra fields are kept) and its
    aliases option."""
    text = "\n".join([CARD_FORMAT, _field_table(), f"aliases={include_aliases}", *map(str, rules)])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def user_card(user: Mapping[str, Any], mapping: str) -> str | None:
    """The version of the card `user` makes under the mapping `mapping_digest` names: Google's etag of the user
    (which changes whenever the user does) with that digest. None when Google gave no etag."""
    etag = user.get("etag")
    if not etag:
        return None
    return hashlib.sha256(f"{mapping}\n{etag}".encode()).hexdigest()[:32]


def managers(user: Mapping[str, Any]) -> tuple[str, ...]:
    """The addresses the user's manager relations name (their card names each by the manager's full name)."""
    relations = user.get("relations", []) or []
    return tuple(str(r["value"]) for r in relations if r.get("type") == "manager" and r.get("value"))


def card_version(card: str, manager_addresses: Sequence[str], names: Mapping[str, str]) -> str:
    """A stored card's version: its user's (`user_card`) and, when it names managers, the names it gives them,
    which are other users' and change without this user's etag moving."""
    if not manager_addresses:
        return card
    named = "\n".join(names.get(a.lower(), a) for a in manager_addresses)
    return f"{card}.{hashlib.sha256(named.encode('utf-8')).hexdigest()[:16]}"


def card_of(version: str) -> str:
    """The user's part of a stored card's version (see `card_version`)."""
    return version.partition(".")[0]


class KnownUser(NamedTuple):
    """A directory user as the store holds them: their contact and its card's version."""

    item: SourceItem
    version: str


class DirectoryRead(NamedTuple):
    """The listed users as SourceItems keyed by user id, and each one's card version (to store with it)."""

    items: dict[str, SourceItem]
    versions: dict[str, str]
    built: int  # how many cards were built (the others were the known ones, unchanged)


def read_directory_source(
    directory: Any,
    *,
    domains: Sequence[str],
    include_ous: Sequence[str],
    exclude_ous: Sequence[str],
    include_aliases: bool,
    max_contacts: int,
    rules: Sequence[FieldRule] = (),
    known: Mapping[str, KnownUser] | None = None,
) -> DirectoryRead:
    """Every listed user of `domains` (deduplicated by id) as a SourceItem, keyed by user id.

    `rules`: the job's field mapping; only when it names custom schema fields are the users read with them
    (projection=custom), so a job without one reads exactly as before.

    `known`: the users as the store holds them. The Directory API has no sync token for users, so every run
    lists them all; but a user whose card version is the stored one (same etag, same mapping, same names of
    their managers) keeps the stored contact, and only the others' cards are built and hashed. Were a known
    user's managers renamed (which their own etag does not show), the users are listed again and every card
    built: no stored card is ever taken on a guess.

    Each page of users is mapped as it arrives and dropped; only the SourceItems and a name per
    address (to name managers, who may be listed on a later page) are kept.
    """
    if not domains:
        raise SourceFailure(TargetStatus.error, "a Directory Sync needs at least one domain")
    list_users = partial(_list_users, directory, domains=domains, include_ous=include_ous, exclude_ous=exclude_ous,
                         include_aliases=include_aliases, max_contacts=max_contacts, rules=rules)
    listing = list_users(known=known or {})
    while listing is None:  # a known user's managers were renamed: list again, building every card
        listing = list_users(known={})  # (with nothing known, a listing is never None)
    return listing


def _list_users(
    directory: Any,
    *,
    domains: Sequence[str],
    include_ous: Sequence[str],
    exclude_ous: Sequence[str],
    include_aliases: bool,
    max_contacts: int,
    rules: Sequence[FieldRule],
    known: Mapping[str, KnownUser],
) -> DirectoryRead | None:
    """One listing of the users (see `read_directory_source`); None when a known user's card was kept by its
    etag but their managers' names are no longer those it gives."""
    schemas = custom_schemas(rules)
    extra = target_fields(rules)  # a mapping's targets outside the default fields (externalIds, locations)
    schema_read = {"custom_schemas": schemas} if schemas else {}
    mapping = mapping_digest(rules, include_aliases=include_aliases)
    names: dict[str, str] = {}
    bodies: dict[str, JSON] = {}
    kept: dict[str, KnownUser] = {}
    cards: dict[str, tuple[str | None, tuple[str, ...]]] = {}  # user id -> (user_card, managers)
    photos: dict[str, str] = {}
    for domain in domains:
        for user in directory.iter_users(domain=domain, **schema_read):
            full_name = (user.get("name", {}) or {}).get("fullName") or str(user["primaryEmail"])
            for address in [user["primaryEmail"], *(user.get("aliases", []) or [])]:
                names[str(address).lower()] = full_name  # a manager may be named by an old address
            if not is_listed(user, include_ous=include_ous, exclude_ous=exclude_ous):
                continue
            uid = str(user["id"])
            if user.get("thumbnailPhotoEtag"):
                photos[uid] = str(user["thumbnailPhotoEtag"])
            card = user_card(user, mapping)
            cards[uid] = (card, managers(user))
            was = known.get(uid)
            if card is not None and was is not None and card_of(was.version) == card:
                kept[uid] = was
            else:
                contact = user_contact(user, manager_names={}, include_aliases=include_aliases)
                bodies[uid] = canonical_body(apply_mapping(contact, user, rules) if rules else contact, extra)
            if len(bodies) + len(kept) > max_contacts:
                raise SourceFailure(
                    TargetStatus.too_many_contacts,
                    f"the directory selection holds more than {max_contacts} users, Google's limit of "
                    "contacts per account; narrow it with domains or organizational units",
                )
    versions: dict[str, str] = {}
    for uid, (card, addresses) in cards.items():
        if card is not None:
            versions[uid] = card_version(card, addresses, names)
    if any(versions[uid] != was.version for uid, was in kept.items()):
        return None
    items: dict[str, SourceItem] = {}
    for uid in cards:
        if uid in kept:
            stored = kept[uid].item
            items[uid] = SourceItem(uid, stored.body, stored.hash, photos.get(uid))
            continue
        body = bodies[uid]
        for relation in body.get("relations", []):
            relation["person"] = names.get(str(relation.get("person", "")).lower(), relation.get("person"))
        items[uid] = SourceItem(uid, body, content_hash(body), photos.get(uid))
    return DirectoryRead(items, versions, len(bodies))


# --- the domain's shared contacts ------------------------------------------------------------------------------
SHARED_PREFIX = "people/"  # a shared contact's key is its resource name; a user's is their numeric id


def is_shared_contact(key: str) -> bool:
    return key.startswith(SHARED_PREFIX)


def shared_contact_body(person: Mapping[str, Any]) -> JSON:
    """A shared contact's synced fields in canonical form. Its entries say they come from the DOMAIN_CONTACT
    source, not CONTACT: that metadata is dropped first, so that the fields count as the contact's own."""
    plain = {
        name: [{k: v for k, v in e.items() if k != "metadata"} for e in entries if isinstance(e, Mapping)]
        for name in DIRECTORY_SHARED_FIELDS
        if (entries := person.get(name) or [])
    }
    return canonical_body(plain)


DIRECTORY_SHARED_FIELDS = SYNCED_FIELDS  # a shared contact has no extra fields to copy


class SharedContactsRead(NamedTuple):
    items: dict[str, SourceItem]
    sync_token: str | None
    full: bool  # read in full (no usable sync token), not as changes since the last read


def read_shared_contacts(
    client: DomainContactsClient, *, cached: Mapping[str, SourceItem], sync_token: str | None
) -> SharedContactsRead:
    """The domain's shared contacts as SourceItems keyed by resource name: with the job's sync token (and what
    the last run kept of them), only the changes since are read; an expired token, or none, reads them all."""
    known = {k: item for k, item in cached.items() if is_shared_contact(k)}
    if sync_token and cached:
        try:
            delta = client.read(sync_token=sync_token)
        except SyncTokenExpired:
            pass  # read in full below
        else:
            items = dict(known)
            for person in delta.people:
                key = str(person.get("resourceName", ""))
                if not is_shared_contact(key):
                    continue
                if (person.get("metadata") or {}).get("deleted"):
                    items.pop(key, None)
                else:
                    body = shared_contact_body(person)
                    items[key] = SourceItem(key, body, content_hash(body), None)
            return SharedContactsRead(items, delta.next_sync_token or sync_token, False)
    full = client.read()
    items = {}
    for person in full.people:
        key = str(person.get("resourceName", ""))
        if is_shared_contact(key) and not (person.get("metadata") or {}).get("deleted"):
            body = shared_contact_body(person)
            items[key] = SourceItem(key, body, content_hash(body), None)
    return SharedContactsRead(items, full.next_sync_token, True)
