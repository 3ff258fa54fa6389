"""People API v1 for one impersonated user: reads with sync tokens, batched writes, contact groups.

One `PeopleClient` per user and per thread: the People API asks that mutations for one user are sent
sequentially, and the discovery-built client is not thread-safe.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import msgspec
import orjson
from orjson import Fragment

from sync_core.domain.fields import MEMBERSHIPS, METADATA, READ_FIELDS, SYNCED_FIELDS, TAG_FIELD
from sync_core.google.calls import Executor
from sync_core.google.errors import BadRequest
from sync_core.google.json_model import DecodingJsonModel, MadeJson, MadeJsonList, StreamedJson

JSON = dict[str, Any]
log = logging.getLogger(__name__)

BATCH_CREATE_MAX = 200
BATCH_UPDATE_MAX = 200
BATCH_DELETE_MAX = 500
BATCH_GET_MAX = 200
MEMBERS_MODIFY_MAX = 1000
PAGE_SIZE = 1000

PERSON_FIELDS = ",".join(READ_FIELDS)
# What a target's reads ask for: enough to tell ours from theirs and whether it moved since we wrote it.
# Bodies come from getBatchGet, only for the contacts that did (see TargetSync._items). A sync token is
# bound to the fields of the read that made it, so every read of a target asks for exactly these.
TARGET_READ_FIELDS = ",".join((TAG_FIELD, MEMBERSHIPS, METADATA))
# ...and of the answer, only the parts a target's read uses (Google's standard `fields` parameter, a filter
# on the answer, not one of the request's parameters a sync token is bound to): each contact's memberships
# and metadata otherwise carry their sources (ids, etags, update times). The run after a first sync reads
# back every contact it wrote; trimmed, a page is half the bytes and parses in half the time. (It costs the
# steady state, whose answer is empty, some 20 us a request: httplib2 escapes a URL a character at a time.)
TARGET_READ_ANSWER = (
    f"connections(resourceName,etag,{TAG_FIELD}(key,value),{MEMBERSHIPS}/contactGroupMembership/"
    f"contactGroupResourceName,{METADATA}/deleted,emailAddresses/value),"
    "nextPageToken,nextSyncToken,totalPeople,totalItems"
)
# ...and of a read that should bring back only our own last writes (the run after a first sync lists every
# contact it wrote), what tells an echo from anything else: the name, the etag, our tag and a deletion. A
# contact whose etag is the one we wrote holds the groups we wrote; any other sends the sync back to read the
# same changes with TARGET_READ_ANSWER. Without the groups, a page is half the bytes again and parses in a
# third of the time. The same sync token serves both: `fields` filters the answer, the token is bound to
# `personFields`.
ECHO_READ_ANSWER = (
    f"connections(resourceName,etag,{TAG_FIELD}(key,value),{METADATA}/deleted),"
    "nextPageToken,nextSyncToken,totalPeople,totalItems"
)
# ...and of a read that should bring back exactly our own last writes (the run after a first sync, which lists
# every contact it wrote), only the pairs they are summed by (see sync.plan.EchoDigest) and a deletion: if the
# pairs listed sum to what the last run wrote, they are its writes, unchanged since, and nothing else moved. Our
# tag is not needed to tell so, and a page is half the bytes again. Any other sum sends the sync back to the
# ECHO_READ_ANSWER read of the same changes.
ECHO_PAIRS_ANSWER = (
    f"connections(resourceName,etag,{METADATA}/deleted),nextPageToken,nextSyncToken,totalPeople,totalItems"
)


class _Metadata(msgspec.Struct, gc=False):
    deleted: bool = False


class ListedPair(msgspec.Struct, gc=False, rename="camel"):
    """What a pairs-only read keeps of each contact listed (ECHO_PAIRS_ANSWER): its resourceName, its etag and
    whether it was deleted. Decoded from the answer's bytes straight into these, not into dicts first: the run
    after a first sync reads back every contact it wrote, and making and freeing a dict a contact was a fifth
    of that run's CPU."""

    resource_name: str = ""
    etag: str = ""
    metadata: _Metadata | None = None

    @property
    def deleted(self) -> bool:
        return self.metadata is not None and self.metadata.deleted


class _PairsPage(msgspec.Struct, gc=False, rename="camel"):
    connections: list[ListedPair] = []
    next_page_token: str | None = None
    next_sync_token: str | None = None
    total_people: int | None = None
    total_items: int | None = None


_PAIRS_PAGE = msgspec.json.Decoder(_PairsPage)


def listed_pairs(people: Iterable[Any]) -> list[ListedPair]:
    """The pairs of contacts given as dicts: a page whose types the struct refused, or a read made already."""
    pairs = []
    for person in people:
        if not isinstance(person, dict):
            continue
        metadata = person.get(METADATA)
        deleted = isinstance(metadata, dict) and bool(metadata.get("deleted"))
        pairs.append(ListedPair(str(person.get("resourceName") or ""), str(person.get("etag") or ""),
                                _Metadata(deleted) if deleted else None))
    return pairs


def decode_pairs_page(content: bytes) -> Any:
    """A page of a pairs-only read: as the usual answer's dict, its connections `ListedPair`s."""
    try:
        page = _PAIRS_PAGE.decode(content)
    except msgspec.ValidationError:  # JSON, not of the types asked for: each contact taken as it comes
        loose = orjson.loads(content)
        if isinstance(loose, dict):
            loose["connections"] = listed_pairs(loose.get("connections") or [])
        return loose
    except msgspec.DecodeError:
        return content.decode("utf-8", "replace")  # not JSON: as FastJsonModel answers it
    answer: JSON = {"connections": page.connections}
    for key, value in (("nextPageToken", page.next_page_token), ("nextSyncToken", page.next_sync_token),
                       ("totalPeople", page.total_people), ("totalItems", page.total_items)):
        if value is not None:
            answer[key] = value
    return answer


_PAIRS_MODEL = DecodingJsonModel(decode_pairs_page)
# Only the contact's own data: a contact linked to a Google profile would otherwise come back merged with
# the profile's names, emails and photo, which are not ours to compare or copy.
CONTACT_SOURCES = ["READ_SOURCE_TYPE_CONTACT"]
GROUP_FIELDS = "clientData,groupType,memberCount,metadata,name"
# What a batch create's answer carries back (Google's `fields` partial response): what a link is made of, the
# created contact's name and etag, and our tag's value (which source contact it mirrors). Without it each
# created contact came back with its request echo, a status and the tag's metadata: twice the bytes. The tag's
# key is left out too: a contact we create carries our tag alone, and its value must name a contact of the
# batch (BatchWriter._created). That is a quarter of the answer, and thousands of targets' answers can sit
# in the run's buffers at once, waiting for the loop (bench/RESULTS.md, S9's peak memory).
CREATED_FIELDS = f"createdPeople(person(resourceName,etag,{TAG_FIELD}(value)))"


# A batch create's body, {"contacts": [{"contactPerson": ...}, ...], "readMask": ...}, is these around its
# people's JSON. The tag says which source contact each created one is; its etag comes anyway.
_CREATE_HEAD = b'{"contacts":['
_PERSON_OPEN, _PERSON_CLOSE = b'{"contactPerson":', b"}"
_CREATE_TAIL = b'],"readMask":' + orjson.dumps(TAG_FIELD) + b"}"


def _create_pieces(people: Sequence[JSON | Fragment | MadeJson]) -> Iterator[bytes]:
    yield _CREATE_HEAD
    for i, person in enumerate(people):
        yield b"," + _PERSON_OPEN if i else _PERSON_OPEN
        yield orjson.dumps(person) if isinstance(person, Fragment | dict) else person.wire
        yield _PERSON_CLOSE
    yield _CREATE_TAIL


_BETWEEN = _PERSON_CLOSE + b"," + _PERSON_OPEN


def _made_pieces(people: MadeJsonList) -> Iterator[bytes]:
    """The same body, its people's JSON made in one go (`MadeJsonList.wires`)."""
    yield _CREATE_HEAD
    wires = people.wires()
    if wires:
        yield b"".join((_PERSON_OPEN, _BETWEEN.join(wires), _PERSON_CLOSE))
    yield _CREATE_TAIL


def batch_create_body(people: Sequence[JSON | Fragment | MadeJson] | MadeJsonList) -> StreamedJson:
    """people.batchCreateContacts's body for `people` (at most BATCH_CREATE_MAX), made as it is sent."""
    if isinstance(people, MadeJsonList):
        count = len(people)  # type: ignore[arg-type]  # a Sequence too (sync.plan.Creates)
        framing = len(_CREATE_HEAD) + len(_CREATE_TAIL)
        if count:
            framing += len(_PERSON_OPEN) + len(_PERSON_CLOSE) + (count - 1) * len(_BETWEEN)
        return StreamedJson(partial(_made_pieces, people), size=framing + people.wires_size())
    return StreamedJson(partial(_create_pieces, people))


def chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class Body(dict[str, Any]):
    """A request body whose str() is short. googleapiclient turns every argument into a string on its way
    to the query (the body too, then drops it): for 200 contacts that was as slow as the JSON encoding
    itself. It also keeps a body out of any message that formats the arguments."""

    def __str__(self) -> str:
        return "<request body>"

    __repr__ = __str__


@dataclass
class ConnectionsRead:
    people: list[Any] = field(default_factory=list)  # as `keep` made them; deleted ones carry metadata.deleted
    next_sync_token: str | None = None
    incremental: bool = False
    total: int | None = None  # the account's contact count, on a full read
    listed: int = 0  # contacts the pages listed (kept or not): on a full read, the account's size too


@dataclass(frozen=True)
class PeopleApi:
    """The People API's resources, made once from a discovery-built client (each `service.people()` makes a
    new resource object, and that costs milliseconds)."""

    people: Any
    connections: Any
    groups: Any

    @classmethod
    def of(cls, service: Any) -> PeopleApi:
        people = service.people()
        return cls(people, people.connections(), service.contactGroups())


class PeopleClient:
    """`api`: a discovery-built People client (or its `PeopleApi`); the executor sends each request with the
    impersonated user's transport when the client is shared by every user."""

    # Google binds a sync token to the method's parameters, not to `fields` (a system parameter that filters
    # the answer), so an echo check may ask for less than the read that made the token. A server that refuses
    # it (400 on the first page) is asked for the usual answer, then and from then on, by this whole process.
    echo_answer_refused = False

    def __init__(self, api: Any, executor: Executor) -> None:
        api = api if isinstance(api, PeopleApi) else PeopleApi.of(api)
        self._people = api.people
        self._connections = api.connections
        self._groups = api.groups
        self._ex = executor

    # --- reads ---------------------------------------------------------------------------------
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
        """All contacts (or, with a sync token, the changes since it). Raises SyncTokenExpired.

        `keep`: what to hold of each contact, page by page (None: drop it); without it, every contact as
        Google answered. `keep_page`, instead: each page's contacts at once, for a caller that only tallies
        them (nothing is held in the answer's `people`). A target's account may hold 25,000 contacts: only
        the few fields of the ones that matter should outlive their page. A target's read
        (TARGET_READ_FIELDS, perhaps with the addresses) asks for only TARGET_READ_ANSWER of each page: the
        same for every read of a target's sync token (the sync's, an editor's watch, the merge's), since the
        fields decide it. `echoes_only`: an incremental read that only asks whether the changes are our own
        last writes takes ECHO_READ_ANSWER instead; `keep_pairs`, one that asks whether they are exactly our
        last writes, ECHO_PAIRS_ANSWER, each page's contacts given to it as `ListedPair`s (instead of `keep`).
        """
        answer_fields = None
        echo = False
        pairs_only = keep_pairs is not None
        if person_fields.startswith(TARGET_READ_FIELDS):
            echo = (echoes_only or pairs_only) and sync_token is not None and not PeopleClient.echo_answer_refused
            answer_fields = (ECHO_PAIRS_ANSWER if pairs_only else ECHO_READ_ANSWER) if echo else TARGET_READ_ANSWER
        result = ConnectionsRead(incremental=sync_token is not None)
        page_token: str | None = None
        while True:
            params: JSON = {
                "resourceName": "people/me",
                "personFields": person_fields,
                "pageSize": PAGE_SIZE,
                "requestSyncToken": True,
                "sources": CONTACT_SOURCES,
            }
            if sync_token:
                params["syncToken"] = sync_token
            if page_token:
                params["pageToken"] = page_token
            if answer_fields:
                params["fields"] = answer_fields
            request = self._connections.list(**params)
            if pairs_only:
                request.postproc = _PAIRS_MODEL.response  # whatever the fields asked: the pairs are in any answer
            try:
                page = self._ex.execute(request, "people.connections.list")
            except BadRequest:
                if not (echo and page_token is None):
                    raise
                # Refused on the first page, before anything was kept: the usual answer, now and from now on.
                PeopleClient.echo_answer_refused, echo, answer_fields = True, False, TARGET_READ_ANSWER
                log.warning("people.connections.list refused an echo check's answer fields with a sync token: "
                            "reading the usual answer from now on")
                continue
            people = page.pop("connections", [])
            result.listed += len(people)
            if keep_pairs is not None:
                keep_pairs(people)
            elif keep_page is not None:
                keep_page(people)
            elif keep is None:
                result.people.extend(people)
            else:
                result.people.extend(kept for person in people if (kept := keep(person)) is not None)
            if result.total is None and not sync_token:
                result.total = page.get("totalPeople", page.get("totalItems"))
            page_token = page.get("nextPageToken")
            if not page_token:
                result.next_sync_token = page.get("nextSyncToken")
                return result

    def account_size(self) -> int:
        page = self._ex.execute(
            self._connections.list(resourceName="people/me", personFields=METADATA, pageSize=1),
            "people.connections.list",
        )
        return int(page.get("totalPeople", page.get("totalItems", 0)) or 0)

    def get_people(self, resource_names: Sequence[str], *, person_fields: str = PERSON_FIELDS) -> list[JSON]:
        found: list[JSON] = []
        for part in chunks(list(resource_names), BATCH_GET_MAX):
            answer = self._ex.execute(
                self._people.getBatchGet(resourceNames=list(part), personFields=person_fields, sources=CONTACT_SOURCES),
                "people.getBatchGet",
            )
            found.extend(r["person"] for r in answer.get("responses", []) if r.get("person"))
        return found

    # --- contact groups --------------------------------------------------------------------------
    def list_groups(self) -> list[JSON]:
        groups: list[JSON] = []
        page_token: str | None = None
        while True:
            params: JSON = {"pageSize": 1000, "groupFields": GROUP_FIELDS}
            if page_token:
                params["pageToken"] = page_token
            page = self._ex.execute(self._groups.list(**params), "contactGroups.list")
            groups.extend(page.get("contactGroups", []))
            page_token = page.get("nextPageToken")
            if not page_token:
                return groups

    def get_group(self, resource_name: str, *, max_members: int = 0) -> JSON:
        return dict(
            self._ex.execute(
                self._groups.get(
                    resourceName=resource_name, maxMembers=max_members, groupFields=GROUP_FIELDS
                ),
                "contactGroups.get",
            )
        )

    def create_group(self, name: str, client_data: list[JSON]) -> JSON:
        body = {"contactGroup": {"name": name, "clientData": client_data}, "readGroupFields": GROUP_FIELDS}
        return dict(self._ex.execute(self._groups.create(body=body), "contactGroups.create"))

    def rename_group(self, group: JSON, name: str) -> JSON:
        body = {
            "contactGroup": {
                "etag": group.get("etag"),
                "name": name,
                "clientData": group.get("clientData", []),
            },
            "updateGroupFields": "name,clientData",
            "readGroupFields": GROUP_FIELDS,
        }
        return dict(
            self._ex.execute(
                self._groups.update(resourceName=group["resourceName"], body=body), "contactGroups.update"
            )
        )

    def set_group_client_data(self, group: JSON, client_data: list[JSON]) -> JSON:
        """Replace only the label's clientData (its name stays as the user has it)."""
        body = {
            "contactGroup": {"etag": group.get("etag"), "clientData": client_data},
            "updateGroupFields": "clientData",
            "readGroupFields": GROUP_FIELDS,
        }
        return dict(
            self._ex.execute(
                self._groups.update(resourceName=group["resourceName"], body=body), "contactGroups.update"
            )
        )

    def delete_group(self, resource_name: str) -> None:
        self._ex.execute(
            self._groups.delete(resourceName=resource_name, deleteContacts=False), "contactGroups.delete"
        )

    # --- writes ----------------------------------------------------------------------------------
    def quota_wait(self, method: str, *, contacts: int = 0, at_least: float = 0.0) -> float:
        """Seconds until the user's quota has room for a call of `method` (0: now, or within `at_least`),
        counted as waited: the caller parks that long rather than block in the call (sync_core.run.parking)."""
        return self._ex.park_for(method, contacts=contacts, at_least=at_least)

    def batch_create(self, people: Sequence[JSON | Fragment | MadeJson]) -> list[JSON]:
        """Creates in order; returns the created people in the same order. A person may come as its JSON
        already made (a `Fragment`), or as what makes it when the request is sent (its `wire`: see
        sync.plan.Create), so that a call waiting for Google's answer holds no contact's bytes."""
        created: list[JSON] = []
        for part in chunks(people, BATCH_CREATE_MAX):
            answer = self._ex.execute(
                self._people.batchCreateContacts(body=batch_create_body(part), fields=CREATED_FIELDS),
                "people.batchCreateContacts",
                contacts=len(part),
            )
            created.extend(r.get("person", {}) for r in answer.get("createdPeople", []))
        return created

    def batch_update(
        self, people: dict[str, JSON], *, with_memberships: bool, fields: Sequence[str] | None = None
    ) -> dict[str, JSON]:
        """resourceName -> Person (with etag). The mask clears synced fields the body leaves out. `fields`: the
        mask (less memberships) when a job's field rules write fewer (None: every synced field and our tag)."""
        mask = [*SYNCED_FIELDS, TAG_FIELD] if fields is None else list(fields)
        if with_memberships:
            mask.append(MEMBERSHIPS)
        updated: dict[str, JSON] = {}
        names = list(people)
        allowed = {*mask, "etag"}
        for part in chunks(names, BATCH_UPDATE_MAX):
            body = {
                # send only what the mask names (and the etag): nothing outside it is meant to change
                "contacts": {rn: {k: v for k, v in people[rn].items() if k in allowed} for rn in part},
                "updateMask": ",".join(mask),
                "readMask": TAG_FIELD,
            }
            answer = self._ex.execute(
                self._people.batchUpdateContacts(body=Body(body)), "people.batchUpdateContacts", contacts=len(part)
            )
            for rn, res in answer.get("updateResult", {}).items():
                if res.get("person"):
                    updated[rn] = res["person"]
        return updated

    def batch_set_client_data(self, people: dict[str, JSON]) -> None:
        """Replace only the clientData of each contact (resourceName -> {"etag", "clientData"}); everything else
        on it, the user's own edits too, stays as it is. Paced and batched as any update."""
        names = list(people)
        for part in chunks(names, BATCH_UPDATE_MAX):
            body = {
                "contacts": {rn: {"etag": people[rn]["etag"], TAG_FIELD: people[rn][TAG_FIELD]} for rn in part},
                "updateMask": TAG_FIELD,
                "readMask": TAG_FIELD,
            }
            self._ex.execute(
                self._people.batchUpdateContacts(body=Body(body)), "people.batchUpdateContacts", contacts=len(part)
            )

    def batch_release(self, people: dict[str, JSON]) -> None:
        """Replace only the clientData and memberships of each contact (resourceName -> {"etag", "clientData",
        "memberships"}): an adopted contact let go, its fields as they are."""
        mask = f"{TAG_FIELD},{MEMBERSHIPS}"
        for part in chunks(list(people), BATCH_UPDATE_MAX):
            body = {
                "contacts": {
                    rn: {k: people[rn][k] for k in ("etag", TAG_FIELD, MEMBERSHIPS)} for rn in part
                },
                "updateMask": mask,
                "readMask": TAG_FIELD,
            }
            self._ex.execute(
                self._people.batchUpdateContacts(body=Body(body)), "people.batchUpdateContacts", contacts=len(part)
            )

    def update_photo(self, resource_name: str, data: bytes) -> JSON:
        """Set a contact's photo; returns the person (with its new etag)."""
        body = {"photoBytes": base64.b64encode(data).decode("ascii"), "personFields": METADATA}
        answer = self._ex.execute(
            self._people.updateContactPhoto(resourceName=resource_name, body=body), "people.updateContactPhoto"
        )
        return dict(answer.get("person", {}))

    def delete_photo(self, resource_name: str) -> JSON:
        answer = self._ex.execute(
            self._people.deleteContactPhoto(resourceName=resource_name, personFields=METADATA),
            "people.deleteContactPhoto",
        )
        return dict(answer.get("person", {}))

    def batch_delete(self, resource_names: Sequence[str]) -> None:
        for part in chunks(list(resource_names), BATCH_DELETE_MAX):
            self._ex.execute(
                self._people.batchDeleteContacts(body={"resourceNames": list(part)}),
                "people.batchDeleteContacts",
            )
