"""The People API data of one user: contacts, contact groups, the change log, and the rules that keep
them consistent (etags, memberships, system groups). Handlers in `people.py` and the seed use these.

Layout per user (see `core.empty_state`): contacts {resourceName: Person}, groups {resourceName:
ContactGroup}, log [[seq, resourceName]], seq. Added here: tombstones {resourceName: deleted item}
and photos {resourceName: base64 bytes}.
"""

from __future__ import annotations

import binascii
import datetime as dt
import functools
import math
import os
import secrets
from typing import Any

from .core import JSON, ApiError, Workspace, invalid_argument, json_copy, not_found

# System groups in the order Google lists them, with their formattedName.
SYSTEM_GROUPS: dict[str, str] = {
    "chatBuddies": "Chat contacts",
    "all": "All Contacts",
    "friends": "Friends",
    "family": "Family",
    "coworkers": "Coworkers",
    "blocked": "Blocked",
    "myContacts": "My Contacts",
    "starred": "Starred",
}
# The only system groups a contact can be added to (contactGroups.members.modify docs).
ASSIGNABLE_SYSTEM_GROUPS = frozenset({"myContacts", "starred"})

PERSON_FIELDS = frozenset(
    [
        "addresses",
        "ageRanges",
        "biographies",
        "birthdays",
        "calendarUrls",
        "clientData",
        "coverPhotos",
        "emailAddresses",
        "events",
        "externalIds",
        "genders",
        "imClients",
        "interests",
        "locales",
        "locations",
        "memberships",
        "metadata",
        "miscKeywords",
        "names",
        "nicknames",
        "occupations",
        "organizations",
        "phoneNumbers",
        "photos",
        "relations",
        "sipAddresses",
        "skills",
        "urls",
        "userDefined",
    ]
)
UPDATABLE_PERSON_FIELDS = frozenset(
    [
        "addresses",
        "biographies",
        "birthdays",
        "calendarUrls",
        "clientData",
        "emailAddresses",
        "events",
        "externalIds",
        "genders",
        "imClients",
        "interests",
        "locales",
        "locations",
        "memberships",
        "miscKeywords",
        "names",
        "nicknames",
        "occupations",
        "organizations",
        "phoneNumbers",
        "relations",
        "sipAddresses",
        "urls",
        "userDefined",
    ]
)
SINGLETON_FIELDS = ("biographies", "birthdays", "genders", "names")
GROUP_FIELDS = frozenset({"clientData", "groupType", "memberCount", "metadata", "name"})
DEFAULT_GROUP_FIELDS = ("metadata", "groupType", "memberCount", "name")


def rfc3339(ws: Workspace) -> str:
    return format_time(ws.now())


_SECONDS: dict[int, str] = {}  # whole epoch second -> "%Y-%m-%dT%H:%M:%S." (the ones seen lately)


def format_time(epoch: float) -> str:
    """`epoch` as RFC 3339 with milliseconds (cut down, not rounded), in UTC.

    The same as formatting `datetime.fromtimestamp(epoch, UTC)`, which is several times slower (every
    stored contact gets an update time): its rounding to the microsecond, half to even, is done here, and
    the date and time of day are formatted once per second."""
    fraction, whole = math.modf(epoch)
    micro = round(fraction * 1e6)
    if micro >= 1_000_000:
        micro -= 1_000_000
        whole += 1.0
    elif micro < 0:
        micro += 1_000_000
        whole -= 1.0
    second = int(whole)
    prefix = _SECONDS.get(second)
    if prefix is None:
        if len(_SECONDS) >= 1024:
            _SECONDS.clear()
        prefix = _SECONDS[second] = dt.datetime.fromtimestamp(second, tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.")
    return f"{prefix}{micro // 1000:03d}Z"


_PARSED: dict[str, float | None] = {}  # stamps parsed lately: a batch's contacts share a few update times


def parse_time(stamp: str) -> float | None:
    if stamp in _PARSED:
        return _PARSED[stamp]
    try:
        value: float | None = (
            dt.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC).timestamp()
        )
    except ValueError:
        value = None
    if len(_PARSED) >= 4096:
        _PARSED.clear()
    _PARSED[stamp] = value
    return value


def next_update_time(ws: Workspace, previous: str | None) -> str:
    """The emulated now, but always after `previous`: two writes within one millisecond still get two
    update times, so a client comparing them never mistakes a change for no change."""
    now_ms = math.floor(ws.now() * 1000)  # what format_time writes: whole milliseconds, cut down
    before = parse_time(previous) if previous else None
    if before is not None:
        now_ms = max(now_ms, round(before * 1000) + 1)
    return format_time(now_ms / 1000 + 0.0005)  # mid-millisecond, so float error never cuts it to the one before


def new_etag(prefix: str) -> str:
    # what base64.b64encode(secrets.token_bytes(24)) makes, without their Python layers
    return prefix + binascii.b2a_base64(os.urandom(24), newline=False).decode()


def user_store(ws: Workspace, user_id: str) -> JSON:
    """The user's People data, with the system groups and the extra maps created on first use."""
    store = ws.people_of(user_id)
    store.setdefault("tombstones", {})
    store.setdefault("photos", {})
    groups: JSON = store["groups"]
    for group_id, formatted in SYSTEM_GROUPS.items():
        rn = f"contactGroups/{group_id}"
        if rn not in groups:
            groups[rn] = {
                "resourceName": rn,
                "etag": new_etag(""),
                "metadata": {"updateTime": rfc3339(ws)},
                "groupType": "SYSTEM_CONTACT_GROUP",
                "name": group_id,
                "formattedName": formatted,
            }
    return store


def log_change(store: JSON, resource_name: str) -> None:
    store["seq"] += 1
    store["log"].append([store["seq"], resource_name])


# --- contact groups --------------------------------------------------------------------------------
def is_user_group(group: JSON) -> bool:
    return bool(group.get("groupType") == "USER_CONTACT_GROUP")


def group_id_of(resource_name: str) -> str:
    return resource_name.split("/", 1)[1]


def find_group(store: JSON, resource_name: str) -> JSON:
    group = store["groups"].get(resource_name)
    if group is None:
        raise not_found()
    return group


def check_group_name(store: JSON, name: Any, *, exclude: str | None = None) -> str:
    if not isinstance(name, str) or not name.strip():
        raise invalid_argument("Contact group name cannot be empty.")
    taken = {g["name"].lower() for rn, g in store["groups"].items() if rn != exclude and is_user_group(g)} | {
        n.lower() for n in SYSTEM_GROUPS
    }
    if name.strip().lower() in taken:
        raise ApiError(409, "Contact group name already exists.", "ALREADY_EXISTS")
    return name.strip()


def create_group(ws: Workspace, user_id: str, name: str, client_data: list[JSON] | None = None) -> JSON:
    """Create a user contact group as contactGroups.create does; returns the stored ContactGroup."""
    with ws.lock:
        store = user_store(ws, user_id)
        clean_name = check_group_name(store, name)
        rn = f"contactGroups/{secrets.token_hex(6)}"
        group: JSON = {
            "resourceName": rn,
            "etag": new_etag(""),
            "metadata": {"updateTime": rfc3339(ws)},
            "groupType": "USER_CONTACT_GROUP",
            "name": clean_name,
            "formattedName": clean_name,
        }
        if client_data:
            group["clientData"] = [{"key": d["key"], "value": d.get("value", "")} for d in client_data]
        store["groups"][rn] = group
        log_change(store, rn)
        return json_copy(group)


def touch_group(ws: Workspace, store: JSON, group: JSON) -> None:
    group["etag"] = new_etag("")
    group["metadata"] = {"updateTime": rfc3339(ws)}
    log_change(store, group["resourceName"])


def members_of(store: JSON, group_rn: str) -> list[str]:
    return [rn for rn, p in store["contacts"].items() if group_rn in membership_names(p)]


def members_by_group(store: JSON) -> dict[str, list[str]]:
    """members_of every group at once (one pass over the contacts), for a call that renders many groups."""
    members: dict[str, list[str]] = {}
    for rn, p in store["contacts"].items():
        for group_rn in dict.fromkeys(membership_names(p)):
            members.setdefault(group_rn, []).append(rn)
    return members


def render_group(
    store: JSON,
    group: JSON,
    fields: tuple[str, ...] | frozenset[str],
    max_members: int = 0,
    *,
    share: bool = False,
    members_index: dict[str, list[str]] | None = None,
) -> JSON:
    """`share`: as render_person's. `members_index`: members_by_group(store), when the caller has it."""
    out: JSON = {"resourceName": group["resourceName"], "etag": group["etag"]}
    if "metadata" in fields:
        out["metadata"] = group["metadata"] if share else json_copy(group["metadata"])
    if "groupType" in fields:
        out["groupType"] = group["groupType"]
    if "name" in fields:
        out["name"] = group["name"]
        out["formattedName"] = group["formattedName"]
    if "clientData" in fields and group.get("clientData"):
        out["clientData"] = group["clientData"] if share else json_copy(group["clientData"])
    members: list[str] = []
    if "memberCount" in fields or max_members:
        if members_index is None:
            members = members_of(store, group["resourceName"])
        else:
            members = members_index.get(group["resourceName"], [])
    if "memberCount" in fields and members:  # proto3 JSON omits a zero count
        out["memberCount"] = len(members)
    if max_members and members:
        out["memberResourceNames"] = members[:max_members]
    return out


# --- contacts --------------------------------------------------------------------------------------
def membership_names(person: JSON) -> list[str]:
    names = []
    for m in person.get("memberships", []):
        cgm = m.get("contactGroupMembership")
        if cgm:
            names.append(cgm.get("contactGroupResourceName") or f"contactGroups/{cgm['contactGroupId']}")
    return names


def membership(group_rn: str, source: JSON) -> JSON:
    return {
        "metadata": {"source": json_copy(source)},
        "contactGroupMembership": {
            "contactGroupId": group_id_of(group_rn),
            "contactGroupResourceName": group_rn,
        },
    }


def normalise_memberships(store: JSON, memberships: list[JSON], source: JSON) -> list[JSON]:
    """Validate the contact-group memberships a client sent and return them in stored shape."""
    wanted: list[str] = []
    for m in memberships:
        cgm = m.get("contactGroupMembership") if isinstance(m, dict) else None
        if not isinstance(cgm, dict):
            continue  # domainMembership and other read-only kinds are ignored on write
        rn = cgm.get("contactGroupResourceName") or (
            f"contactGroups/{cgm['contactGroupId']}" if cgm.get("contactGroupId") else None
        )
        if not rn:
            raise invalid_argument("Contact group membership must set contactGroupResourceName.")
        group = store["groups"].get(rn)
        if group is None:
            raise invalid_argument(f"Contact group not found: {rn}")
        if not is_user_group(group) and group_id_of(rn) not in ASSIGNABLE_SYSTEM_GROUPS:
            raise invalid_argument(f"Cannot add a contact to the system contact group {rn}.")
        if rn not in wanted:
            wanted.append(rn)
    return [membership(rn, source) for rn in wanted]


def _derive_names(names: list[JSON]) -> None:
    for n in names:
        given, family = n.get("givenName", ""), n.get("familyName", "")
        parts = [
            n.get("honorificPrefix", ""),
            given,
            n.get("middleName", ""),
            family,
            n.get("honorificSuffix", ""),
        ]
        display = " ".join(p for p in parts if p) or n.get("unstructuredName", "")
        if display:
            n.setdefault("displayName", display)
            n.setdefault("unstructuredName", display)
            last_first = ", ".join(
                p for p in (family, " ".join(x for x in (given, n.get("middleName", "")) if x)) if p
            )
            n.setdefault("displayNameLastFirst", last_first or display)


def apply_fields(
    store: JSON, person: JSON, incoming: JSON, fields: set[str] | frozenset[str], *, owned: bool = False
) -> None:
    """Replace (or clear, when absent from `incoming`) each named field of a stored person.

    `owned`: `incoming` is the caller's to give away (a parsed request body nothing else holds), so its
    items are stored as they are instead of copied; it is changed in place."""
    source = person["metadata"]["sources"][0]
    src_ref = {"type": source["type"], "id": source["id"]}
    for name in sorted(fields):
        value = incoming.get(name)
        if name == "memberships":
            wanted = normalise_memberships(store, value or [], src_ref)
            if not wanted:
                raise invalid_argument("Person must have at least one contact group membership.")
            person["memberships"] = wanted
            continue
        if not value:
            person.pop(name, None)
            continue
        if not isinstance(value, list):
            raise invalid_argument(f"Invalid value at 'person.{name}': expected a list.")
        if name in SINGLETON_FIELDS and len(value) > 1:
            raise invalid_argument(
                f"Only one {name[:-1] if name != 'biographies' else 'biography'} is allowed."
            )
        items = value if owned else json_copy(value)
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                raise invalid_argument(f"Invalid value at 'person.{name}[{i}]'.")
            item["metadata"] = (
                {"primary": True, "source": dict(src_ref)} if i == 0 else {"source": dict(src_ref)}
            )
        if name == "names":
            _derive_names(items)
        person[name] = items


def touch_contact(ws: Workspace, store: JSON, person: JSON) -> None:
    """Every modification gives the person a new etag and update time and enters the change log."""
    touch_source(ws, person)
    log_change(store, person["resourceName"])


def touch_source(ws: Workspace, person: JSON) -> None:
    """A new person etag, source etag and (strictly later) source update time."""
    person["etag"] = new_etag("%")
    source = person["metadata"]["sources"][0]
    source["etag"] = new_etag("#")
    source["updateTime"] = next_update_time(ws, source.get("updateTime"))


def new_person(ws: Workspace, store: JSON, incoming: JSON, *, owned: bool = False) -> JSON:
    number = secrets.randbits(62) | (1 << 60)
    rn = f"people/c{number}"
    person: JSON = {
        "resourceName": rn,
        "etag": "",
        "metadata": {
            "sources": [{"type": "CONTACT", "id": format(number, "x"), "etag": "", "updateTime": ""}],
            "objectType": "PERSON",
        },
    }
    if not incoming.get("memberships"):
        incoming = {**incoming, "memberships": [membership("contactGroups/myContacts", {})]}
    fields = {k for k in incoming if k in UPDATABLE_PERSON_FIELDS}
    apply_fields(store, person, incoming, fields, owned=owned)
    return person


def create_contact(ws: Workspace, user_id: str, person: JSON) -> JSON:
    """Store a Person as createContact does (memberships from the person, else myContacts)."""
    with ws.lock:
        store = user_store(ws, user_id)
        unknown = sorted(k for k in person if k not in PERSON_FIELDS and k not in {"resourceName", "etag"})
        if unknown:
            raise invalid_argument(
                f"Invalid JSON payload received. Unknown name \"{unknown[0]}\" at 'person'."
            )
        stored = new_person(ws, store, person)
        store["contacts"][stored["resourceName"]] = stored
        touch_contact(ws, store, stored)
        return json_copy(stored)


def find_contact(store: JSON, resource_name: str) -> JSON:
    person = store["contacts"].get(resource_name)
    if person is None:
        raise not_found()
    return person


def delete_contact(store: JSON, resource_name: str) -> None:
    person = store["contacts"].pop(resource_name)
    store["photos"].pop(resource_name, None)
    store["tombstones"][resource_name] = {
        "resourceName": resource_name,
        "etag": new_etag("%"),
        "metadata": {
            "sources": json_copy(person["metadata"]["sources"]),
            "objectType": "PERSON",
            "deleted": True,
        },
    }
    log_change(store, resource_name)


def render_person(person: JSON, fields: frozenset[str] | set[str], *, share: bool = False) -> JSON:
    """The person with only `fields` (and its name and etag). Copied, unless `share`: then its values are
    the stored ones, for an answer encoded before anything can change them (`Call.live`)."""
    out: JSON = {"resourceName": person["resourceName"], "etag": person["etag"]}
    names = _answered(fields) if type(fields) is frozenset else _answered(frozenset(fields))
    if share:
        for name in names:
            if name in person:
                out[name] = person[name]
    else:
        for name in names:
            if name in person:
                out[name] = json_copy(person[name])
    return out


@functools.cache
def _answered(fields: frozenset[str]) -> tuple[str, ...]:
    """The person fields render_person copies, in its order (a call renders every person with one mask)."""
    return tuple(name for name in sorted(fields) if name not in ("resourceName", "etag"))
