"""Every alert kind, defined once: its words, its buttons and the run results it stands for.

An alert kind is the one place that says what a failure is called and what an admin can do about it, so a
new kind is one `AlertKindDef` in `ALERT_KINDS` (plus its `AlertKind` member, the stored name, and the
surface's emoji); `tests/unit/test_alert_kinds.py` checks that each is complete. Nothing here knows Slack:

- `words` is a template the surface fills with its own rendering of `{who}` (the subject), `{new}` (its new
  address), `{reason}` and `{runs}` (how many runs in a row, in words), so Slack can bold and escape them
  and a terminal need not.
- a `Button` names its `Fix`; the fix is applied by `sync_core.service.fixes` (one operation per fix), or,
  for a `form` fix, finished in the form the surface opens (edit, delete) through the usual checks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from sync_core.domain.models import AlertKind
from sync_core.domain.status import TargetStatus

WORD_FIELDS = ("who", "new", "reason", "runs")


class Fix(StrEnum):
    """What a button does; each `Button` (and so each fix) is defined once below."""

    readd = "readd"  # re-add a renamed target under its new address (same user id, same contacts)
    remove = "remove"  # remove the target from the sync
    keep = "keep"  # keep the target and retry (the alert stays watched, and clears when it works again)
    use_source = "use_source"  # take the renamed source's new address as the source (same job, links)
    delete = "delete"  # delete the sync (through the usual confirmation)
    pick_group = "pick_group"  # open the edit form to choose another source group
    edit = "edit"  # open the edit form
    pause = "pause"  # pause the sync
    confirm_empty = "confirm_empty"  # the source is meant to be empty: let the next run empty the targets
    rename_label = "rename_label"  # open the edit form to give the sync's label another name
    apply_deletions = "apply_deletions"  # the shrink was meant: let the next run make the held deletions


class Form(StrEnum):
    """A fix the admin finishes in a form, with that form's own checks, rather than at one click."""

    edit = "edit"
    delete = "delete"


@dataclass(frozen=True)
class Confirm:
    """The question a dangerous button asks first. `text` may name `{subject}`."""

    title: str
    text: str
    yes: str
    no: str = "Cancel"


@dataclass(frozen=True)
class Button:
    fix: Fix
    label: str  # may name `{new}`, the address the alert offers to take
    danger: bool = False  # undoes work at the targets (or deletes): shown as such, and asks first if `confirm`
    primary: bool = False  # the fix the alert recommends
    confirm: Confirm | None = None
    form: Form | None = None


READD = Button(Fix.readd, "Re-add as {new}", primary=True)
REMOVE = Button(Fix.remove, "Remove from sync", danger=True, confirm=Confirm(
    "Remove from sync?", "The next run removes the contacts this sync put in {subject}'s account.", "Remove"))
KEEP = Button(Fix.keep, "Keep and retry later")
USE_SOURCE = Button(Fix.use_source, "Use {new} as source", primary=True)
DELETE = Button(Fix.delete, "Delete sync", danger=True, form=Form.delete)
PICK_GROUP = Button(Fix.pick_group, "Pick another group", form=Form.edit)
EDIT = Button(Fix.edit, "Edit sync", form=Form.edit)
RENAME_LABEL = Button(Fix.rename_label, "Rename this sync's label", primary=True, form=Form.edit)
PAUSE = Button(Fix.pause, "Pause sync")
CONFIRM_EMPTY = Button(Fix.confirm_empty, "It's meant to be empty", danger=True, confirm=Confirm(
    "Empty every target?", "The next run removes this sync's contacts from every target, as the source is empty.",
    "Empty them"))
APPLY_DELETIONS = Button(Fix.apply_deletions, "Apply", danger=True, confirm=Confirm(
    "Apply the held deletions?", "The next run deletes the contacts this sync held back at its targets.",
    "Apply"))

# Each fix's one button, whichever kind offers it.
BUTTONS: Mapping[Fix, Button] = {
    b.fix: b
    for b in (READD, REMOVE, KEEP, USE_SOURCE, DELETE, PICK_GROUP, EDIT, RENAME_LABEL, PAUSE, CONFIRM_EMPTY,
              APPLY_DELETIONS)
}


@dataclass(frozen=True)
class AlertKindDef:
    kind: AlertKind
    words: str  # the failure in plain words: a template of `WORD_FIELDS`
    buttons: tuple[Button, ...] = ()
    # A target whose run result is one of these is alerted as this kind...
    target_statuses: frozenset[TargetStatus] = frozenset()
    # ...and a run that failed at the source with one of these (any other source failure: `source_failed`), or
    # that ended with this warning (`no_targets`: it ran, and reached no one).
    run_errors: frozenset[TargetStatus] = frozenset()
    # Quota and temporary errors: every run retries them, so they are posted only once they last N runs.
    transient: bool = False

    @property
    def fixes(self) -> tuple[Fix, ...]:
        return tuple(b.fix for b in self.buttons)

    def button(self, fix: Fix) -> Button:
        return next(b for b in self.buttons if b.fix is fix)


def _defs(*defs: AlertKindDef) -> Mapping[AlertKind, AlertKindDef]:
    return {d.kind: d for d in defs}


ALERT_KINDS: Mapping[AlertKind, AlertKindDef] = _defs(
    AlertKindDef(
        AlertKind.target_renamed,
        "{who} was renamed to {new}. They still get the contacts (ContactSync follows Google's user id), "
        "but the sync lists the old address.",
        (READD, REMOVE), target_statuses=frozenset({TargetStatus.renamed}),
    ),
    AlertKindDef(
        AlertKind.target_missing,
        "{who} no longer exists in Google Workspace, so nothing is synced to it. ({reason})",
        (REMOVE, KEEP), target_statuses=frozenset({TargetStatus.not_found}),
    ),
    AlertKindDef(
        AlertKind.target_suspended,
        "{who} is suspended, so nothing is synced to it until it is restored.",
        (REMOVE, KEEP), target_statuses=frozenset({TargetStatus.suspended}),
    ),
    AlertKindDef(
        AlertKind.target_forbidden,
        "Google refused access to {who}'s contacts (domain-wide delegation or scopes?): {reason}",
        (REMOVE, KEEP), target_statuses=frozenset({TargetStatus.forbidden}),
    ),
    AlertKindDef(
        AlertKind.target_too_many,
        "{who} holds too many contacts for the sync to add more: {reason}",
        (REMOVE, KEEP), target_statuses=frozenset({TargetStatus.too_many_contacts}),
    ),
    AlertKindDef(
        AlertKind.target_conflict,
        "A label of this sync's name in {who}'s contacts belongs to another sync, or to them, so nothing is "
        "synced there (one label, one owner): {reason}",
        (RENAME_LABEL, REMOVE), target_statuses=frozenset({TargetStatus.conflict}),
    ),
    AlertKindDef(
        AlertKind.target_transient,
        "Syncing {who} has failed for {runs} in a row (Google quota or temporary errors); every run retries it. "
        "Last error: {reason}",
        target_statuses=frozenset({TargetStatus.quota, TargetStatus.error}), transient=True,
    ),
    AlertKindDef(
        AlertKind.source_renamed,
        "The source user {who} was renamed to {new}. The sync followed them (same Google user id); use the new "
        "address to make it official. Nothing is re-created.",
        (USE_SOURCE, DELETE),
    ),
    AlertKindDef(
        AlertKind.source_group_missing,
        "The source contact group of {who} no longer exists; nothing was changed at the targets. ({reason})",
        (PICK_GROUP, PAUSE), run_errors=frozenset({TargetStatus.source_group_missing}),
    ),
    AlertKindDef(
        AlertKind.source_missing,
        "The source user cannot be read: {reason}. Nothing was changed at the targets.",
        (EDIT, PAUSE), run_errors=frozenset({TargetStatus.not_found, TargetStatus.suspended}),
    ),
    AlertKindDef(
        AlertKind.source_empty,
        "The run stopped to protect the targets: {reason}",
        (CONFIRM_EMPTY, EDIT, PAUSE), run_errors=frozenset({TargetStatus.source_empty}),
    ),
    AlertKindDef(
        AlertKind.deletions_held,
        "Deletions were held back to protect the targets: {reason} *Apply* if the shrink was meant.",
        (APPLY_DELETIONS, PAUSE),
    ),
    AlertKindDef(AlertKind.source_failed, "The run failed at the source: {reason}", (EDIT, PAUSE)),
    AlertKindDef(
        AlertKind.source_transient,
        "The sync has failed for {runs} in a row (Google quota or temporary errors); every scheduled run retries "
        "it. Last error: {reason}",
        run_errors=frozenset({TargetStatus.quota, TargetStatus.error}), transient=True,
    ),
    AlertKindDef(
        AlertKind.target_unreachable,
        "Google could not be reached to sync {who} for {runs} in a row (network, proxy or firewall?); every run "
        "retries it. Last error: {reason}",
        target_statuses=frozenset({TargetStatus.unreachable}), transient=True,
    ),
    AlertKindDef(
        AlertKind.no_targets,
        "The sync reaches no one: {reason}",
        (EDIT, PAUSE), run_errors=frozenset({TargetStatus.no_targets}),
    ),
    AlertKindDef(
        AlertKind.source_unreachable,
        "Google could not be reached for {runs} in a row (network, proxy or firewall?); nothing was changed. Every "
        "scheduled run retries it. Last error: {reason}",
        run_errors=frozenset({TargetStatus.unreachable}), transient=True,
    ),
)

TARGET_ALERTS: Mapping[TargetStatus, AlertKind] = {
    status: d.kind for d in ALERT_KINDS.values() for status in d.target_statuses
}
RUN_ALERTS: Mapping[TargetStatus, AlertKind] = {error: d.kind for d in ALERT_KINDS.values() for error in d.run_errors}
TRANSIENT_KINDS = frozenset(d.kind for d in ALERT_KINDS.values() if d.transient)


def alert_kind(kind: AlertKind) -> AlertKindDef:
    return ALERT_KINDS[kind]
