"""What the engine remembers between runs: target state, links to our contacts, the source cache."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import Engine
from sqlmodel import Session

from sync_core import store
from sync_core.domain.models import RunTrigger, TargetStatus
from tests.store.helpers import add_job, job_id


def test_target_state_upsert_keeps_fields_not_passed(engine: Engine, session: Session) -> None:
    jid = job_id(add_job(session))
    store.upsert_target_state(
        session,
        job_id=jid,
        target_user_id="200",
        target_email="bob@x.io",
        sync_token="tok-1",
        last_status=TargetStatus.forbidden,
        last_reason="delegation missing",
    )
    session.commit()

    store.upsert_target_state(
        session,
        job_id=jid,
        target_user_id="200",
        target_email="robert@x.io",
    )
    session.commit()

    with Session(engine) as fresh:
        states = store.target_states_for_job(fresh, job_id=jid)
    state = states["200"]
    assert (state.target_email, state.sync_token, state.last_reason) == (
        "robert@x.io",
        "tok-1",
        "delegation missing",
    )
    assert state.last_status is TargetStatus.forbidden

    assert store.delete_target_state(session, job_id=jid, target_user_id="200")
    assert store.target_states_for_job(session, job_id=jid) == {}


def test_a_first_state_row_is_made_once_and_never_overwrites_one_there(engine: Engine, session: Session) -> None:
    jid = job_id(add_job(session))
    store.ensure_target_states(session, job_id=jid, targets=[("200", "bob@x.io")])
    session.commit()
    store.upsert_target_state(session, job_id=jid, target_user_id="200", target_email="bob@x.io",
                              sync_token="tok-1", last_status=TargetStatus.ok)
    session.commit()
    store.ensure_target_states(session, job_id=jid, targets=[("200", "robert@x.io")])
    store.ensure_target_states(session, job_id=jid, targets=[("300", "carol@x.io")])
    session.commit()

    with Session(engine) as fresh:
        states = store.target_states_for_job(fresh, job_id=jid)
    assert set(states) == {"200", "300"}
    assert (states["200"].target_email, states["200"].sync_token, states["200"].last_status) == (
        "bob@x.io", "tok-1", TargetStatus.ok)
    assert (states["300"].target_email, states["300"].sync_token, states["300"].last_reason) == ("carol@x.io", None, "")
    assert states["300"].updated_at is not None


def test_other_jobs_last_writes_are_where_they_keep_an_echo_digest_the_latest_each(
    engine: Engine, session: Session
) -> None:
    mine, a, b = (job_id(add_job(session, name)) for name in ("mine", "a", "b"))
    for jid, user, digest in ((mine, "200", "d0"), (a, "200", "d1"), (a, "300", None), (b, "200", "d2"),
                              (b, "400", "d3"), (mine, "500", "d4")):
        store.upsert_target_state(session, job_id=jid, target_user_id=user, target_email=f"{user}@x.io",
                                  echo_digest=digest)
        session.commit()
    with Session(engine) as fresh:
        found = store.others_last_writes(fresh, job_id=mine)
        states = {j: store.target_states_for_job(fresh, job_id=j) for j in (a, b)}
    # not where only this job wrote (500), nor where the other job's last run wrote nothing (300)
    assert set(found) == {"200", "400"}
    assert found["200"] == states[b]["200"].updated_at >= states[a]["200"].updated_at  # the latest of a and b
    assert found["400"].tzinfo is not None  # compared with this job's own, aware, times


def test_many_first_state_rows_in_one_statement_leave_those_there_and_links_are_found(
    engine: Engine, session: Session
) -> None:
    jid = job_id(add_job(session))
    store.upsert_target_state(session, job_id=jid, target_user_id="200", target_email="bob@x.io",
                              sync_token="tok-1", last_status=TargetStatus.ok)
    store.ensure_target_states(session, job_id=jid, targets=[("200", "robert@x.io"), ("300", "carol@x.io")])
    store.ensure_target_states(session, job_id=jid, targets=[])
    session.commit()
    with Session(engine) as fresh:
        states = store.target_states_for_job(fresh, job_id=jid)
    assert (states["200"].target_email, states["200"].sync_token) == ("bob@x.io", "tok-1")
    assert (states["300"].target_email, states["300"].sync_token, states["300"].last_status) == (
        "carol@x.io", None, None)
    store.save_link_changes(session, job_id=jid, target_user_id="300",
                            writes=[("k1", "people/c1", "h1", "e1", None, False)])
    session.commit()
    ids = [str(n) for n in range(1000)]  # more than one query's worth
    assert store.users_with_links(session, job_id=jid, target_user_ids=ids) == {"300"}
    assert store.users_with_links(session, job_id=jid + 1, target_user_ids=ids) == set()


def test_links_upsert_then_delete_some_or_all(engine: Engine, session: Session) -> None:
    jid = job_id(add_job(session))
    for n in (1, 2, 3):
        store.upsert_link(
            session,
            job_id=jid,
            target_user_id="200",
            source_key=f"people/c{n}",
            target_resource_name=f"people/t{n}",
            content_hash=f"h{n}",
            target_etag="e1",
        )
    store.upsert_link(
        session,
        job_id=jid,
        target_user_id="300",
        source_key="people/c1",
        target_resource_name="people/u1",
        content_hash="h1",
    )
    store.upsert_link(  # same key: an update, not a second row
        session,
        job_id=jid,
        target_user_id="200",
        source_key="people/c2",
        target_resource_name="people/t2",
        content_hash="h2b",
        target_etag="e2",
    )
    session.commit()

    with Session(engine) as fresh:
        links = store.links_for_target(fresh, job_id=jid, target_user_id="200")
    assert sorted(links) == ["people/c1", "people/c2", "people/c3"]
    assert (links["people/c2"].content_hash, links["people/c2"].target_etag) == ("h2b", "e2")

    assert store.delete_links(session, job_id=jid, target_user_id="200", source_keys=[]) == 0
    assert (
        store.delete_links(session, job_id=jid, target_user_id="200", source_keys=["people/c1", "nope"]) == 1
    )
    assert sorted(store.links_for_target(session, job_id=jid, target_user_id="200")) == [
        "people/c2",
        "people/c3",
    ]
    assert store.delete_links(session, job_id=jid, target_user_id="200") == 2
    session.commit()

    assert store.links_for_target(session, job_id=jid, target_user_id="200") == {}
    assert list(store.links_for_target(session, job_id=jid, target_user_id="300")) == ["people/c1"]


def test_replace_source_contacts_adds_changes_and_removes(engine: Engine, session: Session) -> None:
    jid = job_id(add_job(session))
    store.replace_source_contacts(
        session,
        job_id=jid,
        contacts={"people/a": ({"names": [{"givenName": "Ann"}]}, "ha"), "people/b": ({"n": "B"}, "hb")},
    )
    session.commit()

    store.replace_source_contacts(
        session,
        job_id=jid,
        contacts={"people/b": ({"n": "B2"}, "hb2"), "people/c": ({"n": "C"}, "hc")},
    )
    session.commit()

    with Session(engine) as fresh:
        cached = store.source_contacts(fresh, job_id=jid)
    assert {key: (row.payload, row.content_hash) for key, row in cached.items()} == {
        "people/b": ({"n": "B2"}, "hb2"),
        "people/c": ({"n": "C"}, "hc"),
    }


def test_source_rows_and_versions(engine: Engine, session: Session) -> None:
    """The source rows without ORM objects, and their versions without their payloads."""
    jid = job_id(add_job(session))
    store.replace_source_contacts(
        session, job_id=jid,
        contacts={"people/c1": ({"n": "C"}, "hc", None), "1234": ({"n": "U"}, "hu", "p1"), "people_x": ({}, "hx")},
    )
    session.commit()
    with Session(engine) as fresh:
        rows = store.source_rows(fresh, job_id=jid)
        assert set(rows) == {"people/c1", "1234", "people_x"}
        assert rows["people/c1"] == ({"n": "C"}, "hc", None)
        assert store.source_versions(fresh, job_id=jid)["1234"] == ("hu", "p1", None)


def test_a_source_contacts_version_is_stored_and_follows_the_source(engine: Engine, session: Session) -> None:
    """A Directory Sync stores each user's card version beside the card; a version that moved (the user's etag)
    is stored even when the card did not change, and a contact without one keeps none."""
    jid = job_id(add_job(session))
    store.replace_source_contacts(
        session, job_id=jid, contacts={"1": ({"n": "U"}, "hu", None), "2": ({"n": "V"}, "hv", None)},
        versions={"1": "v1"},
    )
    session.commit()
    with Session(engine) as fresh:
        assert store.source_cards(fresh, job_id=jid) == {"1": ({"n": "U"}, "hu", None, "v1"),
                                                         "2": ({"n": "V"}, "hv", None, None)}
    store.replace_source_contacts(
        session, job_id=jid, contacts={"1": ({"n": "U"}, "hu", None), "2": ({"n": "V"}, "hv", None)},
        versions={"1": "v2", "2": "w1"},
    )
    session.commit()
    with Session(engine) as fresh:
        assert {k: v[2] for k, v in store.source_versions(fresh, job_id=jid).items()} == {"1": "v2", "2": "w1"}
    store.replace_source_contacts(session, job_id=jid, contacts={"1": ({"n": "U"}, "hu", None)})
    session.commit()
    with Session(engine) as fresh:
        assert store.source_cards(fresh, job_id=jid) == {"1": ({"n": "U"}, "hu", None, None)}


def test_incremental_source_changes(engine: Engine, session: Session) -> None:
    jid = job_id(add_job(session))
    store.upsert_source_contact(
        session, job_id=jid, source_key="people/a", payload={"v": 1}, content_hash="h1"
    )
    store.upsert_source_contact(
        session, job_id=jid, source_key="people/b", payload={"v": 1}, content_hash="h1"
    )
    session.commit()
    store.upsert_source_contact(
        session, job_id=jid, source_key="people/a", payload={"v": 2}, content_hash="h2"
    )
    assert store.delete_source_contact(session, job_id=jid, source_key="people/b")
    assert not store.delete_source_contact(session, job_id=jid, source_key="people/zzz")
    session.commit()

    with Session(engine) as fresh:
        cached = store.source_contacts(fresh, job_id=jid)
    assert {key: row.payload for key, row in cached.items()} == {"people/a": {"v": 2}}


def test_save_link_changes_writes_and_drops_in_one_go(engine: Engine, session: Session) -> None:
    jid = job_id(add_job(session))
    store.save_link_changes(
        session,
        job_id=jid,
        target_user_id="200",
        writes=[("people/a", "people/t1", "ha", "e1"), ("people/b", "people/t2", "hb", None)],
    )
    session.commit()

    store.save_link_changes(
        session,
        job_id=jid,
        target_user_id="200",
        writes=[("people/b", "people/t2", "hb2", "e2"), ("people/c", "people/t3", "hc", "e1")],
        dropped=["people/a"],
    )
    session.commit()

    with Session(engine) as fresh:
        links = store.links_for_target(fresh, job_id=jid, target_user_id="200")
    assert {key: (link.content_hash, link.target_etag) for key, link in links.items()} == {
        "people/b": ("hb2", "e2"),
        "people/c": ("hc", "e1"),
    }


def test_a_link_written_again_is_updated_in_place_and_the_last_write_of_a_key_wins(
    engine: Engine, session: Session
) -> None:
    """Links are upserted (ON CONFLICT on the job, target and source key), not read first: a key the target
    has keeps its row, and one written twice in one call ends as its last write says."""
    jid = job_id(add_job(session))
    store.save_link_changes(session, job_id=jid, target_user_id="200",
                            writes=[("people/a", "people/t1", "ha", "e1", "p1", False)])
    session.commit()
    [first_id] = session.connection().exec_driver_sql("SELECT id FROM contact_link").scalars().all()

    store.save_link_changes(session, job_id=jid, target_user_id="200", writes=[
        ("people/a", "people/t9", "ha2", "e2", None, True),
        ("people/b", "people/t2", "hb", "e1"),
        ("people/b", "people/t3", "hb2", "e5"),
    ])
    session.commit()
    with Session(engine) as fresh:
        links = store.links_for_target(fresh, job_id=jid, target_user_id="200")
        rows = store.link_rows(fresh, job_id=jid, target_user_id="200")
    assert links["people/a"].id == first_id
    assert rows == {
        "people/a": ("people/t9", "ha2", "e2", None, True),
        "people/b": ("people/t3", "hb2", "e5", None, False),
    }
    # another target's link of the same key is another row
    store.save_link_changes(session, job_id=jid, target_user_id="300", writes=[("people/a", "people/x", "h", "e")])
    session.commit()
    with Session(engine) as fresh:
        assert store.link_counts(fresh, job_id=jid, target_user_ids=["200", "300"]) == {"200": 2, "300": 1}


def test_last_full_read_at_round_trips_as_aware_utc(engine: Engine, session: Session) -> None:
    jid = job_id(add_job(session))
    tokyo = timezone(timedelta(hours=9))
    store.upsert_target_state(
        session,
        job_id=jid,
        target_user_id="200",
        target_email="bob@x.io",
        last_full_read_at=datetime(2025, 3, 1, 21, 0, tzinfo=tokyo),
    )
    session.commit()

    with Session(engine) as fresh:
        state = store.target_states_for_job(fresh, job_id=jid)["200"]
    assert state.last_full_read_at == datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    assert state.last_full_read_at.tzinfo is UTC


def test_links_more_than_a_statement_holds_are_all_stored(engine: Engine, session: Session) -> None:
    """Links go LINK_ROWS_PER_STATEMENT rows an INSERT: a target's many links, some of them already there,
    all end as written, in as many statements as it takes."""
    from sync_core.store.links import LINK_ROWS_PER_STATEMENT

    jid = job_id(add_job(session))
    count = 2 * LINK_ROWS_PER_STATEMENT + 7
    there = [(f"people/s{i:04d}", f"people/old{i}", "h0", "e0") for i in range(0, count, 3)]
    store.save_link_changes(session, job_id=jid, target_user_id="200", writes=there)
    session.commit()
    writes = [(f"people/s{i:04d}", f"people/c{i}", f"h{i}", f"e{i}", None, i % 2 == 0) for i in range(count)]
    store.save_link_changes(session, job_id=jid, target_user_id="200", writes=writes)
    session.commit()
    with Session(engine) as fresh:
        rows = store.link_rows(fresh, job_id=jid, target_user_id="200")
    assert rows == {key: (rn, h, e, photo, adopted) for key, rn, h, e, photo, adopted in writes}


def test_link_placeholders_follow_the_drivers_paramstyle() -> None:
    from sync_core.store.links import _placeholders

    assert _placeholders("qmark", 3) == "?, ?, ?"
    assert _placeholders("format", 2) == "%s, %s"
    assert _placeholders("pyformat", 1) == "%s"


def test_many_states_are_stored_as_one_by_one_upserts_would(engine: Engine, session: Session) -> None:
    """`upsert_target_states`: fields not passed keep their value, a target without a row gets one, and
    targets of another job are untouched."""
    jid, other = job_id(add_job(session)), job_id(add_job(session, name="other"))
    for user, job in (("200", jid), ("300", jid), ("200", other)):
        store.upsert_target_state(session, job_id=job, target_user_id=user, target_email=f"{user}@x.io",
                                  sync_token="old", target_group_resource_name="contactGroups/g",
                                  echo_digest="e1", last_status=TargetStatus.forbidden, last_reason="no")
    session.commit()
    before = store.target_states_for_job(session, job_id=jid)["300"].updated_at
    session.expire_all()

    store.upsert_target_states(session, job_id=jid, changes={
        "200": {"target_email": "bob@x.io", "sync_token": "new-200", "last_status": TargetStatus.ok,
                "last_reason": "", "source_version": "v2"},
        "300": {"target_email": "300@x.io", "sync_token": "new-300", "last_status": TargetStatus.ok,
                "last_reason": "", "source_version": "v2", "echo_digest": None},
        "400": {"target_email": "dan@x.io", "sync_token": "new-400", "last_status": TargetStatus.ok},
    })
    session.commit()

    with Session(engine) as fresh:
        states = store.target_states_for_job(fresh, job_id=jid)
        theirs = store.target_states_for_job(fresh, job_id=other)
    assert set(states) == {"200", "300", "400"}
    s200, s300, s400 = states["200"], states["300"], states["400"]
    assert (s200.target_email, s200.sync_token, s200.last_status, s200.last_reason, s200.source_version) == (
        "bob@x.io", "new-200", TargetStatus.ok, "", "v2")
    assert (s200.target_group_resource_name, s200.echo_digest) == ("contactGroups/g", "e1")  # kept
    assert (s300.sync_token, s300.echo_digest, s300.target_group_resource_name) == ("new-300", None, "contactGroups/g")
    assert s300.updated_at > before
    assert (s400.target_email, s400.sync_token, s400.target_group_resource_name) == ("dan@x.io", "new-400", None)
    assert (theirs["200"].sync_token, theirs["200"].last_status) == ("old", TargetStatus.forbidden)


def test_many_results_are_stored_in_order(engine: Engine, session: Session) -> None:
    jid = job_id(add_job(session))
    run_id = store.start_run(session, job_id=jid, trigger=RunTrigger.cli).id
    assert run_id is not None
    session.commit()
    rows = [
        store.TargetResultRow(run_id=run_id, job_id=jid, target_user_id=str(n), target_email=f"u{n}@x.io",
                              status=TargetStatus.ok if n % 2 else TargetStatus.renamed, reason=f"r{n}",
                              new_email="new@x.io" if n == 2 else None, created=n, updated=0, deleted=1,
                              unchanged=10 + n)
        for n in (1, 2, 3)
    ]
    store.add_target_results(session, rows)
    session.commit()

    with Session(engine) as fresh:
        stored = store.results_for_run(fresh, run_id=run_id)
    assert [(r.target_user_id, r.target_email, r.status, r.reason, r.new_email, r.created, r.deleted, r.unchanged)
            for r in stored] == [
        ("1", "u1@x.io", TargetStatus.ok, "r1", None, 1, 1, 11),
        ("2", "u2@x.io", TargetStatus.renamed, "r2", "new@x.io", 2, 1, 12),
        ("3", "u3@x.io", TargetStatus.ok, "r3", None, 3, 1, 13),
    ]
