"""PURE: the mass-deletion guard, which holds deletions that look like an accident until an admin confirms.

A source that suddenly loses most of the contacts a target holds, or a target set that suddenly loses most
of the accounts the job wrote to, is more often a mistake (a group emptied by hand, a mistyped OU, a
directory clean-up gone wrong) than an intent, and two contact-sharing products lost their customers'
labels that way. So such deletions wait: the run still creates and updates, and the deletions it holds
are reported and alerted until an admin applies them (the alert's *Apply*, or `run --allow-deletions`).

Small changes are never held: the share must be passed *and* the deletions must reach the minimum, so a
ten-contact group losing six is an ordinary edit. No I/O here; `tests/unit/test_deletion_guard.py`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from sync_core.sync.plan import Plan

SOURCE_REMOVED = "source_removed"  # a plan's `Delete.reason` for a contact the source no longer has


@dataclass(frozen=True)
class GuardPolicy:
    """Hold when more than `share` of what there was at the last good run goes at once, and that going
    would delete at least `minimum` contacts."""

    share: float = 0.5
    minimum: int = 20

    def __post_init__(self) -> None:
        if not 0 < self.share <= 1:
            raise ValueError("share must be in (0, 1]")
        if self.minimum < 1:
            raise ValueError("minimum must be at least 1")


def holds(policy: GuardPolicy, *, before: int, leaving: int, deletions: int) -> bool:
    """Whether to hold. `before`: how many there were at the last good run (a target's contacts of ours, or
    the accounts the job wrote to); `leaving`: how many of those are going now; `deletions`: the contacts
    their going would delete."""
    return leaving > 0 and leaving > policy.share * max(before, leaving) and deletions >= policy.minimum


@dataclass(frozen=True)
class Held:
    """What the guard took out of one target's plan."""

    plan: Plan  # the plan to apply: its creates, updates and other deletions
    held: int  # contacts whose deletion waits


def hold_source_removals(plan: Plan, policy: GuardPolicy) -> Held:
    """One target's plan, without the deletions a shrunken source causes when the guard holds them.

    Measured against what the target holds of ours (the last good run's result, whatever the links say):
    the source keys it keeps or updates, and those the source lost. Held contacts keep their links, so an
    incremental run still sees them and deletes them once applied. Duplicates are never held."""
    removed = [d for d in plan.deletes if d.reason == SOURCE_REMOVED]
    gone = {d.source_key for d in removed}
    kept = {k.source_key for k in plan.keeps} | {u.source_key for u in plan.updates}
    if not holds(policy, before=len(kept | gone), leaving=len(gone), deletions=len(removed)):
        return Held(plan, 0)
    return Held(
        replace(
            plan,
            deletes=[d for d in plan.deletes if d.reason != SOURCE_REMOVED],
            dropped_links=[k for k in plan.dropped_links if k not in gone],
        ),
        len(removed),
    )


# The audit actions of an admin's *Apply*, and of *It's meant to be empty* (which applies the emptied
# source's deletions too): the next run after either lets every held deletion through.
APPLY_AUDIT_ACTION = "apply_deletions"
CONFIRM_EMPTY_AUDIT_ACTION = "confirm_empty_source"
APPLYING_AUDIT_ACTIONS = (APPLY_AUDIT_ACTION, CONFIRM_EMPTY_AUDIT_ACTION)
# What an edit's audit entry names when it changes what the job covers (its source, group, targets, domains
# or units): the deletions it causes are the admin's decision, not an accident, and go through.
SCOPE_FIELDS = frozenset({"targets", "source_email", "source_group_name", "directory_domains", "include_ous",
                          "exclude_ous", "include_self"})


def applies_deletions(action: str, detail: Mapping[str, Any]) -> bool:
    """Whether an audit entry is an admin's decision to delete what the guard would hold: *Apply*, *It's
    meant to be empty*, *Remove from sync*, or an edit of what the job covers."""
    if action in APPLYING_AUDIT_ACTIONS:
        return True
    if action == "fix":
        return detail.get("fix") == "remove"
    return action == "edit" and bool(SCOPE_FIELDS & detail.keys())
