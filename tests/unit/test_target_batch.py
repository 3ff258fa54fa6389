"""A run's finished targets, and the links its targets hand on as they write, are stored many to a commit: by
count, by links, by age, and whatever is left at the end."""

from __future__ import annotations

from typing import Any

from sync_core.domain.status import TargetStatus
from sync_core.kinds.base import TargetUser
from sync_core.run.run_records import RunRecords, TargetBatch
from sync_core.run.target_model import TargetOutcome
from sync_core.sync.plan import Plan


class Stored:
    def __init__(self) -> None:
        self.commits: list[list[str]] = []
        self.handed: list[list[tuple[str, int]]] = []  # each commit's handed-on links: (user id, how many)

    def persist_many(self, entries: list[tuple[int, TargetUser, TargetOutcome, Any]], *,
                     handed: Any = ()) -> None:
        self.commits.append([user.email for _, user, _, _ in entries])
        self.handed.append([(user_id, len(writes)) for _, user_id, writes in handed])


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def user(n: int) -> TargetUser:
    return TargetUser(str(n), f"u{n}@example.com", TargetStatus.ok)


def batch(stored: Stored, clock: Clock, size: int = 3) -> TargetBatch:
    records: RunRecords = stored  # type: ignore[assignment]  # only persist_many is used
    return TargetBatch(records, size, max_age=5.0, clock=clock)


def test_finished_targets_are_stored_a_batch_at_a_time_and_the_rest_at_the_end() -> None:
    stored, clock = Stored(), Clock()
    finished = batch(stored, clock)
    for n in range(7):
        finished.add(1, user(n), TargetOutcome(), None)
    assert stored.commits == [["u0@example.com", "u1@example.com", "u2@example.com"],
                              ["u3@example.com", "u4@example.com", "u5@example.com"]]
    finished.flush()
    finished.flush()  # nothing left: no empty commit
    assert stored.commits[2:] == [["u6@example.com"]]


def test_a_target_waits_no_longer_than_max_age_for_a_batch_to_fill() -> None:
    stored, clock = Stored(), Clock()
    finished = batch(stored, clock, size=100)
    finished.add(1, user(0), TargetOutcome(), None)
    clock.now += 4.9
    finished.add(1, user(1), TargetOutcome(), None)
    assert stored.commits == []
    clock.now += 0.2  # the oldest has waited 5.1 s: the next one to finish stores them all
    finished.add(1, user(2), TargetOutcome(), None)
    assert stored.commits == [["u0@example.com", "u1@example.com", "u2@example.com"]]
    clock.now += 60  # the age runs from the oldest of a new batch, not from the last commit
    finished.add(1, user(3), TargetOutcome(), None)
    assert stored.commits[1:] == []


def test_a_waiting_target_keeps_no_plan() -> None:
    stored, clock = Stored(), Clock()
    outcome = TargetOutcome(plan=Plan())
    batch(stored, clock, size=100).add(1, user(0), outcome, None)
    assert outcome.plan is None


def test_targets_carrying_many_links_are_stored_before_the_batch_is_full() -> None:
    from sync_core.run.target_model import LinkWrite

    stored, clock = Stored(), Clock()
    records: RunRecords = stored  # type: ignore[assignment]
    finished = TargetBatch(records, 100, max_links=1500, max_age=5.0, clock=clock)
    links = [LinkWrite(f"k{i}", f"people/c{i}", "h", "e") for i in range(1000)]
    finished.add(1, user(0), TargetOutcome(link_writes=list(links)), None)
    assert stored.commits == []
    finished.add(1, user(1), TargetOutcome(link_writes=list(links)), None)  # 2,000 links held: stored now
    assert stored.commits == [["u0@example.com", "u1@example.com"]]
    finished.add(1, user(2), TargetOutcome(link_writes=list(links)), None)  # the count starts again
    assert stored.commits[1:] == []


def test_links_handed_on_wait_for_the_next_commit_and_count_towards_its_size() -> None:
    from sync_core.run.target_model import LinkWrite

    stored, clock = Stored(), Clock()
    records: RunRecords = stored  # type: ignore[assignment]
    finished = TargetBatch(records, 100, max_links=500, max_age=5.0, clock=clock)
    batch_links = [LinkWrite(f"k{i}", f"people/c{i}", "h", "e") for i in range(200)]
    finished.add_links(1, "7", batch_links)
    finished.add_links(1, "8", batch_links)
    assert stored.commits == []  # 400 links waiting: no commit per batch written
    finished.add(1, user(7), TargetOutcome(), None)  # the target whose links wait ends: stored with them
    assert stored.commits == []
    finished.add_links(1, "8", batch_links)  # 600: stored now, links and the finished target in one commit
    assert stored.commits == [["u7@example.com"]] and stored.handed == [[("7", 200), ("8", 200), ("8", 200)]]
    finished.add_links(1, "9", batch_links[:10])
    clock.now += 5.1  # links wait no longer than max_age either
    finished.add_links(1, "9", batch_links[:10])
    assert stored.handed[1:] == [[("9", 10), ("9", 10)]]
