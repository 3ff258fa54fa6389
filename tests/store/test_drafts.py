"""Drafts in the database (`DraftBook`), on SQLite and PostgreSQL: any replica reads what another saved;
a save based on an older version is refused; drafts expire a day after their last save."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from sync_core.service import DRAFT_TTL, DraftBook


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, 12, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def test_two_replicas_share_a_draft_and_the_stale_save_is_refused(engine: Engine) -> None:
    clock = Clock()
    replica_a, replica_b = DraftBook(engine, clock=clock), DraftBook(engine, clock=clock)
    made = replica_a.new("U1", '{"name":""}')
    assert made.version == 1
    seen_by_b = replica_b.get(made.id)
    assert seen_by_b is not None and (seen_by_b.owner, seen_by_b.payload) == ("U1", '{"name":""}')

    assert replica_a.save(made.id, version=1, payload='{"name":"A"}') == 2
    assert replica_b.save(made.id, version=1, payload='{"name":"B"}') is None  # based on version 1: stale
    current = replica_b.get(made.id)
    assert current is not None and (current.version, current.payload) == (2, '{"name":"A"}')
    assert replica_b.save(made.id, version=2, payload='{"name":"B"}') == 3

    replica_b.drop(made.id)
    assert replica_a.get(made.id) is None
    assert replica_a.save(made.id, version=3, payload="{}") is None


def test_drafts_expire_a_day_after_their_last_save_and_are_cleaned_away(engine: Engine) -> None:
    clock = Clock()
    book = DraftBook(engine, clock=clock)
    old = book.new("U1", "{}")
    clock.now += DRAFT_TTL - timedelta(minutes=1)
    assert book.save(old.id, version=1, payload='{"a":1}') == 2  # a save keeps it a day longer
    clock.now += DRAFT_TTL - timedelta(minutes=1)
    assert book.get(old.id) is not None
    clock.now += timedelta(minutes=2)
    assert book.get(old.id) is None
    assert book.save(old.id, version=2, payload="{}") is None  # expired: nothing to carry on
    book.new("U2", "{}")  # making a draft deletes the expired ones
    clock.now -= timedelta(days=30)
    assert book.get(old.id) is None
