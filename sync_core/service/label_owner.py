"""One label, one owner: a job is refused (at create and edit) when its label would land in an account where
another job keeps a label of the same name. Two jobs writing one label would mix their contacts, and each
would take the other's for its own to manage. Runs enforce the same rule per account (status `conflict`)
for overlaps that appear later, as targets change."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Engine as DbEngine

from sync_core import store
from sync_core.domain.models import SelectorCreate, TargetSelector
from sync_core.google.directory import DirectoryClient
from sync_core.kinds.base import Selector
from sync_core.run.targets import TargetResolver
from sync_core.service.errors import JobInputError


def check_label_is_free(
    db: DbEngine,
    directory: DirectoryClient,
    *,
    label: str,
    selectors: Sequence[SelectorCreate | TargetSelector],
    job_id: int | None = None,
    source_user_id: str | None = None,
) -> None:
    """Raise a `target_group_name` field error naming the other job when the label is taken in one of the
    accounts the selectors reach. The directory is asked only when another job uses a label of that name."""
    with store.session_scope(db) as session:
        keepers = store.label_keepers(session, label=label, other_than=job_id)
    if not keepers:
        return
    resolution = TargetResolver(directory).resolve(
        _selectors(selectors), exclude_ids={source_user_id} if source_user_id else set()
    )
    clashes = sorted((user.email, keepers[uid][1]) for uid, user in resolution.reachable.items() if uid in keepers)
    if not clashes:
        return
    email, other = clashes[0]
    more = f" (and {len(clashes) - 1} more accounts)" if len(clashes) > 1 else ""
    raise JobInputError(
        "target_group_name",
        f"the sync {other!r} already keeps a label named {label!r} in {email}'s contacts{more}; "
        "one label has one owner: give this sync's label another name",
    )


def _selectors(rows: Iterable[SelectorCreate | TargetSelector]) -> list[Selector]:
    return [Selector(r.kind.value, r.value, r.resolved_user_id) for r in rows]
