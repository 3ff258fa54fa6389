"""The merge's memory: the base (last-synced fields per job and source contact) and the conflicts it reported."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from sync_core import store
from sync_core.domain.contacts import content_hash
from sync_core.domain.models import ConflictState
from sync_core.sync.merge import SOURCE, Conflict, Version, Why, editor, merge_contact
from tests.store.helpers import add_job, job_id

ANA = {"names": [{"givenName": "Ana"}], "emailAddresses": [{"value": "ana@x.io"}]}
BO = {"names": [{"givenName": "Bo"}]}
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_the_base_reads_back_what_was_written_per_job(engine: Engine, session: Session) -> None:
    one, two = job_id(add_job(session, "one")), job_id(add_job(session, "two"))
    store.advance_base(session, job_id=one, entries={"people/c1": ANA, "people/c2": {**BO, "urls": []}})
    store.advance_base(session, job_id=two, entries={"people/c1": BO})
    session.commit()

    with Session(engine) as fresh:
        assert store.read_base(fresh, job_id=one) == {"people/c1": ANA, "people/c2": BO}  # empty fields left out
        assert store.read_base(fresh, job_id=two) == {"people/c1": BO}
        assert store.base_hashes(fresh, job_id=one) == {"people/c1": content_hash(ANA), "people/c2": content_hash(BO)}


def test_advancing_rewrites_only_what_changed_and_drops_what_went(engine: Engine, session: Session) -> None:
    jid = job_id(add_job(session))
    assert store.advance_base(session, job_id=jid, entries={"people/c1": ANA, "people/c2": BO}) == 2
    session.commit()

    renamed = {**ANA, "names": [{"givenName": "Anna"}]}
    assert store.advance_base(session, job_id=jid, entries={"people/c1": renamed, "people/c2": BO},
                              removed=["people/c3"]) == 1  # c2 unchanged, c3 never there
    assert store.advance_base(session, job_id=jid, entries={}, removed=["people/c2"]) == 1
    session.commit()

    with Session(engine) as fresh:
        assert store.read_base(fresh, job_id=jid) == {"people/c1": renamed}


def test_replacing_the_base_makes_it_equal_the_source(engine: Engine, session: Session) -> None:
    jid = job_id(add_job(session))
    store.advance_base(session, job_id=jid, entries={f"people/c{i}": BO for i in range(1200)})  # past one IN chunk
    session.commit()

    assert store.replace_base(session, job_id=jid, entries={"people/c1": ANA, "people/new": BO}) == 1199 + 1 + 1
    session.commit()

    with Session(engine) as fresh:
        assert store.read_base(fresh, job_id=jid) == {"people/c1": ANA, "people/new": BO}


def test_a_version_a_target_still_holds_is_kept_when_the_base_moves_on_and_goes_once_none_does(
    engine: Engine, session: Session
) -> None:
    """Carol's account failed, so her link still names the base the run replaces: that version is kept (under
    her link's hash), while the one bob received, now the base, goes. Once her link moves on, hers goes too."""
    jid = job_id(add_job(session))
    renamed = {**ANA, "names": [{"givenName": "Anna"}]}
    store.advance_base(session, job_id=jid, entries={"people/c1": ANA, "people/c2": BO})
    store.keep_versions(session, job_id=jid, entries={"people/c1": ("h-anna", renamed)})  # what bob got
    for who, digest in (("carol", "h-ana"), ("bob", "h-anna")):
        store.upsert_link(session, job_id=jid, target_user_id=who, source_key="people/c1",
                          target_resource_name=f"people/{who}1", content_hash=digest)
    session.commit()

    store.replace_base(session, job_id=jid, entries={"people/c1": renamed, "people/c2": BO})
    session.commit()
    wanted = [("people/c1", "h-ana"), ("people/c1", "h-anna")]
    assert store.read_versions(session, job_id=jid, wanted=wanted) == {("people/c1", "h-ana"): ANA}

    store.upsert_link(session, job_id=jid, target_user_id="carol", source_key="people/c1",
                      target_resource_name="people/carol1", content_hash="h-anna")
    store.replace_base(session, job_id=jid, entries={"people/c1": renamed, "people/c2": BO})
    session.commit()
    assert store.read_versions(session, job_id=jid, wanted=wanted) == {}


def test_deleting_the_base_of_some_contacts_or_of_the_job(engine: Engine, session: Session) -> None:
    jid, other = job_id(add_job(session, "one")), job_id(add_job(session, "two"))
    store.advance_base(session, job_id=jid, entries={"people/c1": ANA, "people/c2": BO, "people/c3": BO})
    store.advance_base(session, job_id=other, entries={"people/c1": ANA})
    session.commit()

    assert store.delete_base(session, job_id=jid, keys=["people/c2"]) == 1
    assert store.delete_base(session, job_id=jid, keys=[]) == 0
    assert store.read_base(session, job_id=jid).keys() == {"people/c1", "people/c3"}
    assert store.delete_base(session, job_id=jid) == 2
    session.commit()

    with Session(engine) as fresh:
        assert store.read_base(fresh, job_id=jid) == {}
        assert store.read_base(fresh, job_id=other) == {"people/c1": ANA}


def test_a_jobs_base_and_conflicts_go_with_the_job(engine: Engine, session: Session) -> None:
    jid = job_id(add_job(session))
    store.advance_base(session, job_id=jid, entries={"people/c1": ANA})
    store.record_conflicts(session, job_id=jid, conflicts=two_editors_conflict())
    session.commit()

    assert store.delete_job(session, job_id=jid)
    session.commit()

    with Session(engine) as fresh:
        assert store.read_base(fresh, job_id=jid) == {}
        assert store.list_conflicts(fresh, job_id=jid, state=None) == []


def two_editors_conflict() -> tuple[Conflict, ...]:
    base = {"phoneNumbers": [{"value": "+1 555 0100"}]}
    result = merge_contact(
        "people/c1",
        base,
        Version(base),
        {"101": Version({"phoneNumbers": [{"value": "+1 555 0101"}]}, T0),
         "102": Version({"phoneNumbers": [{"value": "+1 555 0102"}]}, T0 + timedelta(minutes=1))},
        editors_can_delete=False,
    )
    return result.conflicts


def test_a_conflict_reads_back_as_the_merge_reported_it(engine: Engine, session: Session) -> None:
    jid = job_id(add_job(session))
    (conflict,) = two_editors_conflict()
    (row,) = store.record_conflicts(session, job_id=jid, conflicts=[conflict], run_id=7, now=T0)
    session.commit()

    with Session(engine) as fresh:
        (stored,) = store.list_conflicts(fresh, job_id=jid)
        assert stored.id == row.id and stored.run_id == 7 and stored.found_at == T0
        assert (stored.contact_key, stored.contact_field, stored.why) == ("people/c1", "phoneNumbers",
                                                                           "later edit wins")
        assert stored.winner["sides"] == ["editor:102"] and stored.losers[0]["sides"] == ["editor:101"]
        assert store.conflict_of(stored) == conflict
        assert store.conflict_of(stored).winner.updated == T0 + timedelta(minutes=1)
        assert store.open_conflict_count(fresh, job_id=jid) == 1


def test_a_conflict_found_again_while_open_is_not_recorded_twice(engine: Engine, session: Session) -> None:
    """A run cut off after its source write merges the same edits again: the source now holds the winner."""
    jid = job_id(add_job(session))
    (first,) = two_editors_conflict()
    store.record_conflicts(session, job_id=jid, conflicts=[first])
    base = {"phoneNumbers": [{"value": "+1 555 0100"}]}
    again = merge_contact(
        "people/c1",
        base,
        Version({"phoneNumbers": [{"value": "+1 555 0102"}]}),  # the source holds the winner now
        {"101": Version({"phoneNumbers": [{"value": "+1 555 0101"}]}, T0),
         "102": Version({"phoneNumbers": [{"value": "+1 555 0102"}]}, T0 + timedelta(minutes=1))},
        editors_can_delete=False,
    )
    (second,) = again.conflicts
    assert second.why is Why.source_wins and SOURCE in second.winner.sides  # explained differently, same decision

    assert store.record_conflicts(session, job_id=jid, conflicts=[second, second]) == []
    assert store.open_conflict_count(session, job_id=jid) == 1

    (row,) = store.list_conflicts(session, job_id=jid)
    assert store.resolve_conflict(session, conflict_id=row.id or 0, by="U1", resolution="kept")
    assert len(store.record_conflicts(session, job_id=jid, conflicts=[second])) == 1  # resolved: a new one
    session.commit()
    with Session(engine) as fresh:
        assert store.open_conflict_count(fresh, job_id=jid) == 1
        assert len(store.list_conflicts(fresh, job_id=jid, state=None)) == 2


def test_conflicts_are_listed_newest_first_by_state(engine: Engine, session: Session) -> None:
    jid = job_id(add_job(session))
    old, new = (
        merge_contact(key, {}, Version({"urls": [{"value": key}]}),
                      {"101": Version({"urls": [{"value": "mine"}]})}, editors_can_delete=False).conflicts[0]
        for key in ("people/old", "people/new")
    )
    store.record_conflicts(session, job_id=jid, conflicts=[old], now=T0)
    store.record_conflicts(session, job_id=jid, conflicts=[new], now=T0 + timedelta(hours=1))
    session.commit()

    assert [r.contact_key for r in store.list_conflicts(session, job_id=jid)] == ["people/new", "people/old"]
    assert [r.contact_key for r in store.list_conflicts(session, job_id=jid, limit=1)] == ["people/new"]
    newest = store.list_conflicts(session, job_id=jid)[0]
    store.resolve_conflict(session, conflict_id=newest.id or 0, by="U1", resolution="put back editor:101's value")
    session.commit()
    assert [r.contact_key for r in store.list_conflicts(session, job_id=jid)] == ["people/old"]
    assert [r.contact_key for r in store.list_conflicts(session, job_id=jid, state=ConflictState.resolved)] == [
        "people/new"]


def test_a_conflict_is_resolved_once(engine: Engine, session: Session) -> None:
    jid = job_id(add_job(session))
    (row,) = store.record_conflicts(session, job_id=jid, conflicts=two_editors_conflict())
    session.commit()
    conflict_id = row.id or 0

    assert store.resolve_conflict(session, conflict_id=conflict_id, by="U1", resolution="kept", now=T0)
    assert not store.resolve_conflict(session, conflict_id=conflict_id, by="U2", resolution="put back")
    assert not store.resolve_conflict(session, conflict_id=conflict_id + 99, by="U2", resolution="kept")
    session.commit()

    with Session(engine) as fresh:
        stored = store.get_conflict(fresh, conflict_id=conflict_id)
        assert stored is not None and stored.state is ConflictState.resolved
        assert (stored.resolved_by, stored.resolution, stored.resolved_at) == ("U1", "kept", T0)
        assert store.open_conflict_count(fresh, job_id=jid) == 0


def test_a_delete_conflict_keeps_the_whole_contact_that_lost(engine: Engine, session: Session) -> None:
    jid = job_id(add_job(session))
    edited = {"names": [{"givenName": "Pat"}]}
    (conflict,) = merge_contact("people/c1", ANA, None, {"101": Version(edited, T0)}, editors_can_delete=True).conflicts
    store.record_conflicts(session, job_id=jid, conflicts=[conflict])
    session.commit()

    with Session(engine) as fresh:
        (stored,) = store.list_conflicts(fresh, job_id=jid)
        assert stored.winner == {"value": None, "sides": ["source"], "updated": None}
        assert stored.losers == [{"value": edited, "sides": [str(editor("101"))], "updated": T0.isoformat()}]
        assert store.conflict_of(stored) == conflict
