"""The emulator's read fast paths answer exactly what the plain ones did: answers rendered from the stored
values (no copies) and encoded under the workspace lock are the bytes the copying path encodes; the change
log read by bisection, the group members counted in one pass and the `fields` filter give what the plain
scans and filter gave."""

from __future__ import annotations

import copy
import json
import random
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import parse_qs, urlencode

import pytest
from google.auth.transport.requests import Request as AuthRequest

from emulator.core import HANDLERS, ApiError, Call, Workspace
from emulator.partial import Selector, apply_fields, parse_fields
from emulator.people import _changed_since, _encode, _params_hash, create_contact, create_group
from emulator.people_store import (
    delete_contact,
    members_by_group,
    members_of,
    render_person,
    touch_contact,
    user_store,
)
from emulator.seed import partner_contact
from emulator.server import Response
from emulator.testing import EmulatorHandle, running_emulator
from tests.emulator.conftest import CONTACTS, credentials_for, small_workspace

ALICE = "alice@example.com"
ALICE_ID = "100000000000000000002"
SYNC_FILTER = (
    "connections(resourceName,etag,clientData(key,value),memberships/contactGroupMembership/"
    "contactGroupResourceName,metadata/deleted,emailAddresses/value),nextPageToken,nextSyncToken,"
    "totalPeople,totalItems"
)


# --- the plain implementations, as they were ------------------------------------------------------------
def plain_changed_since(store: dict[str, Any], since: int, upto: int, prefix: str) -> list[str]:
    last: dict[str, int] = {}
    for seq, rn in store["log"]:
        if since < seq <= upto and rn.startswith(prefix):
            last.pop(rn, None)
            last[rn] = seq
    return list(last)


def plain_apply_fields(value: Any, selector: Selector | None) -> Any:
    if selector is None:
        return value
    if isinstance(value, list):
        return [plain_apply_fields(v, selector) for v in value]
    if isinstance(value, dict):
        return {k: plain_apply_fields(value[k], sub) for k, sub in selector.items() if k in value}
    return value


def test_changed_since_finds_what_the_full_scan_found() -> None:
    rng = random.Random(5)
    names = [f"people/c{i}" for i in range(12)] + [f"contactGroups/g{i}" for i in range(4)]
    log = [[seq, rng.choice(names)] for seq in range(1, 301)]
    store = {"log": log, "seq": 300}
    for since, upto in [(0, 300), (0, 0), (10, 20), (299, 300), (150, 150), (300, 300), (5, 400), (-3, 7)]:
        for prefix in ("people/", "contactGroups/"):
            assert _changed_since(store, since, upto, prefix) == plain_changed_since(store, since, upto, prefix)
    empty = {"log": [], "seq": 0}
    assert _changed_since(empty, 0, 0, "people/") == []


def test_the_pages_of_a_sync_read_take_its_changes_once_and_never_stale_ones() -> None:
    """The pages of one sync read list the same (since, upto] range: computed once, kept for the next page.
    What is logged after `upto` is another read's, and another store's log is never answered from this one's."""
    rng = random.Random(7)
    names = [f"people/c{i}" for i in range(40)]
    log = [[seq, rng.choice(names)] for seq in range(1, 201)]
    store = {"log": log, "seq": 200}
    first = _changed_since(store, 50, 200, "people/")
    assert _changed_since(store, 50, 200, "people/") is first  # the next page: not computed again
    log.extend([seq, rng.choice(names)] for seq in range(201, 260))
    store["seq"] = 259
    assert _changed_since(store, 50, 200, "people/") == plain_changed_since(store, 50, 200, "people/")
    assert _changed_since(store, 50, 259, "people/") == plain_changed_since(store, 50, 259, "people/")
    other = {"log": [[seq, rng.choice(names)] for seq in range(1, 201)], "seq": 200}
    assert _changed_since(other, 50, 200, "people/") == plain_changed_since(other, 50, 200, "people/")


@pytest.mark.parametrize(
    "spec",
    [SYNC_FILTER, "connections", "connections/names/givenName,totalItems", "a(b(c)),a/d,x", "nothing"],
)
def test_the_fields_filter_keeps_what_it_kept(spec: str) -> None:
    rng = random.Random(9)
    people = [partner_contact(rng, i) for i in range(60)]
    for p in people[::3]:
        p["clientData"] = [{"key": "k", "value": "v", "extra": 1}]
        p["metadata"] = {"deleted": True, "sources": [{"type": "CONTACT"}]}
    payload = {"connections": people, "nextSyncToken": "t", "totalItems": 60, "a": [{"b": {"c": 1, "e": 2}}, 3]}
    selector = parse_fields(spec)
    kept = apply_fields(payload, selector)
    assert json.dumps(kept) == json.dumps(plain_apply_fields(payload, selector))


def test_members_counted_in_one_pass_are_members_of_each_group() -> None:
    ws = Workspace()
    store = user_store(ws, "u1")
    store["contacts"] = {
        "people/c1": {"memberships": [{"contactGroupMembership": {"contactGroupResourceName": "contactGroups/a"}}]},
        "people/c2": {},
        "people/c3": {
            "memberships": [
                {"contactGroupMembership": {"contactGroupId": "b"}},
                {"contactGroupMembership": {"contactGroupResourceName": "contactGroups/a"}},
                {"contactGroupMembership": {"contactGroupResourceName": "contactGroups/a"}},
                {"domainMembership": {"inViewerDomain": True}},
            ]
        },
    }
    index = members_by_group(store)
    for group in ("contactGroups/a", "contactGroups/b", "contactGroups/myContacts"):
        assert index.get(group, []) == members_of(store, group)


def plain_render_person(person: dict[str, Any], fields: frozenset[str]) -> dict[str, Any]:
    out = {"resourceName": person["resourceName"], "etag": person["etag"]}
    for name in sorted(fields):
        if name in person and name not in ("resourceName", "etag"):
            out[name] = copy.deepcopy(person[name])
    return out


def test_a_shared_rendering_is_the_copied_one_without_the_copies() -> None:
    person = {
        "resourceName": "people/c1", "etag": "%e", "names": [{"givenName": "A"}], "metadata": {"x": [1]},
        "urls": [], "clientData": [{"key": "k"}],
    }
    for fields in (frozenset({"names", "metadata", "etag", "urls", "clientData"}), frozenset({"resourceName"})):
        shared, copied = render_person(person, fields, share=True), render_person(person, set(fields))
        assert json.dumps(shared) == json.dumps(copied) == json.dumps(plain_render_person(person, fields))
    shared, copied = render_person(person, frozenset({"names"}), share=True), render_person(person, {"names"})
    assert shared["names"] is person["names"] and copied["names"] is not person["names"]


# --- whole answers: the server's (live) against the plain handler's, byte for byte -------------------------
def _tenant() -> Workspace:


    ws = small_workspace()
    rng = random.Random(11)
    label = create_group(ws, ALICE_ID, "Partners", [{"key": "job", "value": "1"}])["resourceName"]
    create_group(ws, ALICE_ID, "Empty")
    created = []
    for i in range(45):
        person = partner_contact(rng, i)
        person["memberships"] = [{"contactGroupMembership": {"contactGroupResourceName": label}}]
        if i % 4 == 0:
            person["clientData"] = [{"key": "src", "value": f"s{i}"}, {"key": "é", "value": "ü\u2028"}]
        created.append(create_contact(ws, ALICE_ID, person)["resourceName"])
    return ws


def _plain_answer(handle: EmulatorHandle, path: str, query: dict[str, list[str]]) -> tuple[int, bytes]:
    """What the server answered before its fast paths: the handler's copied answer, filtered, encoded."""
    server = handle.server
    route, path_params = server.routes.match("GET", path)
    try:
        with handle.ws.lock:
            user = handle.ws.directory["users"][ALICE_ID]
            call = Call(route.method_id, path_params, query, None, user, handle.ws, live=False)
            result = HANDLERS[route.method_id](call)
        status, payload = result if isinstance(result, tuple) else (200, result)
        if query.get("fields") and query["fields"][0] and status == 200:
            try:
                payload = plain_apply_fields(payload, parse_fields(query["fields"][0]))
            except ValueError as exc:
                raise ApiError(400, str(exc), "INVALID_ARGUMENT") from exc
    except ApiError as err:
        return err.code, Response.error(err).body
    return status, Response.json(status, payload).body  # the server's own encoder: the payloads are compared


def _served(handle: EmulatorHandle, token: str, path: str, params: list[tuple[str, str]]) -> tuple[int, bytes]:
    request = urllib.request.Request(
        f"{handle.url}{path}?{urlencode(params)}", headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(request) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def test_read_answers_are_the_plain_answers_byte_for_byte(tmp_path: Any) -> None:
    with running_emulator(_tenant(), tmp_path) as handle:
        frozen = handle.ws.now()
        handle.ws.now = lambda: frozen  # type: ignore[method-assign]  # page tokens carry the time
        creds = credentials_for(handle, ALICE, [CONTACTS])
        creds.refresh(AuthRequest())
        token = creds.token

        def same(path: str | list[tuple[str, str]], params: list[tuple[str, str]]) -> dict[str, Any]:
            if not isinstance(path, str):  # a connections read and more parameters
                path, params = connections, [*path, *params]
            status, served = _served(handle, token, path, params)
            assert (status, served) == _plain_answer(handle, path, parse_qs(urlencode(params))), params
            return dict(json.loads(served))

        connections = "/v1/people/me/connections"
        base = [("personFields", "clientData,memberships,metadata"), ("sources", "READ_SOURCE_TYPE_CONTACT")]
        # a sync token from before some changes: the next read lists them (a deletion as a tombstone)
        first = same(connections, [*base, ("pageSize", "1000"), ("requestSyncToken", "true")])
        store = handle.ws.people_of(ALICE_ID)
        names = [p["resourceName"] for p in first["connections"]]
        with handle.ws.lock:
            store["contacts"][names[3]]["clientData"] = [{"key": "changed", "value": "1"}]
            touch_contact(handle.ws, store, store["contacts"][names[3]])
            delete_contact(store, names[7])
        sync = first["nextSyncToken"]
        # a token from the start of the log (before anything was created), as a first sync's is
        fields, sources = sorted(base[0][1].split(",")), [base[1][1]]
        params = _params_hash("connections", fields, "LAST_MODIFIED_ASCENDING", sources)
        early = _encode({"u": ALICE_ID, "k": "people", "h": params, "s": 0, "t": frozen})
        filters = [
            SYNC_FILTER, "connections", "connections()", "nextSyncToken,nextPageToken,totalItems", "connections/etag",
            "totalPeople,connections(etag,names,clientData/value,metadata(deleted,sources/etag))",
        ]
        for extra in ([], *([("fields", spec)] for spec in filters)):
            sync_read = [*base, ("requestSyncToken", "true"), *extra]
            same(connections, [*sync_read, ("pageSize", "1000"), ("syncToken", sync)])
            paged = [*sync_read, ("pageSize", "20"), ("syncToken", early)]
            full = [*sync_read, ("pageSize", "20")]  # a full read's pages
            for read in (paged, full):
                page = same(read, [])
                while "nextPageToken" in page:
                    page = same(read, [("pageToken", page["nextPageToken"])])
        same(connections, [("personFields", "names,phoneNumbers,metadata"), ("sortOrder", "FIRST_NAME_ASCENDING")])
        same(connections, [("personFields", "names"), ("fields", "connections(")])  # a bad filter
        same(connections, [("personFields", "nope")])  # an error answers as it did
        batch = [("resourceNames", rn) for rn in [*names[:5], names[7], "bad", "people/me"]]
        same("/v1/people:batchGet", [*batch, ("personFields", "names,clientData,memberships")])
        only_given = ("fields", "responses(person/names/givenName)")
        same("/v1/people:batchGet", [*batch, ("personFields", "names"), only_given])
        same(f"/v1/{names[0]}", [("personFields", "names,urls,metadata")])
        groups = same("/v1/contactGroups", [("groupFields", "name,memberCount,clientData,metadata")])
        same("/v1/contactGroups", [("pageSize", "3")])
        label = next(g["resourceName"] for g in groups["contactGroups"] if g.get("name") == "Partners")
        same(f"/v1/{label}", [("maxMembers", "10"), ("groupFields", "name,memberCount,clientData")])
        wanted = [("resourceNames", rn) for rn in (label, "contactGroups/myContacts", "contactGroups/nope")]
        same("/v1/contactGroups:batchGet", [*wanted, ("maxMembers", "3")])
