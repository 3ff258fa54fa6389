"""People API v1 handlers: contacts (people.*) and contact groups (contactGroups.*).

The seed and the tests also call `create_group` and `create_contact` (re-exported from people_store).
"""

from __future__ import annotations

import base64
import binascii
import bisect
import hashlib
import json
import threading
from collections import OrderedDict
from typing import Any

from .core import JSON, ApiError, Call, failed_precondition, handles, invalid_argument, json_copy
from .partial import apply_fields_but, item_picker, picker
from .people_store import (
    ASSIGNABLE_SYSTEM_GROUPS,
    DEFAULT_GROUP_FIELDS,
    GROUP_FIELDS,
    PERSON_FIELDS,
    UPDATABLE_PERSON_FIELDS,
    apply_fields,
    check_group_name,
    create_contact,
    create_group,
    delete_contact,
    find_contact,
    find_group,
    group_id_of,
    is_user_group,
    members_by_group,
    members_of,
    membership,
    membership_names,
    new_etag,
    new_person,
    render_group,
    render_person,
    rfc3339,
    touch_contact,
    touch_group,
    user_store,
)

__all__ = ["create_contact", "create_group"]

FIELDS_DOC = "https://developers.google.com/people/api/rest/v1/people/get"
SYNC_TOKEN_LIFETIME = 7 * 24 * 3600
EXPIRED_SYNC_TOKEN = "Sync token is expired. Clear local cache and retry call without the sync token."
SORT_ORDERS = (
    "LAST_MODIFIED_ASCENDING",
    "LAST_MODIFIED_DESCENDING",
    "FIRST_NAME_ASCENDING",
    "LAST_NAME_ASCENDING",
)
MAX_BATCH_GET = 200
MAX_BATCH_MUTATE = 200
MAX_BATCH_DELETE = 500
MAX_MODIFY_MEMBERS = 1000


# --- request helpers -------------------------------------------------------------------------------
def _mask(raw: str | None, name: str, valid: frozenset[str], *, required: bool) -> frozenset[str] | None:
    if raw is None or not raw.strip():
        if required:
            raise invalid_argument(
                f"{name} mask is required. Please specify one or more valid paths. "
                f"Valid paths are documented at {FIELDS_DOC}."
            )
        return None
    paths = [p.strip().removeprefix("person.") for p in raw.split(",") if p.strip()]
    for path in paths:
        if path not in valid:
            raise invalid_argument(
                f'Invalid {name} mask path: "{path}". Valid paths are documented at {FIELDS_DOC}.'
            )
    return frozenset(paths)


def _person_fields(call: Call, *, required: bool) -> frozenset[str]:
    raw = call.q("personFields")
    if raw is None and call.q("requestMask.includeField"):
        raw = call.q("requestMask.includeField")
    mask = _mask(raw, "personFields", PERSON_FIELDS, required=required)
    return PERSON_FIELDS if mask is None else mask


def _group_fields(raw: str | None) -> frozenset[str]:
    mask = _mask(raw, "groupFields", GROUP_FIELDS, required=False)
    return frozenset(DEFAULT_GROUP_FIELDS) if mask is None else mask


def _int(value: Any, name: str, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise invalid_argument(f"Invalid value at '{name}' (TYPE_INT32), \"{value}\"") from exc


def _page_size(call: Call, default: int) -> int:
    size = _int(call.q("pageSize"), "page_size", 0)
    if size < 0 or size > 1000:
        raise invalid_argument("Page size must be between 1 and 1000 (inclusive).")
    return size or default


def _bool(value: str | None) -> bool:
    return (value or "").lower() == "true"


def _body(call: Call) -> JSON:
    if call.body is None:
        return {}
    if not isinstance(call.body, dict):
        raise invalid_argument("Invalid JSON payload received. Expected an object.")
    return call.body


def _store(call: Call) -> JSON:
    return user_store(call.ws, call.user["id"])


def _check_contact_name(resource_name: str) -> None:
    if not resource_name.startswith("people/") or resource_name == "people/":
        raise invalid_argument(f"Resource name is not a valid person resource name: {resource_name}")


# --- opaque page and sync tokens ---------------------------------------------------------------------
def _encode(token: JSON) -> str:
    return base64.urlsafe_b64encode(json.dumps(token, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode(token: str) -> JSON | None:
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def _params_hash(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=sorted).encode()).hexdigest()[:16]


def _sync_start(call: Call, store: JSON, kind: str, params: str, *, expires: bool) -> tuple[int, float]:
    """(change-log position, start of the sync chain) from a sync token, or the documented errors."""
    token = _decode(call.q("syncToken") or "")
    if (
        token is None
        or token.get("u") != call.user["id"]
        or token.get("k") != kind
        or token.get("s", 0) > store["seq"]
    ):
        raise failed_precondition(EXPIRED_SYNC_TOKEN, reason="EXPIRED_SYNC_TOKEN")
    if expires and call.ws.now() - float(token["t"]) > SYNC_TOKEN_LIFETIME:
        raise failed_precondition(EXPIRED_SYNC_TOKEN, reason="EXPIRED_SYNC_TOKEN")
    if token.get("h") != params:
        raise invalid_argument("Request parameters must match the request that produced the sync token.")
    return int(token["s"]), float(token["t"])


def _page_start(call: Call, kind: str, params: str) -> JSON | None:
    raw = call.q("pageToken")
    if not raw:
        return None
    token = _decode(raw)
    if token is None or token.get("u") != call.user["id"] or token.get("k") != kind:
        raise invalid_argument("Page token is not valid.")
    if token.get("h") != params:
        raise invalid_argument("Request parameters must match the request that produced the page token.")
    return token


# The last reads' change lists, by (the log's id, since, upto, prefix), each with the log it was taken from: a
# sync token's pages all list the same (since, upto] range, which is fixed once logged (the log is only ever
# appended to), so a read of 20 pages computes it once, not once a page. (Its own lock: a process may hold
# several workspaces.)
_CHANGES: OrderedDict[tuple[int, int, int, str], tuple[list[Any], list[str]]] = OrderedDict()
_CHANGES_KEPT = 64
_CHANGES_LOCK = threading.Lock()


def _changed_since(store: JSON, since: int, upto: int, prefix: str) -> list[str]:
    """Resource names changed in (since, upto], each once, in order of their last change.

    The log is appended to with ever larger sequence numbers, so the range is found by bisection (a sync
    token's page reads its own changes, not the whole log); the newest entry of each name is kept."""
    log = store["log"]
    key = (id(log), since, upto, prefix)
    with _CHANGES_LOCK:
        cached = _CHANGES.get(key)
        if cached is not None and cached[0] is log:  # the same list (held here, so its id is not reused)
            _CHANGES.move_to_end(key)
            return cached[1]
    start = bisect.bisect_right(log, since, key=_seq)
    stop = bisect.bisect_right(log, upto, lo=start, key=_seq)
    newest_first = dict.fromkeys(rn for _, rn in reversed(log[start:stop]) if rn.startswith(prefix))
    names = list(newest_first)[::-1]
    with _CHANGES_LOCK:
        _CHANGES[key] = (log, names)
        if len(_CHANGES) > _CHANGES_KEPT:
            _CHANGES.popitem(last=False)
    return names


def _seq(entry: list[Any]) -> Any:
    return entry[0]


def _paginate(
    call: Call,
    kind: str,
    params: str,
    items_for: Any,
    *,
    default_size: int,
    sync_requested: bool,
    expires: bool,
) -> tuple[list[str], JSON, int]:
    """Shared pagination and sync-token logic of connections.list and contactGroups.list.

    `items_for(since, upto)` lists resource names: all current ones when since is None, else the changes.
    Returns (this page's names, the token fields of the answer, total item count).
    """
    store = _store(call)
    size = _page_size(call, default_size)
    page = _page_start(call, kind, _params_hash(params, call.q("syncToken")))
    if page is not None:
        since, upto, chain, offset = page["since"], page["upto"], page["t"], page["o"]
    elif call.q("syncToken"):
        since, chain = _sync_start(call, store, kind, params, expires=expires)
        upto, offset = store["seq"], 0
    else:
        since, upto, chain, offset = None, store["seq"], call.ws.now(), 0
    names = items_for(since, upto)
    out: JSON = {}
    end = offset + size
    if end < len(names):
        out["nextPageToken"] = _encode(
            {
                "u": call.user["id"],
                "k": kind,
                "h": _params_hash(params, call.q("syncToken")),
                "since": since,
                "upto": upto,
                "t": chain,
                "o": end,
            }
        )
    elif sync_requested:
        out["nextSyncToken"] = _encode({"u": call.user["id"], "k": kind, "h": params, "s": upto, "t": chain})
    return names[offset:end], out, len(names)


# --- people.connections.list --------------------------------------------------------------------------
def _sort_contacts(store: JSON, order: str) -> list[str]:
    contacts = store["contacts"]
    if order in ("FIRST_NAME_ASCENDING", "LAST_NAME_ASCENDING"):
        key = "givenName" if order == "FIRST_NAME_ASCENDING" else "familyName"

        def name_key(rn: str) -> tuple[str, str]:
            names = contacts[rn].get("names") or [{}]
            return (str(names[0].get(key, "")).lower(), rn)

        return sorted(contacts, key=name_key)
    modified = {rn: seq for seq, rn in store["log"] if rn in contacts}
    ordered = sorted(contacts, key=lambda rn: modified.get(rn, 0))
    return ordered[::-1] if order == "LAST_MODIFIED_DESCENDING" else ordered


@handles("people.people.connections.list")
def list_connections(call: Call) -> JSON:
    if call.path_params.get("resourceName") != "people/me":
        raise invalid_argument("Only people/me is valid for connections.")
    fields = _person_fields(call, required=True)
    order = call.q("sortOrder") or "LAST_MODIFIED_ASCENDING"
    if order not in SORT_ORDERS:
        raise invalid_argument(
            f"Invalid value at 'sort_order' (type.googleapis.com/google.people.v1."
            f'ListConnectionsRequest.SortOrder), "{order}"'
        )
    store = _store(call)
    params = _params_hash("connections", sorted(fields), order, sorted(call.q_all("sources")))

    def items_for(since: int | None, upto: int) -> list[str]:
        if since is None:
            return _sort_contacts(store, order)
        return _changed_since(store, since, upto, "people/")

    names, out, total = _paginate(
        call,
        "people",
        params,
        items_for,
        default_size=100,
        sync_requested=_bool(call.q("requestSyncToken")),
        expires=True,
    )
    selector = call.fields
    connections = []
    if selector is None or ("connections" in selector and selector["connections"] is None):
        for rn in names:  # every connection answered whole
            if rn in store["contacts"]:
                connections.append(render_person(store["contacts"][rn], fields, share=call.live))
            elif rn in store["tombstones"]:
                tombstone = store["tombstones"][rn]
                connections.append(tombstone if call.live else json_copy(tombstone))
    elif "connections" in selector:  # parts of each: taken from the stored contact, never rendered whole
        keep = selector["connections"]
        pick_person = item_picker(keep, lambda key: key in ("resourceName", "etag") or key in fields)
        pick_tombstone = picker(keep)
        for rn in names:
            if rn in store["contacts"]:
                connections.append(pick_person(store["contacts"][rn]))
            elif rn in store["tombstones"]:
                connections.append(pick_tombstone(store["tombstones"][rn]))
    # else the filter keeps no connections: none is rendered
    answer: JSON = {}
    if connections:
        answer["connections"] = connections
    answer.update(out)
    if not call.q("syncToken") and total:
        answer["totalPeople"] = total
        answer["totalItems"] = total
    if selector is None:
        return answer
    call.fields_applied = True
    return apply_fields_but(answer, selector, "connections")


# --- people.get / getBatchGet -----------------------------------------------------------------------
def _profile(call: Call) -> JSON:
    """people/me: the authenticated user's own profile, from the Directory."""
    user = call.user
    name = user.get("name", {})
    given, family = name.get("givenName", ""), name.get("familyName", "")
    src = {"type": "PROFILE", "id": user["id"]}
    return {
        "resourceName": f"people/{user['id']}",
        "etag": "%" + hashlib.sha256(json.dumps(user, sort_keys=True).encode()).hexdigest()[:24],
        "metadata": {"sources": [src], "objectType": "PERSON"},
        "names": [
            {
                "metadata": {"primary": True, "source": src},
                "givenName": given,
                "familyName": family,
                "displayName": name.get("fullName") or f"{given} {family}".strip(),
            }
        ],
        "emailAddresses": [{"metadata": {"primary": True, "source": src}, "value": user["primaryEmail"]}],
    }


def _get_person(call: Call, store: JSON, resource_name: str, fields: frozenset[str]) -> JSON:
    if resource_name == "people/me":
        return render_person(_profile(call), fields, share=True)  # made for this answer
    _check_contact_name(resource_name)
    return render_person(find_contact(store, resource_name), fields, share=call.live)


@handles("people.people.get")
def get_person(call: Call) -> JSON:
    fields = _person_fields(call, required=True)
    return _get_person(call, _store(call), call.path_params["resourceName"], fields)


@handles("people.people.getBatchGet")
def get_batch(call: Call) -> JSON:
    names = call.q_all("resourceNames")
    if not names:
        raise invalid_argument("At least one resource name must be specified.")
    if len(names) > MAX_BATCH_GET:
        raise invalid_argument(f"Too many resource names: {len(names)}. The maximum is {MAX_BATCH_GET}.")
    fields = _person_fields(call, required=True)
    store = _store(call)
    responses = []
    for rn in names:
        try:
            person = _get_person(call, store, rn, fields)
            responses.append(
                {"httpStatusCode": 200, "requestedResourceName": rn, "person": person, "status": {}}
            )
        except ApiError as err:
            code = {400: 3, 404: 5}.get(err.code, 2)
            responses.append(
                {
                    "httpStatusCode": err.code,
                    "requestedResourceName": rn,
                    "status": {"code": code, "message": err.message},
                }
            )
    return {"responses": responses}


# --- contact mutations ----------------------------------------------------------------------------------
_SETTABLE_PERSON_KEYS = UPDATABLE_PERSON_FIELDS | {"metadata", "resourceName", "etag"}


def _check_new_person(person: Any) -> JSON:
    if not isinstance(person, dict):
        raise invalid_argument("A person is required.")
    if person.keys() <= _SETTABLE_PERSON_KEYS:  # the usual case, checked in one set operation
        return person
    unknown = sorted(k for k in person if k not in PERSON_FIELDS and k not in ("resourceName", "etag"))
    if unknown:
        raise invalid_argument(f"Invalid JSON payload received. Unknown name \"{unknown[0]}\" at 'person'.")
    read_only = sorted(k for k in person if k in PERSON_FIELDS - UPDATABLE_PERSON_FIELDS and k != "metadata")
    if read_only:
        raise invalid_argument(f"Person field {read_only[0]} cannot be set.")
    return person


def _store_put(call: Call, store: JSON, stored: JSON) -> JSON:
    """Save a created or updated contact: new etag, change-log entry."""
    store["contacts"][stored["resourceName"]] = stored
    touch_contact(call.ws, store, stored)
    return stored


@handles("people.people.createContact")
def create_contact_handler(call: Call) -> JSON:
    fields = _person_fields(call, required=False)
    store = _store(call)
    person = new_person(call.ws, store, _check_new_person(_body(call)), owned=True)
    return render_person(_store_put(call, store, person), fields, share=call.live)


@handles("people.people.batchCreateContacts")
def batch_create(call: Call) -> JSON:
    body = _body(call)
    fields = _mask(body.get("readMask"), "readMask", PERSON_FIELDS, required=True)
    assert fields is not None
    contacts = body.get("contacts") or []
    if not contacts:
        raise invalid_argument("contacts must not be empty.")
    if len(contacts) > MAX_BATCH_MUTATE:
        raise invalid_argument(f"Too many contacts: {len(contacts)}. The maximum is {MAX_BATCH_MUTATE}.")
    store = _store(call)
    # Every contact is validated before any is stored: a bad one fails the whole batch.
    # The parsed body is the handler's own: its items are stored without a copy.
    people = [
        new_person(call.ws, store, _check_new_person((c or {}).get("contactPerson")), owned=True)
        for c in contacts
    ]
    created = [_store_put(call, store, p) for p in people]
    return {
        "createdPeople": [
            {
                "httpStatusCode": 200,
                "requestedResourceName": p["resourceName"],
                "person": render_person(p, fields, share=call.live),
                "status": {},
            }
            for p in created
        ]
    }


def _check_etag(current: JSON, incoming: JSON) -> None:
    given = incoming.get("etag")
    source_etags = [
        s.get("etag") for s in (incoming.get("metadata") or {}).get("sources", []) if s.get("etag")
    ]
    if not given and not source_etags:
        raise invalid_argument(
            "Request must set person.etag or person.metadata.sources.etag for the source that is being "
            "updated."
        )
    if given == current["etag"] or current["metadata"]["sources"][0]["etag"] in source_etags:
        return
    raise failed_precondition(
        "Request person.etag is different than the current person.etag. Clear local cache and get the "
        "latest person."
    )


def _updated_copy(store: JSON, resource_name: str, incoming: Any, update_fields: frozenset[str]) -> JSON:
    """The contact as it will be after the update; nothing is stored yet."""
    if not isinstance(incoming, dict):
        raise invalid_argument("A person is required.")
    _check_contact_name(resource_name)
    current = find_contact(store, resource_name)
    _check_etag(current, incoming)
    # An update stores this copy in place of the contact, which is dropped. The copy's own top level is
    # rewritten and its metadata changed in place (touch_source); its other values are shared with the
    # contact: neither is changed in place, so a batch that fails leaves the contact as it was.
    updated = {**current, "metadata": json_copy(current["metadata"])}
    apply_fields(store, updated, incoming, update_fields, owned=True)  # a parsed request body
    return updated


@handles("people.people.updateContact")
def update_contact(call: Call) -> JSON:
    update_fields = _mask(
        call.q("updatePersonFields"), "updatePersonFields", UPDATABLE_PERSON_FIELDS, required=True
    )
    assert update_fields is not None
    fields = _person_fields(call, required=False)
    store = _store(call)
    updated = _updated_copy(store, call.path_params["resourceName"], _body(call), update_fields)
    return render_person(_store_put(call, store, updated), fields, share=call.live)


@handles("people.people.batchUpdateContacts")
def batch_update(call: Call) -> JSON:
    body = _body(call)
    update_fields = _mask(body.get("updateMask"), "updateMask", UPDATABLE_PERSON_FIELDS, required=True)
    fields = _mask(body.get("readMask"), "readMask", PERSON_FIELDS, required=True)
    assert update_fields is not None and fields is not None
    contacts = body.get("contacts") or {}
    if not isinstance(contacts, dict) or not contacts:
        raise invalid_argument("contacts must not be empty.")
    if len(contacts) > MAX_BATCH_MUTATE:
        raise invalid_argument(f"Too many contacts: {len(contacts)}. The maximum is {MAX_BATCH_MUTATE}.")
    store = _store(call)
    # One stale etag or missing contact fails the whole batch before anything is written.
    copies = [_updated_copy(store, rn, person, update_fields) for rn, person in contacts.items()]
    updated = {p["resourceName"]: _store_put(call, store, p) for p in copies}
    return {
        "updateResult": {
            rn: {
                "httpStatusCode": 200,
                "requestedResourceName": rn,
                "person": render_person(p, fields, share=call.live),
                "status": {},
            }
            for rn, p in updated.items()
        }
    }


@handles("people.people.deleteContact")
def delete_contact_handler(call: Call) -> JSON:
    rn = call.path_params["resourceName"]
    _check_contact_name(rn)
    store = _store(call)
    find_contact(store, rn)
    delete_contact(store, rn)
    return {}


@handles("people.people.batchDeleteContacts")
def batch_delete(call: Call) -> JSON:
    names = _body(call).get("resourceNames") or []
    if not names:
        raise invalid_argument("resourceNames must not be empty.")
    if len(names) > MAX_BATCH_DELETE:
        raise invalid_argument(f"Too many resource names: {len(names)}. The maximum is {MAX_BATCH_DELETE}.")
    store = _store(call)
    for rn in names:
        _check_contact_name(rn)
        find_contact(store, rn)
    for rn in dict.fromkeys(names):
        delete_contact(store, rn)
    return {}


# --- photos ---------------------------------------------------------------------------------------------
def _photo_url(call: Call, person: JSON) -> str:
    host = call.headers.get("host", "127.0.0.1")
    contact_id = person["resourceName"].split("/", 1)[1]
    return (
        f"http://{host}/_emulator/photos/{call.user['id']}/{contact_id}?v={person['metadata']['sources'][0]['id']}"
        f"-{len(person['etag'])}-{abs(hash(person['etag'])) % 10**8}"
    )


@handles("people.people.updateContactPhoto")
def update_photo(call: Call) -> JSON:
    body = _body(call)
    rn = call.path_params["resourceName"]
    _check_contact_name(rn)
    store = _store(call)
    person = find_contact(store, rn)
    raw = body.get("photoBytes")
    if not raw or not isinstance(raw, str):
        raise invalid_argument("photoBytes is required.")
    try:
        data = base64.b64decode(
            raw.replace("-", "+").replace("_", "/") + "=" * (-len(raw) % 4), validate=True
        )
    except (binascii.Error, ValueError) as exc:
        raise invalid_argument(
            "Invalid value at 'photo_bytes' (TYPE_BYTES), Base64 decoding failed."
        ) from exc
    if not data:
        raise invalid_argument("photoBytes is required.")
    store["photos"][rn] = base64.b64encode(data).decode()
    touch_contact(call.ws, store, person)
    src = {"type": "CONTACT", "id": person["metadata"]["sources"][0]["id"]}
    person["photos"] = [{"metadata": {"primary": True, "source": src}, "url": _photo_url(call, person)}]
    fields = _mask(body.get("personFields"), "personFields", PERSON_FIELDS, required=False)
    return {"person": render_person(person, fields, share=call.live)} if fields else {}


@handles("people.people.deleteContactPhoto")
def delete_photo(call: Call) -> JSON:
    rn = call.path_params["resourceName"]
    _check_contact_name(rn)
    store = _store(call)
    person = find_contact(store, rn)
    if store["photos"].pop(rn, None) is not None or person.pop("photos", None) is not None:
        person.pop("photos", None)
        touch_contact(call.ws, store, person)
    fields = _mask(call.q("personFields"), "personFields", PERSON_FIELDS, required=False)
    return {"person": render_person(person, fields, share=call.live)} if fields else {}


# --- contact groups -----------------------------------------------------------------------------------
def _check_group_name(resource_name: str) -> None:
    if not resource_name.startswith("contactGroups/") or resource_name == "contactGroups/":
        raise invalid_argument(f"Resource name is not a valid contact group resource name: {resource_name}")


def _max_members(call: Call) -> int:
    value = _int(call.q("maxMembers"), "max_members", 0)
    if value < 0:
        raise invalid_argument("maxMembers must not be negative.")
    return value


@handles("people.contactGroups.list")
def list_groups(call: Call) -> JSON:
    fields = _group_fields(call.q("groupFields"))
    store = _store(call)
    params = _params_hash("groups", sorted(fields))

    def items_for(since: int | None, upto: int) -> list[str]:
        if since is None:
            return list(store["groups"])
        return _changed_since(store, since, upto, "contactGroups/")

    names, out, total = _paginate(
        call, "groups", params, items_for, default_size=30, sync_requested=True, expires=False
    )
    groups = []
    members = members_by_group(store) if names and "memberCount" in fields else None
    for rn in names:
        if rn in store["groups"]:
            groups.append(
                render_group(store, store["groups"][rn], fields, share=call.live, members_index=members)
            )
        elif rn in store["tombstones"]:
            tombstone = store["tombstones"][rn]
            groups.append(tombstone if call.live else json_copy(tombstone))
    answer: JSON = {"contactGroups": groups} if groups else {}
    answer.update(out)
    if total and not call.q("syncToken"):
        answer["totalItems"] = total
    return answer


@handles("people.contactGroups.get")
def get_group(call: Call) -> JSON:
    rn = call.path_params["resourceName"]
    _check_group_name(rn)
    store = _store(call)
    return render_group(
        store, find_group(store, rn), _group_fields(call.q("groupFields")), _max_members(call), share=call.live
    )


@handles("people.contactGroups.batchGet")
def batch_get_groups(call: Call) -> JSON:
    names = call.q_all("resourceNames")
    if not names:
        raise invalid_argument("At least one resource name must be specified.")
    if len(names) > MAX_BATCH_GET:
        raise invalid_argument(f"Too many resource names: {len(names)}. The maximum is {MAX_BATCH_GET}.")
    fields, max_members = _group_fields(call.q("groupFields")), _max_members(call)
    store = _store(call)
    members = members_by_group(store) if "memberCount" in fields or max_members else None
    responses = []
    for rn in names:
        group = store["groups"].get(rn)
        if group is None:
            responses.append(
                {
                    "requestedResourceName": rn,
                    "status": {"code": 5, "message": "Requested entity was not found."},
                }
            )
        else:
            responses.append(
                {
                    "requestedResourceName": rn,
                    "status": {},
                    "contactGroup": render_group(
                        store, group, fields, max_members, share=call.live, members_index=members
                    ),
                }
            )
    return {"responses": responses}


def _client_data(value: Any) -> list[JSON]:
    if not isinstance(value, list) or not all(isinstance(d, dict) and "key" in d for d in value):
        raise invalid_argument("clientData entries must each set a key.")
    return [{"key": d["key"], "value": d.get("value", "")} for d in value]


@handles("people.contactGroups.create")
def create_group_handler(call: Call) -> JSON:
    body = _body(call)
    group = body.get("contactGroup")
    if not isinstance(group, dict):
        raise invalid_argument("contactGroup is required.")
    client_data = _client_data(group["clientData"]) if group.get("clientData") else None
    created = create_group(call.ws, call.user["id"], group.get("name"), client_data)  # type: ignore[arg-type]
    store = _store(call)
    return render_group(
        store,
        store["groups"][created["resourceName"]],
        _group_fields(body.get("readGroupFields")),
        share=call.live,
    )


@handles("people.contactGroups.update")
def update_group(call: Call) -> JSON:
    rn = call.path_params["resourceName"]
    _check_group_name(rn)
    body = _body(call)
    incoming = body.get("contactGroup")
    if not isinstance(incoming, dict):
        raise invalid_argument("contactGroup is required.")
    store = _store(call)
    group = find_group(store, rn)
    if not is_user_group(group):
        raise invalid_argument("System contact groups cannot be updated.")
    if incoming.get("etag") != group["etag"]:
        raise failed_precondition(
            "Request contactGroup.etag is different than the current contactGroup.etag. "
            "Clear local cache and get the latest contactGroup."
        )
    update_fields = _mask(
        body.get("updateGroupFields"), "updateGroupFields", frozenset({"name", "clientData"}), required=False
    ) or frozenset({"name"})
    if "name" in update_fields:
        group["name"] = group["formattedName"] = check_group_name(store, incoming.get("name"), exclude=rn)
    if "clientData" in update_fields:
        if incoming.get("clientData"):
            group["clientData"] = _client_data(incoming["clientData"])
        else:
            group.pop("clientData", None)
    touch_group(call.ws, store, group)
    return render_group(store, group, _group_fields(body.get("readGroupFields")), share=call.live)


@handles("people.contactGroups.delete")
def delete_group(call: Call) -> JSON:
    rn = call.path_params["resourceName"]
    _check_group_name(rn)
    store = _store(call)
    group = find_group(store, rn)
    if not is_user_group(group):
        raise invalid_argument("System contact groups cannot be deleted.")
    delete_members = _bool(call.q("deleteContacts"))
    for person_rn in members_of(store, rn):
        if delete_members:
            delete_contact(store, person_rn)
            continue
        person = store["contacts"][person_rn]
        person["memberships"] = [
            m
            for m in person.get("memberships", [])
            if (m.get("contactGroupMembership") or {}).get("contactGroupResourceName") != rn
        ]
        touch_contact(call.ws, store, person)
    del store["groups"][rn]
    store["tombstones"][rn] = {
        "resourceName": rn,
        "etag": new_etag(""),
        "metadata": {"updateTime": rfc3339(call.ws), "deleted": True},
    }
    store["seq"] += 1
    store["log"].append([store["seq"], rn])
    return {}


@handles("people.contactGroups.members.modify")
def modify_members(call: Call) -> JSON:
    rn = call.path_params["resourceName"]
    _check_group_name(rn)
    body = _body(call)
    to_add = list(body.get("resourceNamesToAdd") or [])
    to_remove = list(body.get("resourceNamesToRemove") or [])
    if len(to_add) + len(to_remove) > MAX_MODIFY_MEMBERS:
        raise invalid_argument(f"Cannot modify more than {MAX_MODIFY_MEMBERS} members in one request.")
    store = _store(call)
    group = find_group(store, rn)
    if to_add and not is_user_group(group) and group_id_of(rn) not in ASSIGNABLE_SYSTEM_GROUPS:
        raise invalid_argument(f"Cannot add contacts to the system contact group {rn}.")
    not_found_names: list[str] = []
    last_group: list[str] = []
    changed = False
    for person_rn in to_add:
        person = store["contacts"].get(person_rn)
        if person is None:
            not_found_names.append(person_rn)
        elif rn not in membership_names(person):
            src = {"type": "CONTACT", "id": person["metadata"]["sources"][0]["id"]}
            person.setdefault("memberships", []).append(membership(rn, src))
            touch_contact(call.ws, store, person)
            changed = True
    for person_rn in to_remove:
        person = store["contacts"].get(person_rn)
        if person is None:
            not_found_names.append(person_rn)
            continue
        current = membership_names(person)
        if rn not in current:
            continue
        if len(current) == 1:
            last_group.append(person_rn)
            continue
        person["memberships"] = [
            m
            for m in person["memberships"]
            if (m.get("contactGroupMembership") or {}).get("contactGroupResourceName") != rn
        ]
        touch_contact(call.ws, store, person)
        changed = True
    if changed:
        touch_group(call.ws, store, group)
    answer: JSON = {}
    if not_found_names:
        answer["notFoundResourceNames"] = not_found_names
    if last_group:
        answer["canNotRemoveLastContactGroupResourceNames"] = last_group
    return answer
