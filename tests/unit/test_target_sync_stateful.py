"""A stateful Hypothesis test of the real `TargetSync` (plan, apply, relinks, photos, incremental reads) against
an in-memory People account: two jobs share two target accounts, sources and targets change at random, and
syncs crash between batches, either as Google failing a call (the target reports an error and keeps what it
wrote) or as the process dying (before a write, or after Google made it but before the answer came back).
After each, the next run starts from what the engine would have kept: the links each batch handed to
`on_links`, the target state `RunRecords` stores (only after a run that returned), or nothing at all when the
database lost them.

Whatever happens: a sync never touches a contact it does not own (the target's own, or the other job's),
and a sync that runs without a crash leaves the account holding exactly its source, once each, in its
label, with its photos.
"""

from __future__ import annotations

import copy
import inspect
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

import sync_core.run.batch_writer as batch_writer
from sync_core.domain.contacts import MY_CONTACTS, SYNCED_FIELDS, canonical_body, content_hash, memberships_of, read_tag
from sync_core.domain.status import TargetStatus
from sync_core.google.errors import GoogleError, NotFound, PreconditionFailed, SyncTokenExpired
from sync_core.google.people import ConnectionsRead, ListedPair, PeopleClient, batch_create_body, listed_pairs
from sync_core.google.people_account import PeopleAccount
from sync_core.run.target_sync import LinkWrite, TargetJob, TargetMemory, TargetOutcome, TargetSync
from sync_core.sync.plan import LinkState, SourceItem

JSON = dict[str, Any]
JOBS = {"A": "Partners", "B": "Suppliers"}  # job uid -> its label's name
ACCOUNTS = ("bob", "zoe")
ECHO_KEYS = ("resourceName", "etag", "clientData", "metadata")  # what an echoes_only read answers of a contact
PAIR_KEYS = ("resourceName", "etag", "metadata")  # ...and a keep_pairs read
NAMES = st.sampled_from(["Ann", "Bob", "Zoë", "李雷", "Eve"])


class Crash(Exception):
    """The process died (a kill, an OOM): nothing after it runs, nothing more is stored."""


class ServerFailed(GoogleError):
    """Google failed a call: the target stops, reporting what it wrote (`BatchWriter.apply`)."""


# --- an in-memory People account ----------------------------------------------------------------------------
@dataclass
class Fault:
    """The `after`-th contact write from now fails, as `how`: "google" (Google refuses it), "before" (the
    process dies before sending it), "lost" (Google makes it, the process dies before the answer) or
    "retried" (Google makes it but answers 5xx, and the executor's retry makes it again: a create's first
    copies are tagged orphans)."""

    after: int
    how: str
    fired: bool = False


@dataclass
class Account:
    """One user's contacts as Google keeps them: etags that change on every write, memberships, clientData
    tags, and a change log behind sync tokens (a token lists what changed, or was deleted, since it)."""

    people: dict[str, JSON] = field(default_factory=dict)
    groups: dict[str, JSON] = field(default_factory=dict)
    changed: dict[str, int] = field(default_factory=dict)  # resourceName -> seq of its last change
    deleted: dict[str, int] = field(default_factory=dict)
    seq: int = 0
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def tick(self) -> int:
        self.seq += 1
        return self.seq

    def touch(self, rn: str) -> None:
        self.people[rn]["etag"] = f"e{next(self.ids)}"
        self.changed[rn] = self.tick()

    def add(self, person: JSON) -> str:
        rn = f"people/c{next(self.ids)}"
        self.people[rn] = {**copy.deepcopy(person), "resourceName": rn}
        self.people[rn].pop("etag", None)
        self.touch(rn)
        return rn

    def remove(self, rn: str) -> None:
        del self.people[rn]
        self.changed.pop(rn, None)
        self.deleted[rn] = self.tick()

    def group(self, name: str, client_data: list[JSON]) -> str:
        rn = f"contactGroups/g{next(self.ids)}"
        self.groups[rn] = {"resourceName": rn, "name": name, "clientData": client_data, "etag": f"g{self.seq}",
                           "groupType": "USER_CONTACT_GROUP"}
        return rn

    def drop_group(self, rn: str) -> None:
        """The group goes; its members stay, out of it (Google's `deleteContacts=False`)."""
        del self.groups[rn]
        for person_rn, person in self.people.items():
            if rn in memberships_of(person):
                person["memberships"] = [m for m in person["memberships"]
                                         if m["contactGroupMembership"]["contactGroupResourceName"] != rn]
                self.touch(person_rn)

    def member_count(self, rn: str) -> int:
        return sum(1 for p in self.people.values() if rn in memberships_of(p))


class FakePeople(PeopleAccount):
    """A `PeopleAccount` (what `TargetSync` needs of the People API, as `PeopleClient` gives it) over an
    `Account`, with one `Fault` at most."""

    def __init__(self, account: Account, fault: Fault | None = None) -> None:
        self.a = account
        self.fault = fault

    def _write(self, make: Callable[[], Any], *, retry_repeats: bool = False) -> Any:
        fault = self.fault
        if fault is None or fault.fired:
            return make()
        fault.after -= 1
        if fault.after > 0:
            return make()
        fault.fired = True
        if fault.how == "retried":
            if retry_repeats:
                make()
            return make()
        if fault.how == "google":
            raise ServerFailed("backendError", status_code=503)
        if fault.how == "before":
            raise Crash()
        make()
        raise Crash()  # "lost": written at Google, the answer never came back

    # reads
    def read_connections(self, *, sync_token: str | None = None, keep: Callable[[JSON], Any] | None = None,
                         keep_page: Callable[[list[JSON]], None] | None = None, echoes_only: bool = False,
                         keep_pairs: Callable[[list[ListedPair]], None] | None = None,
                         **_: Any) -> ConnectionsRead:
        out = ConnectionsRead(incremental=sync_token is not None)
        if sync_token is None:
            listed = [copy.deepcopy(p) for p in self.a.people.values()]
            out.total = len(listed)
        else:
            since = int(sync_token.removeprefix("t"))
            if since > self.a.seq:
                raise SyncTokenExpired("EXPIRED_SYNC_TOKEN")
            listed = [copy.deepcopy(self.a.people[rn]) for rn, s in self.a.changed.items() if s > since]
            listed += [{"resourceName": rn, "metadata": {"deleted": True}} for rn, s in self.a.deleted.items()
                       if s > since]
        if echoes_only or keep_pairs:  # as Google answers ECHO_READ_ANSWER (no groups, nothing else), or
            answered = PAIR_KEYS if keep_pairs else ECHO_KEYS  # ECHO_PAIRS_ANSWER (no tag either)
            listed = [{k: v for k, v in p.items() if k in answered} for p in listed]
        out.listed = len(listed)
        if keep_pairs is not None:
            keep_pairs(listed_pairs(listed))
        elif keep_page is not None:
            keep_page(listed)
        else:
            out.people = [k for p in listed if (k := (keep(p) if keep else p)) is not None]
        out.next_sync_token = f"t{self.a.seq}"
        return out

    def account_size(self) -> int:
        return len(self.a.people)

    def get_people(self, resource_names: Sequence[str], **_: Any) -> list[JSON]:
        return [copy.deepcopy(self.a.people[rn]) for rn in resource_names if rn in self.a.people]

    # groups
    def _group(self, rn: str) -> JSON:
        group = copy.deepcopy(self.a.groups[rn])
        if count := self.a.member_count(rn):
            group["memberCount"] = count  # Google leaves memberCount out when it is 0
        return group

    def list_groups(self) -> list[JSON]:
        mine = {"resourceName": MY_CONTACTS, "name": "myContacts", "groupType": "SYSTEM_CONTACT_GROUP"}
        return [mine, *(self._group(rn) for rn in self.a.groups)]

    def get_group(self, resource_name: str, **_: Any) -> JSON:
        if resource_name not in self.a.groups:
            raise NotFound("contact group not found")
        return self._group(resource_name)

    def create_group(self, name: str, client_data: list[JSON]) -> JSON:
        assert all(g["name"] != name for g in self.a.groups.values()), "Google refuses a second group of a name"
        return self._group(self.a.group(name, copy.deepcopy(client_data)))

    def rename_group(self, group: JSON, name: str) -> JSON:
        stored = self.a.groups[group["resourceName"]]
        stored["name"], stored["etag"] = name, f"g{next(self.a.ids)}"
        return self._group(group["resourceName"])

    def delete_group(self, resource_name: str) -> None:
        self.a.drop_group(resource_name)

    # writes
    def batch_create(self, people: Sequence[JSON | orjson.Fragment]) -> list[JSON]:
        def make() -> list[JSON]:
            # what the real client sends, as Google parses it
            sent = orjson.loads(bytes(batch_create_body(people)))["contacts"]
            made = [self.a.add(c["contactPerson"]) for c in sent]
            return [{"resourceName": rn, "etag": self.a.people[rn]["etag"],
                     "clientData": copy.deepcopy(self.a.people[rn].get("clientData", []))} for rn in made]

        return list(self._write(make, retry_repeats=True))

    def batch_update(
        self, people: dict[str, JSON], *, with_memberships: bool, fields: Sequence[str] | None = None
    ) -> dict[str, JSON]:
        for rn, body in people.items():  # the whole batch is refused on one stale etag, as Google does
            if rn not in self.a.people:
                raise NotFound(f"{rn} not found")
            if body.get("etag") != self.a.people[rn]["etag"]:
                raise PreconditionFailed("failedPrecondition: the etag is stale")
        written = [*SYNCED_FIELDS, "clientData"] if fields is None else list(fields)
        mask = [*written, *(["memberships"] if with_memberships else [])]

        def make() -> dict[str, JSON]:
            answer = {}
            for rn, body in people.items():
                person = self.a.people[rn]
                for key in mask:  # the mask clears what the body leaves out
                    if key in body:
                        person[key] = copy.deepcopy(body[key])
                    else:
                        person.pop(key, None)
                self.a.touch(rn)
                answer[rn] = {"resourceName": rn, "etag": person["etag"]}
            return answer

        return dict(self._write(make))

    def _photo(self, rn: str, data: bytes | None) -> JSON:
        def make() -> JSON:
            if rn not in self.a.people:
                raise NotFound(f"{rn} not found")
            if data is None:
                self.a.people[rn].pop("photo", None)
            else:
                self.a.people[rn]["photo"] = data.decode()
            self.a.touch(rn)
            return {"resourceName": rn, "etag": self.a.people[rn]["etag"]}

        return dict(self._write(make))

    def update_photo(self, resource_name: str, data: bytes) -> JSON:
        return self._photo(resource_name, data)

    def delete_photo(self, resource_name: str) -> JSON:
        return self._photo(resource_name, None)

    def batch_delete(self, resource_names: Sequence[str]) -> None:
        def make() -> None:
            for rn in resource_names:
                if rn in self.a.people:
                    self.a.remove(rn)

        self._write(make)

    def batch_set_client_data(self, people: dict[str, JSON]) -> None:
        for rn, body in people.items():  # one stale etag refuses the batch, as Google does
            if rn not in self.a.people:
                raise NotFound(f"{rn} not found")
            if body.get("etag") != self.a.people[rn]["etag"]:
                raise PreconditionFailed("failedPrecondition: the etag is stale")

        def make() -> None:
            for rn, body in people.items():
                self.a.people[rn]["clientData"] = copy.deepcopy(body["clientData"])
                self.a.touch(rn)

        self._write(make)

    def batch_release(self, people: dict[str, JSON]) -> None:
        for rn, body in people.items():
            if body.get("etag") != self.a.people.get(rn, {}).get("etag"):
                raise PreconditionFailed("failedPrecondition: the etag is stale")

        def make() -> None:
            for rn, body in people.items():
                self.a.people[rn]["clientData"] = copy.deepcopy(body["clientData"])
                self.a.people[rn]["memberships"] = copy.deepcopy(body["memberships"])
                self.a.touch(rn)

        self._write(make)

    def set_group_client_data(self, group: JSON, client_data: list[JSON]) -> JSON:
        stored = self.a.groups[group["resourceName"]]
        stored["clientData"], stored["etag"] = copy.deepcopy(client_data), f"g{next(self.a.ids)}"
        return self._group(group["resourceName"])


def _accepts(implementation: Callable[..., Any], call: inspect.Signature) -> bool:
    """Whether `implementation` takes every call that `call` allows: the same positional parameters in the same
    order, each keyword (by name, or through **kwargs), and nothing more without a default."""
    params = list(inspect.signature(implementation).parameters.values())
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    wanted = [p.name for p in call.parameters.values() if p.kind in positional]
    if [p.name for p in params if p.kind in positional][: len(wanted)] != wanted:
        return False
    by_name = {p.name: p for p in params}
    any_keyword = any(p.kind is p.VAR_KEYWORD for p in params)
    for p in call.parameters.values():
        if p.kind is p.KEYWORD_ONLY and p.name not in by_name and not any_keyword:
            return False
    return all(p.default is not p.empty or p.name in call.parameters
               for p in params if p.kind in (*positional, inspect.Parameter.KEYWORD_ONLY))


def test_the_fake_and_the_real_client_are_both_a_people_account() -> None:
    """The fake is declared a `PeopleAccount` (it could not be made with a method missing); each of its methods
    and of `PeopleClient`'s takes what `TargetSync` passes through the protocol."""
    members = sorted(PeopleAccount.__abstractmethods__)
    assert "batch_update" in members and "read_connections" in members
    FakePeople(Account())
    for name in members:
        call = inspect.signature(getattr(PeopleAccount, name))
        for implementation in (FakePeople, PeopleClient):
            assert _accepts(getattr(implementation, name), call), f"{implementation.__name__}.{name}"


# --- what the engine keeps between runs (RunRecords) ---------------------------------------------------------
@dataclass
class Kept:
    """One job's store rows for one account: its links (committed batch by batch) and its target state."""

    links: dict[str, LinkState] = field(default_factory=dict)
    group: str | None = None
    sync_token: str | None = None
    full_read: bool = False
    source_version: str | None = None
    echo_digest: str | None = None

    def save(self, writes: list[LinkWrite]) -> None:
        for w in writes:
            self.links[w.source_key] = LinkState(w.source_key, w.target_resource_name, w.content_hash,
                                                 w.target_etag, w.photo)

    def memory(self, force_full: bool) -> TargetMemory:
        return TargetMemory(self.group, self.sync_token, force_full or not self.full_read,
                            load_links=lambda: dict(self.links), source_version=self.source_version,
                            echo_digest=self.echo_digest)

    def persist(self, out: TargetOutcome) -> None:
        """As `RunRecords._persist` stores a target that returned (ok or failed)."""
        self.save(out.link_writes)
        for key in out.dropped_links:
            self.links.pop(key, None)
        ok = out.status is TargetStatus.ok
        self.sync_token = out.sync_token if ok else None
        if out.group_resource_name:
            self.group = out.group_resource_name
        if ok and out.full_read:
            self.full_read = True
        self.source_version = out.source_version if ok else None
        self.echo_digest = out.echo_digest if ok else None


def _item(key: str, name: str, photo: str | None) -> SourceItem:
    body = {"names": [{"givenName": name, "familyName": key.rsplit("/", 1)[-1]}]}
    return SourceItem(key, body, content_hash(body), photo)


def _photos(_key: str, fingerprint: str) -> bytes:
    return fingerprint.encode()


class TargetSyncMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        # Small batches, so a run of a few contacts writes several and a crash can fall between them.
        self._batches = (batch_writer.BATCH_CREATE_MAX, batch_writer.BATCH_UPDATE_MAX, batch_writer.BATCH_DELETE_MAX)
        batch_writer.BATCH_CREATE_MAX = batch_writer.BATCH_UPDATE_MAX = batch_writer.BATCH_DELETE_MAX = 2
        self.ids = itertools.count(1)
        self.sources: dict[str, dict[str, SourceItem]] = {job: {} for job in JOBS}
        self.accounts = {name: Account() for name in ACCOUNTS}
        self.kept = {(job, name): Kept() for job in JOBS for name in ACCOUNTS}
        for name, account in self.accounts.items():  # the user's own contacts
            account.add({"names": [{"givenName": f"{name}'s friend"}], "memberships": [
                {"contactGroupMembership": {"contactGroupResourceName": MY_CONTACTS}}]})
            account.add({"names": [{"givenName": f"{name}'s tagged"}], "clientData": [{"key": "other-app",
                                                                                        "value": "x"}]})

    def teardown(self) -> None:
        batch_writer.BATCH_CREATE_MAX, batch_writer.BATCH_UPDATE_MAX, batch_writer.BATCH_DELETE_MAX = self._batches

    # --- the sources change ---------------------------------------------------------------------------------
    @rule(job=st.sampled_from(sorted(JOBS)), name=NAMES, photo=st.booleans())
    def source_adds(self, job: str, name: str, photo: bool) -> None:
        key = f"people/s{next(self.ids)}"
        self.sources[job][key] = _item(key, name, f"p{next(self.ids)}" if photo else None)

    @rule(job=st.sampled_from(sorted(JOBS)), data=st.data(), name=NAMES, photo=st.sampled_from(["keep", "new",
                                                                                                  "none"]))
    def source_edits(self, job: str, data: st.DataObject, name: str, photo: str) -> None:
        if not self.sources[job]:
            return
        key = data.draw(st.sampled_from(sorted(self.sources[job])))
        old = self.sources[job][key].photo
        new = old if photo == "keep" else f"p{next(self.ids)}" if photo == "new" else None
        self.sources[job][key] = _item(key, name + " edited", new)

    @rule(job=st.sampled_from(sorted(JOBS)), data=st.data())
    def source_deletes(self, job: str, data: st.DataObject) -> None:
        if self.sources[job]:
            del self.sources[job][data.draw(st.sampled_from(sorted(self.sources[job])))]

    # --- the target user meddles ------------------------------------------------------------------------------
    def _tagged(self, account: str) -> list[str]:
        return sorted(rn for rn, p in self.accounts[account].people.items()
                      if any(read_tag(p, job) for job in JOBS))

    @rule(account=st.sampled_from(ACCOUNTS), data=st.data(), how=st.sampled_from(["edit", "unlabel", "delete"]))
    def target_meddles_with_a_synced_contact(self, account: str, data: st.DataObject, how: str) -> None:
        tagged = self._tagged(account)
        if not tagged:
            return
        a, rn = self.accounts[account], data.draw(st.sampled_from(tagged))
        if how == "delete":
            a.remove(rn)
            return
        if how == "edit":
            a.people[rn]["names"] = [{"givenName": "Tampered"}]
        else:
            a.people[rn]["memberships"] = [{"contactGroupMembership": {"contactGroupResourceName": MY_CONTACTS}}]
        a.touch(rn)

    @rule(account=st.sampled_from(ACCOUNTS), job=st.sampled_from(sorted(JOBS)),
          how=st.sampled_from(["rename", "delete", "add_own"]))
    def target_meddles_with_a_label(self, account: str, job: str, how: str) -> None:
        a = self.accounts[account]
        label = next((rn for rn, g in a.groups.items() if g["clientData"][0]["key"].endswith(":" + job)), None)
        if label is None:
            return
        if how == "rename":
            a.groups[label]["name"] = f"{JOBS[job]} (mine now)"
        elif how == "delete":
            a.drop_group(label)
        else:  # the user files one of their own contacts under the job's label: it stays theirs
            a.add({"names": [{"givenName": "Mine, in your label"}],
                   "memberships": [{"contactGroupMembership": {"contactGroupResourceName": label}}]})

    @rule(job=st.sampled_from(sorted(JOBS)), account=st.sampled_from(ACCOUNTS))
    def database_loses_the_targets_rows(self, job: str, account: str) -> None:
        self.kept[(job, account)] = Kept()

    # --- syncing ----------------------------------------------------------------------------------------------
    def _not_ours(self, job: str, account: str) -> dict[str, JSON]:
        return {rn: copy.deepcopy(p) for rn, p in self.accounts[account].people.items() if read_tag(p, job) is None}

    @rule(job=st.sampled_from(sorted(JOBS)), account=st.sampled_from(ACCOUNTS), force_full=st.booleans(),
          fault=st.one_of(st.none(), st.builds(Fault, st.integers(1, 3), st.sampled_from(
              ["google", "before", "lost", "retried"]))))
    def sync(self, job: str, account: str, force_full: bool, fault: Fault | None) -> None:
        kept = self.kept[(job, account)]
        others = self._not_ours(job, account)
        sync = TargetSync(FakePeople(self.accounts[account], fault), TargetJob(job, JOBS[job], False, 25_000),
                          photos=_photos, on_links=kept.save)
        try:
            out = sync.sync(dict(self.sources[job]), kept.memory(force_full), source_version=self._version(job))
        except Crash:
            out = None  # the engine stored nothing more than the links `on_links` already had
        assert self._not_ours(job, account) == others, "touched a contact that is not this job's"
        event(f"sync: {'crashed' if out is None else out.status}, fault {fault.how if fault and fault.fired else '-'}")
        if out is None:
            return
        kept.persist(out)
        if fault is None or not fault.fired:
            assert out.status is TargetStatus.ok, out.reason
            self._assert_mirrors(job, account)
            event(f"mirrored after writing: {out.created + out.updated + out.deleted > 0}")

    def _version(self, job: str) -> str:
        return "|".join(f"{k}:{i.hash}:{i.photo}" for k, i in sorted(self.sources[job].items()))

    def _assert_mirrors(self, job: str, account: str) -> None:
        """The account holds the job's source exactly: once each, same content, in the label, same photo."""
        a, source = self.accounts[account], self.sources[job]
        [label] = [rn for rn, g in a.groups.items() if g["clientData"][0]["key"].endswith(":" + job)]
        assert a.groups[label]["name"] == JOBS[job]
        held: dict[str, list[JSON]] = {}
        for person in a.people.values():
            if (key := read_tag(person, job)) is not None:
                held.setdefault(key, []).append(person)
        assert set(held) == set(source)
        for key, copies in held.items():
            assert len(copies) == 1, f"duplicate copies of {key}"
            [person] = copies
            assert content_hash(canonical_body(person)) == source[key].hash
            assert label in memberships_of(person) and MY_CONTACTS not in memberships_of(person)
            if source[key].photo is not None:
                assert person.get("photo") == source[key].photo

    # --- what must always hold ----------------------------------------------------------------------------------
    @invariant()
    def the_users_own_contacts_are_never_lost(self) -> None:
        for name, account in self.accounts.items():
            own = [p for p in account.people.values() if not any(read_tag(p, job) for job in JOBS)]
            assert {p["names"][0]["givenName"] for p in own} >= {f"{name}'s friend", f"{name}'s tagged"}

    @invariant()
    def a_contact_belongs_to_one_job_at_most(self) -> None:
        for account in self.accounts.values():
            for person in account.people.values():
                assert sum(read_tag(person, job) is not None for job in JOBS) <= 1


TargetSyncMachine.TestCase.settings = settings(max_examples=200, stateful_step_count=40, deadline=None)
TestTargetSyncMachine = TargetSyncMachine.TestCase
