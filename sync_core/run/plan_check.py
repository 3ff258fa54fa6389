"""The check between one account's plan and its writes: the mass-deletion guard holds back what it must (see
sync_core.sync.deletion_guard), and a plan that would take the account past Google's limit of contacts is
refused whole (nothing is written; the target reports `too_many_contacts`).

No Google call of its own: the account's size is asked for (`account_size`) only when the plan creates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sync_core.run.target_model import TargetJob
from sync_core.sync.deletion_guard import hold_source_removals
from sync_core.sync.plan import Plan


@dataclass(frozen=True)
class CheckedPlan:
    plan: Plan  # what may be written: the plan less what the guard holds
    held: int = 0  # deletions the guard held back
    refused: str = ""  # why nothing may be written at all ("" : the plan goes ahead)


def check_plan(plan: Plan, job: TargetJob, account_size: Callable[[], int]) -> CheckedPlan:
    """The plan as it may be written. `account_size`: how many contacts the account holds now."""
    held = 0
    if job.deletion_guard is not None:
        guarded = hold_source_removals(plan, job.deletion_guard)
        plan, held = guarded.plan, guarded.held
    if plan.creates:
        projected = account_size() + len(plan.creates) - len(plan.deletes)
        if projected > job.max_contacts:
            return CheckedPlan(plan, held, (
                f"would hold {projected} contacts; Google allows {job.max_contacts} per account. Nothing was written."
            ))
    return CheckedPlan(plan, held)
