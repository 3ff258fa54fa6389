"""What a run's commit stores of its targets' links: those handed on as they wrote, then each finished target's
own, in the order they came (a later write of a key wins), with the targets' states."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import Session

from sync_core import store
from sync_core.domain.status import TargetStatus
from sync_core.kinds.base import TargetUser
from sync_core.run.run_records import RunRecords
from sync_core.run.target_model import LinkWrite, TargetOutcome
from tests.store.helpers import add_job, job_id


def test_links_handed_on_and_a_finished_target_s_own_are_stored_in_one_commit_the_last_word_winning(
    engine: Engine, session: Session
) -> None:
    jid = job_id(add_job(session))
    records = RunRecords(engine)
    batch = records.target_batch(100)
    first = [LinkWrite(f"people/s{i}", f"people/c{i}", "h1", "e1") for i in range(300)]  # two statements' worth
    batch.add_links(jid, "200", first[:200])
    batch.add_links(jid, "300", [LinkWrite("people/s0", "people/x0", "h1", "e1")])
    batch.add_links(jid, "200", first[200:])
    # Its sync started again from a full read (a stale etag) and wrote people/s5 once more: that write is its outcome's.
    again = LinkWrite("people/s5", "people/c5", "h2", "e2")
    batch.add(jid, TargetUser("200", "bob@x.io", TargetStatus.ok),
              TargetOutcome(sync_token="tok", link_writes=[again]), None)
    with Session(engine) as fresh:
        assert store.links_for_target(fresh, job_id=jid, target_user_id="200") == {}  # nothing before the commit
    batch.flush()

    with Session(engine) as fresh:
        links = store.links_for_target(fresh, job_id=jid, target_user_id="200")
        other = store.links_for_target(fresh, job_id=jid, target_user_id="300")
        states = store.target_states_for_job(fresh, job_id=jid)
    assert len(links) == 300 and set(other) == {"people/s0"}
    assert (links["people/s5"].content_hash, links["people/s5"].target_etag) == ("h2", "e2")
    assert (links["people/s6"].content_hash, links["people/s6"].target_etag) == ("h1", "e1")
    assert states["200"].sync_token == "tok"
