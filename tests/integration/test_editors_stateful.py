"""A Hypothesis state machine over the real engine and the emulator (issue 21): the source user, two editors and
two readers edit, add and delete in one shared label, at once and in any order; editors are removed and added
back; runs are killed half way (after the merge wrote the source, before any target). After each complete run:

- every copy (editors' and readers') equals the source, field by field, with no duplicates;
- the contacts we never wrote (a reader's own) are untouched;
- the next run writes nothing;
- no editor's change is lost, unless a conflict reported it (or the contact is gone, or the editor was removed
  from the list before the run: then their copy is read-only and put back).

A few seconds of examples by default; CONTACTSYNC_STATEFUL_EXAMPLES raises it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from sync_core import store
from sync_core.domain.contacts import canonical_body
from sync_core.domain.models import SelectorCreate, SelectorKind
from sync_core.run.job_run import JobRun, RunSource
from sync_core.runtime import Runtime
from tests.conftest import Google
from tests.integration.helpers import as_user, contacts, create_job, make_runtime, ours, source_keys, user_id

EDITORS = ("bob@example.com", "carol@example.com")
READERS = ("zoe@example.com", "dave@example.com")
EVERYONE = (*EDITORS, *READERS)
WRITES = ("batchUpdateContacts", "batchCreateContacts", "batchDeleteContacts", "updateContact", "createContact",
          "deleteContact", "contactGroups.create", "contactGroups.update", "contactGroups.delete", "updateContactPhoto")
FIELDS = ("phoneNumbers", "biographies")
EXAMPLES = int(os.environ.get("CONTACTSYNC_STATEFUL_EXAMPLES", "2"))


class Killed(BaseException):
    """The run's process dies here (a BaseException: nothing in the run catches it)."""


class SharedLabel(RuleBasedStateMachine):
    google: Google
    tmp: Path
    initial: Any
    examples = 0

    @initialize(can_delete=st.booleans())
    def start(self, can_delete: bool) -> None:
        SharedLabel.examples += 1
        self.google.handle.control.load_state(self.initial)
        self.rt = make_runtime(self.google, f"sqlite:///{self.tmp / f'cs{SharedLabel.examples}.db'}")
        # carol is a target too: taken off the editors, she stays as a reader.
        self.name = create_job(self.rt, self.google, *(f"email:{r}" for r in (*READERS, "carol@example.com")),
                               editors=[f"email:{e}" for e in EDITORS], editors_can_delete=can_delete)
        self.can_delete = can_delete
        self.editors = set(EDITORS)
        self.counter = 0
        self.rt.engine.run(self.name)
        self.rt.engine.run(self.name)
        # A contact of zoe's own, never ours to touch.
        own = as_user(self.rt, "zoe@example.com").people().createContact(
            body={"names": [{"givenName": "Zoe's", "familyName": "Own"}]}).execute()
        self.foreign = (own["resourceName"], canonical_body(own))
        self.pending: list[tuple[str, str, str, str]] = []  # (editor, key, field, value) not yet run
        self.reported: list[str] = []  # conflicts reported by runs since the last complete one

    # --- what people do -------------------------------------------------------------------------------------
    def _value(self) -> str:
        self.counter += 1
        return f"+1 555 {self.counter:04d}"

    def _edit(self, email: str, person: dict[str, Any], field: str, value: str) -> bool:
        body: dict[str, Any] = {"etag": person["etag"]}
        body[field] = [{"value": value}]
        try:
            as_user(self.rt, email).people().updateContact(
                resourceName=person["resourceName"], updatePersonFields=field, body=body).execute()
        except Exception:  # noqa: BLE001 - deleted meanwhile: nothing was done
            return False
        return True

    def _copy(self, email: str, index: int) -> tuple[str, dict[str, Any]] | None:
        copies = ours(self.google, email)
        if not copies:
            return None
        key = sorted(copies)[index % len(copies)]
        return key, copies[key]

    @rule(who=st.sampled_from(EDITORS), index=st.integers(0, 20), field=st.sampled_from(FIELDS))
    def editor_edits(self, who: str, index: int, field: str) -> None:
        found = self._copy(who, index)
        if found is None:
            return
        key, person = found
        value = self._value()
        if self._edit(who, person, field, value) and who in self.editors:
            self.pending.append((who, key, field, value))

    @rule(who=st.sampled_from(READERS), index=st.integers(0, 20))
    def reader_edits(self, who: str, index: int) -> None:
        found = self._copy(who, index)
        if found is not None:
            self._edit(who, found[1], "phoneNumbers", self._value())

    @rule(index=st.integers(0, 20), field=st.sampled_from(FIELDS))
    def source_edits(self, index: int, field: str) -> None:
        keys = sorted(source_keys(self.google))
        if keys:
            key = keys[index % len(keys)]
            self._edit(self.google.seed.source_email, contacts(self.google, self.google.seed.source_email)[key],
                       field, self._value())

    @rule(who=st.sampled_from(EDITORS))
    def editor_adds(self, who: str) -> None:
        group = self._label(who)
        if group is None:
            return
        self.counter += 1
        as_user(self.rt, who).people().createContact(body={
            "names": [{"givenName": "Added", "familyName": f"N{self.counter}"}],
            "memberships": [{"contactGroupMembership": {"contactGroupResourceName": group}}]}).execute()

    @rule(who=st.sampled_from(EVERYONE), index=st.integers(0, 20))
    def someone_deletes(self, who: str, index: int) -> None:
        found = self._copy(who, index)
        if found is not None:
            as_user(self.rt, who).people().deleteContact(resourceName=found[1]["resourceName"]).execute()

    @rule(index=st.integers(0, 20))
    def source_deletes(self, index: int) -> None:
        keys = sorted(source_keys(self.google))
        if len(keys) > 2:
            as_user(self.rt, self.google.seed.source_email).people().deleteContact(
                resourceName=keys[index % len(keys)]).execute()

    @rule(index=st.integers(0, 20))
    def two_editors_edit_one_field(self, index: int) -> None:
        for who in EDITORS:
            self.editor_edits(who, index, "phoneNumbers")

    @rule()
    def carol_stops_or_starts_editing(self) -> None:
        self.editors ^= {"carol@example.com"}
        with store.session_scope(self.rt.db) as session:
            job = store.get_job_by_name(session, name=self.name)
            assert job is not None and job.id is not None
            store.set_editors(session, job_id=job.id, selectors=[email_selector(e) for e in sorted(self.editors)])
        self.pending = [p for p in self.pending if p[0] in self.editors]

    # --- runs --------------------------------------------------------------------------------------------
    @rule()
    def a_run_killed_after_the_source_write(self) -> None:
        keep = JobRun.keep_source

        def die(run: JobRun, source: RunSource) -> None:
            raise Killed  # the merge wrote the source; nothing after it happens

        JobRun.keep_source = die  # type: ignore[method-assign]
        try:
            self.rt.engine.run(self.name)
        except Killed:
            pass
        finally:
            JobRun.keep_source = keep  # type: ignore[method-assign]

    @rule(who=st.sampled_from(EDITORS), refused=st.sampled_from(["writes", "reads"]))
    def a_run_with_an_editors_account_failing(self, who: str, refused: str) -> None:
        """Their account refuses our writes (or reads) for one run: the base stays behind, and what the others
        received since differs from it (each editor's changes are then told against what they received)."""
        methods = ("batchUpdateContacts", "batchCreateContacts", "batchDeleteContacts") if refused == "writes" \
            else ("connections.list",)
        for method in methods:
            self.google.handle.control.inject_fault(f"people.people.{method}", count=1000, code=403, user=who)
        try:
            report = self.rt.engine.run(self.name)
        finally:
            self.google.handle.control.clear_faults()
        self.reported += report.conflicts  # what it merged is checked at the next complete run

    @rule()
    def a_complete_run(self) -> None:
        report = self.rt.engine.run(self.name)
        assert report.status.value in ("ok", "partial"), (report.status, report.error_reason)
        self._check_converged()
        self._check_nothing_lost([*self.reported, *report.conflicts])
        self.pending, self.reported = [], []
        self.google.handle.control.reset_calls()
        again = self.rt.engine.run(self.name)
        calls = self.google.handle.control.calls()["byMethod"]
        writes = {m: n for m, n in calls.items() if any(w in m for w in WRITES)}
        assert writes == {}, ("the run after a complete one writes nothing", writes, again.editor_changes)

    def teardown(self) -> None:
        """Every example ends with a complete run, so every step it took is checked."""
        if hasattr(self, "rt"):
            self.a_complete_run()

    # --- checks ------------------------------------------------------------------------------------------
    def _label(self, email: str) -> str | None:
        copies = ours(self.google, email)
        for person in copies.values():
            for m in person.get("memberships", []):
                rn = m["contactGroupMembership"]["contactGroupResourceName"]
                if not rn.endswith("myContacts"):
                    return str(rn)
        return None

    def _check_converged(self) -> None:
        source = {k: canonical_body(contacts(self.google, self.google.seed.source_email)[k])
                  for k in source_keys(self.google)}
        for email in EVERYONE:
            copies = ours(self.google, email)  # raises on a duplicate
            assert set(copies) == set(source), email
            for key, person in copies.items():
                assert canonical_body(person) == source[key], (email, key)

    def _check_nothing_lost(self, conflicts: list[str]) -> None:
        source = contacts(self.google, self.google.seed.source_email)
        reported = " ".join(conflicts)
        latest: dict[tuple[str, str, str], str] = {}
        for who, key, field, value in self.pending:
            latest[(who, key, field)] = value  # an editor's later edit of the same field replaces their earlier
        for (who, key, field), value in latest.items():
            if key not in source:
                continue  # deleted (by the source, or an editor allowed to)
            now = [v.get("value") for v in source[key].get(field, [])]
            assert now == [value] or json.dumps(value) in reported, (who, key, field, value, now, conflicts)

    @invariant()
    def foreign_contact_untouched(self) -> None:
        if not hasattr(self, "foreign"):
            return
        rn, body = self.foreign
        theirs = self.google.ws.people_of(user_id(self.google, "zoe@example.com"))["contacts"].get(rn)
        assert theirs is not None and canonical_body(theirs) == body


def email_selector(email: str) -> SelectorCreate:
    return SelectorCreate(kind=SelectorKind.email, value=email)


def test_editors_readers_and_the_source_converge(google: Google, tmp_path: Path, rt: Runtime) -> None:
    SharedLabel.google = google
    SharedLabel.tmp = tmp_path
    SharedLabel.initial = google.handle.control.dump_state()
    run_state_machine_as_test(SharedLabel, settings=settings(
        max_examples=EXAMPLES, stateful_step_count=8, deadline=None, derandomize=False,
        suppress_health_check=list(HealthCheck),
    ))
