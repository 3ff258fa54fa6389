"""The one vocabulary of results (the failure taxonomy), per target and per run; docs/operations.md says what
each means to an operator.

A target's run ends in one `TargetStatus`; a run that fails as a whole says why with the same vocabulary,
plus the members only a source can cause (`Run.error_kind`). A new status is one member here, its place in
`FAILED_STATUSES` (or not), and the alert kind that stands for it (`sync_core.alerting.alert_kinds`;
`tests/unit/test_alert_kinds.py` checks every failure has one). Values are stored as plain strings, so adding
one needs no migration.

This module imports nothing of ContactSync: the target kinds, the Google errors and the tables all use it.
"""

from __future__ import annotations

from enum import StrEnum


class TargetStatus(StrEnum):
    ok = "ok"
    renamed = "renamed"  # synced, by user id, but the sync lists an old address
    not_found = "not_found"
    suspended = "suspended"
    forbidden = "forbidden"  # delegation or scopes
    quota = "quota"  # a daily quota, or waiting too long for one
    unreachable = "unreachable"  # Google could not be reached (network): retried briefly, then reported
    error = "error"  # anything else, with a short reason
    too_many_contacts = "too_many_contacts"
    removed = "removed"  # no longer a target: what the sync wrote there is gone
    conflict = "conflict"  # another job keeps a label of this job's name in the account: nothing written
    # Only a whole run fails with these: the source's two (before any target), and the run's own two (the
    # store or the lease lost while targets were in flight).
    source_group_missing = "source_group_missing"
    source_empty = "source_empty"
    database = "database"  # the store went away during the run (a restart, a lost connection)
    lease_lost = "lease_lost"  # the run could not renew its lease and stopped writing
    # A run's warning, not a failure: it ran, but its targets resolve to no one (`RunStatus.no_targets`).
    no_targets = "no_targets"


# A target with one of these did not get the contacts (a suspended member of a group is left out, not failed).
FAILED_STATUSES = frozenset({
    TargetStatus.not_found,
    TargetStatus.suspended,
    TargetStatus.forbidden,
    TargetStatus.quota,
    TargetStatus.unreachable,
    TargetStatus.error,
    TargetStatus.too_many_contacts,
    TargetStatus.conflict,
})

# Results that need nothing from anyone; every other one is shown as a failing target.
SETTLED_STATUSES = frozenset({TargetStatus.ok, TargetStatus.removed})
