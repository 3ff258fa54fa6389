"""`people.listDirectoryPeople`: the domain directory as the People API shows it: domain shared contacts
(source DOMAIN_CONTACT, kept in the state's `domain_contacts`) and domain profiles (source DOMAIN_PROFILE,
derived from the Directory users in the global address list).

Paging and sync work on snapshots ({resourceName: (etag, sources)}) of the directory taken when a listing
starts: a page token walks one snapshot, a sync token names the snapshot of the last sync, and a sync
answers what differs between that snapshot and now (changed or new people, and deleted ones as
`metadata.deleted`). Snapshots live in server memory (`Workspace.directory_snapshots`, the newest
`MAX_SNAPSHOTS` kept); a token whose snapshot is gone answers like an expired one.

Domain shared contacts are written only through the test controls (`create_domain_contact`, ...):
Google's own write path for them is the retired Domain Shared Contacts API.
"""

from __future__ import annotations

import copy
import hashlib
import json
import secrets
from collections.abc import Iterable

from .core import JSON, Call, Workspace, failed_precondition, handles, invalid_argument, not_found
from .people import (
    EXPIRED_SYNC_TOKEN,
    SYNC_TOKEN_LIFETIME,
    _bool,
    _decode,
    _encode,
    _mask,
    _page_size,
    _params_hash,
)
from .people_store import (
    PERSON_FIELDS,
    UPDATABLE_PERSON_FIELDS,
    apply_fields,
    render_person,
    touch_source,
)

DOMAIN_CONTACT = "DIRECTORY_SOURCE_TYPE_DOMAIN_CONTACT"
DOMAIN_PROFILE = "DIRECTORY_SOURCE_TYPE_DOMAIN_PROFILE"
DIRECTORY_SOURCES = frozenset({DOMAIN_CONTACT, DOMAIN_PROFILE})
MERGE_SOURCES = frozenset({"DIRECTORY_MERGE_SOURCE_TYPE_UNSPECIFIED", "DIRECTORY_MERGE_SOURCE_TYPE_CONTACT"})
# A domain shared contact holds contact fields but belongs to no contact group and has no client data.
DOMAIN_CONTACT_FIELDS = UPDATABLE_PERSON_FIELDS - {"memberships", "clientData"}
MAX_SNAPSHOTS = 32
TOKEN_KIND = "directory"


# --- domain shared contacts (state and test controls) ------------------------------------------------
def domain_contacts(ws: Workspace) -> dict[str, JSON]:
    contacts: dict[str, JSON] = ws.data.setdefault("domain_contacts", {})
    return contacts


def _check_fields(person: object) -> JSON:
    if not isinstance(person, dict):
        raise invalid_argument("A domain contact must be a Person object.")
    unknown = sorted(k for k in person if k not in DOMAIN_CONTACT_FIELDS and k not in ("resourceName", "etag"))
    if unknown:
        raise invalid_argument(
            f"Field {unknown[0]} cannot be set on a domain contact "
            f"(settable: {', '.join(sorted(DOMAIN_CONTACT_FIELDS))})."
        )
    return person


def create_domain_contact(ws: Workspace, person: JSON) -> JSON:
    """Store a domain shared contact; returns it as listDirectoryPeople shows it (every field)."""
    with ws.lock:
        incoming = _check_fields(person)
        number = secrets.randbits(62) | (1 << 60)
        stored: JSON = {
            "resourceName": f"people/c{number}",
            "etag": "",
            "metadata": {
                "sources": [{"type": "DOMAIN_CONTACT", "id": format(number, "x"), "etag": "", "updateTime": ""}],
                "objectType": "PERSON",
            },
        }
        apply_fields({"groups": {}}, stored, incoming, {k for k in incoming if k in DOMAIN_CONTACT_FIELDS})
        touch_source(ws, stored)
        domain_contacts(ws)[stored["resourceName"]] = stored
        return copy.deepcopy(stored)


def _find_domain_contact(ws: Workspace, key: str) -> JSON:
    contacts = domain_contacts(ws)
    name = key if key.startswith("people/") else f"people/{key}"
    if name not in contacts:
        raise not_found(f"Domain contact not found: {key}")
    return contacts[name]


def update_domain_contact(ws: Workspace, key: str, person: JSON) -> JSON:
    """Replace the fields present in `person` (a field set to null or [] is cleared); new etag and time."""
    with ws.lock:
        stored = _find_domain_contact(ws, key)
        incoming = _check_fields(person)
        updated = copy.deepcopy(stored)
        apply_fields({"groups": {}}, updated, incoming, {k for k in incoming if k in DOMAIN_CONTACT_FIELDS})
        touch_source(ws, updated)
        domain_contacts(ws)[updated["resourceName"]] = updated
        return copy.deepcopy(updated)


def delete_domain_contact(ws: Workspace, key: str) -> JSON:
    with ws.lock:
        stored = _find_domain_contact(ws, key)
        del domain_contacts(ws)[stored["resourceName"]]
        return stored


# --- domain profiles (from the Directory) ---------------------------------------------------------------
def _digest(value: object) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _profile_fields(user: JSON, source: JSON) -> JSON:
    """The People fields of a Directory user, named and shaped as the People API names them."""

    def meta(i: int) -> JSON:
        return {"primary": True, "source": dict(source)} if i == 0 else {"source": dict(source)}

    name = user.get("name", {})
    given, family = name.get("givenName", ""), name.get("familyName", "")
    display = name.get("fullName") or " ".join(p for p in (given, family) if p)
    fields: JSON = {
        "names": [{
            "metadata": meta(0), "displayName": display,
            "displayNameLastFirst": ", ".join(p for p in (family, given) if p) or display,
            "givenName": given, "familyName": family, "unstructuredName": display,
        }],
        "emailAddresses": [
            {"metadata": meta(i), "value": address}
            for i, address in enumerate([user["primaryEmail"], *user.get("aliases", [])])
        ],
    }
    mapping: dict[str, tuple[str, dict[str, str]]] = {
        # Directory field -> (People field, {Directory key: People key})
        "phones": ("phoneNumbers", {"value": "value", "type": "type", "customType": "type"}),
        "organizations": ("organizations", {
            "name": "name", "title": "title", "department": "department", "costCenter": "costCenter",
            "description": "jobDescription", "symbol": "symbol", "location": "location", "domain": "domain",
            "type": "type", "customType": "type", "fullTimeEquivalent": "fullTimeEquivalentMillipercent",
        }),
        "addresses": ("addresses", {
            "formatted": "formattedValue", "streetAddress": "streetAddress", "locality": "city",
            "region": "region", "postalCode": "postalCode", "country": "country",
            "countryCode": "countryCode", "poBox": "poBox", "extendedAddress": "extendedAddress",
            "type": "type", "customType": "type",
        }),
        "externalIds": ("externalIds", {"value": "value", "type": "type", "customType": "type"}),
        "locations": ("locations", {
            "area": "value", "type": "type", "customType": "type", "buildingId": "buildingId",
            "floorName": "floor", "floorSection": "floorSection", "deskCode": "deskCode",
        }),
        "relations": ("relations", {"value": "person", "type": "type", "customType": "type"}),
    }
    for directory_field, (people_field, keys) in mapping.items():
        items: list[JSON] = []
        for entry in user.get(directory_field) or []:
            item: JSON = {"metadata": meta(len(items))}
            for d_key, p_key in keys.items():
                value = entry.get(d_key)
                if value not in (None, "") and not (d_key == "type" and value == "custom"):
                    item[p_key] = value
            items.append(item)
        if items:
            fields[people_field] = items
    return fields


def domain_profile(user: JSON) -> JSON:
    """A Directory user as a DOMAIN_PROFILE person; its etags change exactly when its fields do."""
    source: JSON = {"type": "DOMAIN_PROFILE", "id": user["id"]}
    fields = _profile_fields(user, source)
    digest = _digest(fields)
    return {
        "resourceName": f"people/{user['id']}",
        "etag": "%" + digest[:32],
        "metadata": {"sources": [{**source, "etag": "#" + digest[32:56]}], "objectType": "PERSON"},
        **fields,
    }


# --- the directory, snapshots and tokens -----------------------------------------------------------------
def current_people(ws: Workspace, sources: Iterable[str]) -> dict[str, JSON]:
    """Every person the requested sources hold now, by resource name."""
    wanted = set(sources)
    found: dict[str, JSON] = {}
    if DOMAIN_CONTACT in wanted:
        found.update(domain_contacts(ws))
    if DOMAIN_PROFILE in wanted:
        for user in ws.directory["users"].values():
            if user.get("includeInGlobalAddressList", True):
                profile = domain_profile(user)
                found[profile["resourceName"]] = profile
    return found


def _snapshot(people: dict[str, JSON]) -> JSON:
    return {
        rn: {"etag": p["etag"], "sources": [{"type": s["type"], "id": s["id"]} for s in p["metadata"]["sources"]]}
        for rn, p in people.items()
    }


def _keep(ws: Workspace, snapshot_id: str, snapshot: JSON) -> None:
    """Remember a snapshot a token names (only then: a one-page listing without a sync token needs none)."""
    if snapshot_id not in ws.directory_snapshots:
        ws.directory_snapshots[snapshot_id] = snapshot
    while len(ws.directory_snapshots) > MAX_SNAPSHOTS:
        del ws.directory_snapshots[next(iter(ws.directory_snapshots))]


def _expired() -> Exception:
    return failed_precondition(EXPIRED_SYNC_TOKEN, reason="EXPIRED_SYNC_TOKEN")


def _tombstone(resource_name: str, entry: JSON) -> JSON:
    return {
        "resourceName": resource_name,
        "etag": entry["etag"],
        "metadata": {"sources": copy.deepcopy(entry["sources"]), "objectType": "PERSON", "deleted": True},
    }


def _sources(call: Call) -> list[str]:
    sources = call.q_all("sources")
    if not sources:
        raise invalid_argument("At least one directory source must be specified in sources.")
    for value in sources:
        if value not in DIRECTORY_SOURCES:
            raise invalid_argument(
                f"Invalid value at 'sources' (type.googleapis.com/google.people.v1.DirectorySourceType), "
                f'"{value}"'
            )
    for value in call.q_all("mergeSources"):
        if value not in MERGE_SOURCES:
            raise invalid_argument(
                f"Invalid value at 'merge_sources' "
                f'(type.googleapis.com/google.people.v1.DirectoryMergeSourceType), "{value}"'
            )
    return sorted(set(sources))


@handles("people.people.listDirectoryPeople")
def list_directory_people(call: Call) -> JSON:
    fields = _mask(call.q("readMask"), "readMask", PERSON_FIELDS, required=True)
    assert fields is not None
    sources = _sources(call)
    size = _page_size(call, 100)
    ws, user_id = call.ws, call.user["id"]
    params = _params_hash(TOKEN_KIND, sorted(fields), sources, sorted(call.q_all("mergeSources")))
    page_params = _params_hash(params, call.q("syncToken"), _bool(call.q("requestSyncToken")))
    now_people = current_people(ws, sources)

    since: str | None
    raw_page = call.q("pageToken")
    if raw_page:
        page = _decode(raw_page)
        if page is None or page.get("u") != user_id or page.get("k") != TOKEN_KIND:
            raise invalid_argument("Page token is not valid.")
        if page.get("h") != page_params:
            raise invalid_argument("Request parameters must match the request that produced the page token.")
        since, upto, chain, offset = page["since"], page["upto"], float(page["t"]), int(page["o"])
        if upto not in ws.directory_snapshots or (since is not None and since not in ws.directory_snapshots):
            raise invalid_argument("Page token is not valid.")
        after = ws.directory_snapshots[upto]
    elif call.q("syncToken"):
        token = _decode(call.q("syncToken") or "")
        if token is None or token.get("u") != user_id or token.get("k") != TOKEN_KIND:
            raise _expired()
        if token.get("s") not in ws.directory_snapshots or ws.now() - float(token["t"]) > SYNC_TOKEN_LIFETIME:
            raise _expired()
        if token.get("h") != params:
            raise invalid_argument("Request parameters must match the request that produced the sync token.")
        since, chain, offset = token["s"], float(token["t"]), 0
        upto, after = secrets.token_hex(8), _snapshot(now_people)
    else:
        since, chain, offset = None, ws.now(), 0
        upto, after = secrets.token_hex(8), _snapshot(now_people)

    if since is None:
        names = sorted(after)
    else:
        before = ws.directory_snapshots[since]
        changed = [rn for rn, entry in after.items() if before.get(rn, {}).get("etag") != entry["etag"]]
        names = sorted(changed + [rn for rn in before if rn not in after])

    people: list[JSON] = []
    for rn in names[offset : offset + size]:
        if rn in now_people:
            people.append(render_person(now_people[rn], fields, share=call.live))
        elif since is not None:  # gone: a sync reports it deleted; a full listing just leaves it out
            people.append(_tombstone(rn, ws.directory_snapshots[since].get(rn) or after[rn]))
    answer: JSON = {"people": people} if people else {}
    if offset + size < len(names):
        _keep(ws, upto, after)
        answer["nextPageToken"] = _encode(
            {"u": user_id, "k": TOKEN_KIND, "h": page_params, "since": since, "upto": upto,
             "t": chain, "o": offset + size}
        )
    elif _bool(call.q("requestSyncToken")):
        _keep(ws, upto, after)
        answer["nextSyncToken"] = _encode({"u": user_id, "k": TOKEN_KIND, "h": params, "s": upto, "t": chain})
    return answer
