"""A stateful Hypothesis test in the manner of vdirsyncer's: a source and a target account change at
random, syncs are interrupted half way (a crash after some batches) or lose their links, and whatever
happens, the next clean sync leaves the target holding exactly the source, once, without ever having
touched a contact that isn't ours."""

from __future__ import annotations

import itertools

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from sync_core.domain.contacts import content_hash
from sync_core.sync.plan import LinkState, Plan, SourceItem, TargetItem, observed_from_links, plan_target

JOB = "job-uid"
GROUP = "contactGroups/ours"
REQUIRED = frozenset({GROUP})
NAMES = st.sampled_from(["Ann", "Bob", "Zoë", "李雷", "Eve"])


class Crash(Exception):
    pass


class SyncMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.ids = itertools.count(1)
        self.source: dict[str, SourceItem] = {}
        self.target: dict[str, TargetItem] = {}
        self.links: dict[str, LinkState] = {}
        self.incremental_ok = False  # whether the last sync ended cleanly (sync token kept)
        self.mirrored = False  # a clean sync happened and nothing changed since
        self.changed_since: set[str] = set()
        self.deleted_since: set[str] = set()
        foreign = TargetItem("people/f1", "f", None, content_hash({"names": [{"givenName": "Mine"}]}), REQUIRED)
        self.target[foreign.resource_name] = foreign
        self.foreign = dict(self.target)

    def _etag(self) -> str:
        return f"e{next(self.ids)}"

    def _touch(self, item: TargetItem) -> None:
        self.target[item.resource_name] = item
        self.changed_since.add(item.resource_name)

    # --- the source changes ------------------------------------------------------------------------
    @rule(name=NAMES)
    def source_adds(self, name: str) -> None:
        self.mirrored = False
        key = f"people/s{next(self.ids)}"
        body = {"names": [{"givenName": name}]}
        self.source[key] = SourceItem(key, body, content_hash(body))

    @precondition(lambda self: self.source)
    @rule(data=st.data(), name=NAMES)
    def source_edits(self, data: st.DataObject, name: str) -> None:
        self.mirrored = False
        key = data.draw(st.sampled_from(sorted(self.source)))
        body = {"names": [{"givenName": name, "familyName": "Edited"}]}
        self.source[key] = SourceItem(key, body, content_hash(body))

    @precondition(lambda self: self.source)
    @rule(data=st.data())
    def source_deletes(self, data: st.DataObject) -> None:
        self.mirrored = False
        del self.source[data.draw(st.sampled_from(sorted(self.source)))]

    # --- the target user meddles ----------------------------------------------------------------------
    def _ours(self) -> list[str]:
        return sorted(rn for rn, item in self.target.items() if item.source_key is not None)

    @precondition(lambda self: self._ours())
    @rule(data=st.data())
    def target_edits_a_synced_contact(self, data: st.DataObject) -> None:
        self.mirrored = False
        rn = data.draw(st.sampled_from(self._ours()))
        old = self.target[rn]
        edited = content_hash({"names": [{"givenName": "Tampered"}]})
        self._touch(TargetItem(rn, self._etag(), old.source_key, edited, old.memberships))

    @precondition(lambda self: self._ours())
    @rule(data=st.data())
    def target_removes_the_label(self, data: st.DataObject) -> None:
        self.mirrored = False
        rn = data.draw(st.sampled_from(self._ours()))
        old = self.target[rn]
        self._touch(TargetItem(rn, self._etag(), old.source_key, old.hash, frozenset({"contactGroups/myContacts"})))

    @precondition(lambda self: self._ours())
    @rule(data=st.data())
    def target_deletes_a_synced_contact(self, data: st.DataObject) -> None:
        self.mirrored = False
        rn = data.draw(st.sampled_from(self._ours()))
        del self.target[rn]
        self.deleted_since.add(rn)

    @rule()
    def database_loses_its_links(self) -> None:
        self.mirrored = False
        self.links = {}
        self.incremental_ok = False

    # --- syncing --------------------------------------------------------------------------------------
    def _observed(self) -> list[TargetItem]:
        if self.incremental_ok:
            changed = [self.target[rn] for rn in self.changed_since if rn in self.target]
            return observed_from_links(self.links, changed, self.deleted_since, assumed_groups=REQUIRED)
        return list(self.target.values())

    def _apply(self, plan: Plan, crash_after: int | None, retried_create: bool = False) -> None:
        """Apply as the engine does (deletes, updates, creates); links are saved only at the end.

        `retried_create`: the batch create answered 5xx although Google had created the contacts, and
        the retry created them again (the first copies are tagged orphans)."""
        steps = 0
        new_links = dict(self.links)

        def step() -> None:
            nonlocal steps
            steps += 1
            if crash_after is not None and steps > crash_after:
                raise Crash()

        for d in plan.deletes:
            step()
            assert self.target[d.resource_name].source_key is not None, "deleted a contact that isn't ours"
            del self.target[d.resource_name]
            self.deleted_since.add(d.resource_name)
        for u in plan.updates:
            step()
            current = self.target[u.resource_name]
            assert current.source_key is not None, "updated a contact that isn't ours"
            assert u.person["etag"] == current.etag, "stale etag: Google would refuse"
            groups = frozenset(m["contactGroupMembership"]["contactGroupResourceName"] for m in u.person["memberships"])
            item = TargetItem(u.resource_name, self._etag(), u.source_key, u.hash, groups)
            self._touch(item)
            new_links[u.source_key] = LinkState(u.source_key, u.resource_name, u.hash, item.etag)
        for c in plan.creates:
            step()
            if retried_create:
                orphan = f"people/t{next(self.ids)}"
                self._touch(TargetItem(orphan, self._etag(), c.source_key, c.hash, REQUIRED))
            rn = f"people/t{next(self.ids)}"
            item = TargetItem(rn, self._etag(), c.source_key, c.hash, REQUIRED)
            self._touch(item)
            new_links[c.source_key] = LinkState(c.source_key, rn, c.hash, item.etag)
        for k in plan.relinks:
            new_links[k.source_key] = LinkState(k.source_key, k.resource_name, k.hash, k.etag)
        for key in plan.dropped_links:
            new_links.pop(key, None)
        self.links = new_links

    @rule(crash_after=st.one_of(st.none(), st.integers(0, 3)), retried_create=st.booleans())
    def sync(self, crash_after: int | None, retried_create: bool) -> None:
        plan = plan_target(
            job_uid=JOB, source=self.source, target=self._observed(), links=self.links, required_groups=REQUIRED
        )
        self.changed_since, self.deleted_since = set(), set()
        try:
            self._apply(plan, crash_after, retried_create)
        except Crash:
            self.incremental_ok = False  # the engine clears the target's sync token before writing
            self.mirrored = False
            return
        self.incremental_ok = True
        self.mirrored = not (retried_create and plan.creates)  # the orphans go on the next sync

    # --- what must always hold -------------------------------------------------------------------------
    @invariant()
    def foreign_contacts_are_never_touched(self) -> None:
        for rn, item in self.foreign.items():
            assert self.target.get(rn) == item

    @invariant()
    def a_clean_sync_converges(self) -> None:
        if not self.mirrored:  # only right after a clean sync, before anything else changed
            return
        held: dict[str, list[TargetItem]] = {}
        for item in self.target.values():
            if item.source_key is not None:
                held.setdefault(item.source_key, []).append(item)
        assert set(held) == set(self.source)
        for key, items in held.items():
            assert len(items) == 1, f"duplicate copies of {key}"
            assert items[0].hash == self.source[key].hash
            assert items[0].memberships >= REQUIRED


SyncMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=30, deadline=None)
TestSyncMachine = SyncMachine.TestCase
