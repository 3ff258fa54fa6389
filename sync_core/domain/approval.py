"""The two-person rule (`CONTACTSYNC_APPROVAL_ABOVE`): which changes wait for a second admin. Pure.

A change is described by `ChangeFacts` (what it would do, as the service found when checking it); each rule of
`RULES` says in words why it needs a second admin, or None. A new trigger is one more rule (and, if it needs a
fact the others do not, one more field of `ChangeFacts` that the service fills in): e.g. editors' delete rights
set `editors_may_delete` and are caught by `_editors_delete`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class ChangeFacts:
    """What a create, edit or delete would do."""

    reach: int | None = None  # the accounts its targets reach after the change (None: the targets do not change)
    remove_contacts: bool = False  # a delete that removes the contacts it wrote (`--remove-contacts`)
    editors_may_delete: bool = False  # the change turns on editors' delete rights (issue 21 sets it)


Rule = Callable[[ChangeFacts, int], str | None]


def _too_many_targets(facts: ChangeFacts, above: int) -> str | None:
    if facts.reach is not None and facts.reach > above:
        return f"it reaches {facts.reach} accounts (more than {above})"
    return None


def _removes_contacts(facts: ChangeFacts, above: int) -> str | None:
    return "it deletes the sync with its contacts" if facts.remove_contacts else None


def _editors_delete(facts: ChangeFacts, above: int) -> str | None:
    return "it lets editors delete contacts" if facts.editors_may_delete else None


RULES: tuple[Rule, ...] = (_too_many_targets, _removes_contacts, _editors_delete)


def second_admin_reasons(facts: ChangeFacts, above: int | None) -> list[str]:
    """Why this change needs a second admin (empty: it does not). The rule is off when `above` is None."""
    if above is None:
        return []
    return [reason for rule in RULES if (reason := rule(facts, above)) is not None]
