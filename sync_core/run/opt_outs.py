"""A run's side of opting out: the targets who left a job are kept out of its targets however the selectors
resolve, and a leaver who left by choice is removed like any other leaver (the contacts the job wrote there,
and its label once empty) without waiting for an admin: the mass-deletion guard is for selectors that shrink
by mistake, and one person's explicit choice is not that."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import Engine as DbEngine

from sync_core import store
from sync_core.kinds.base import TargetUser


def opted_out_ids(db: DbEngine, job_id: int) -> set[str]:
    """The Google ids of the job's targets who left it."""
    with store.session_scope(db) as session:
        return store.opted_out_ids(session, job_id=job_id)


def split_leavers(
    leavers: Sequence[TargetUser], opted_out: Collection[str]
) -> tuple[list[TargetUser], list[TargetUser]]:
    """(the leavers who opted out, the others): only the others are for the deletion guard to weigh."""
    chose = [u for u in leavers if u.user_id in opted_out]
    return chose, [u for u in leavers if u.user_id not in opted_out]
