"""Alert messages: one message per run for the failures it found, each in plain words with its fix buttons,
re-rendered from the alert rows whenever one is fixed, resolved or superseded; and the modal that lists
every alert of a message when there are more than fit.

Button values are `<job id>:<alert id>`; action ids are `alert_<fix>` (see `sync_core.alerts.FIXES`).
"""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, ConfirmObject, SectionBlock
from slack_sdk.models.views import View

from sync_core.alerts import FIXES, Fix
from sync_core.models import ACTIVE_ALERT_STATES, Alert, AlertKind, AlertState

from .common import (
    MAX_MESSAGE_BLOCKS,
    MAX_VIEW_BLOCKS,
    check_count,
    clip,
    context,
    escape,
    mrkdwn,
    page_bounds,
    plain,
    plural,
)

ALERTS_WITH_BUTTONS = 20  # per message: 2 blocks each, within the 50-block limit
LIST_PAGE = 40  # alerts per page of the "show all" modal
ACTION_PREFIX = "alert_"
LIST_ACTION = "alert_list"
LIST_PAGE_ACTION = "alert_list_page"
LIST_CALLBACK = "cs_alert_list"

FIX_LABELS = {
    Fix.remove: "Remove from sync",
    Fix.keep: "Keep and retry later",
    Fix.delete: "Delete sync",
    Fix.pick_group: "Pick another group",
    Fix.edit: "Edit sync",
    Fix.pause: "Pause sync",
    Fix.confirm_empty: "It's meant to be empty",
}
DANGER = frozenset({Fix.remove, Fix.delete, Fix.confirm_empty})

EMOJI = {
    AlertKind.target_renamed: ":label:",
    AlertKind.source_renamed: ":label:",
    AlertKind.target_missing: ":ghost:",
    AlertKind.source_missing: ":ghost:",
    AlertKind.target_suspended: ":no_entry_sign:",
    AlertKind.target_forbidden: ":lock:",
    AlertKind.source_failed: ":x:",
    AlertKind.target_too_many: ":card_file_box:",
    AlertKind.source_group_missing: ":file_folder:",
    AlertKind.source_empty: ":open_file_folder:",
    AlertKind.target_transient: ":hourglass:",
    AlertKind.source_transient: ":hourglass:",
    AlertKind.target_unreachable: ":electric_plug:",
    AlertKind.source_unreachable: ":electric_plug:",
}


def action_id(fix: Fix) -> str:
    return ACTION_PREFIX + fix.value


def button_value(alert: Alert) -> str:
    return f"{alert.job_id}:{alert.id}"


def parse_button_value(value: str) -> tuple[int, int] | None:
    job, _, alert = value.partition(":")
    if not (job.isdigit() and alert.isdigit()):
        return None
    return int(job), int(alert)


def fix_label(fix: Fix, alert: Alert) -> str:
    if fix is Fix.readd:
        return clip(f"Re-add as {alert.new_email}", 75)
    if fix is Fix.use_source:
        return clip(f"Use {alert.new_email} as source", 75)
    return FIX_LABELS[fix]


def describe(alert: Alert) -> str:
    """The failure in plain words (mrkdwn)."""
    who, new, reason = f"*{escape(alert.subject)}*", f"*{escape(alert.new_email or '?')}*", escape(alert.reason)
    kind = alert.kind
    if kind is AlertKind.target_renamed:
        return (f"{who} was renamed to {new}. They still get the contacts (ContactSync follows Google's user id), "
                "but the sync lists the old address.")
    if kind is AlertKind.target_missing:
        return f"{who} no longer exists in Google Workspace, so nothing is synced to it. ({reason})"
    if kind is AlertKind.target_suspended:
        return f"{who} is suspended, so nothing is synced to it until it is restored."
    if kind is AlertKind.target_forbidden:
        return f"Google refused access to {who}'s contacts (domain-wide delegation or scopes?): {reason}"
    if kind is AlertKind.target_too_many:
        return f"{who} holds too many contacts for the sync to add more: {reason}"
    if kind is AlertKind.target_transient:
        return (f"Syncing {who} has failed for {plural(alert.streak, 'run')} in a row (Google quota or temporary "
                f"errors); every run retries it. Last error: {reason}")
    if kind is AlertKind.target_unreachable:
        return (f"Google could not be reached to sync {who} for {plural(alert.streak, 'run')} in a row (network, "
                f"proxy or firewall?); every run retries it. Last error: {reason}")
    if kind is AlertKind.source_renamed:
        return (f"The source user {who} was renamed to {new}. The sync followed them (same Google user id); "
                "use the new address to make it official. Nothing is re-created.")
    if kind is AlertKind.source_group_missing:
        return f"The source contact group of {who} no longer exists; nothing was changed at the targets. ({reason})"
    if kind is AlertKind.source_missing:
        return f"The source user cannot be read: {reason}. Nothing was changed at the targets."
    if kind is AlertKind.source_empty:
        return f"The run stopped to protect the targets: {reason}"
    if kind is AlertKind.source_transient:
        return (f"The sync has failed for {plural(alert.streak, 'run')} in a row (Google quota or temporary "
                f"errors); every scheduled run retries it. Last error: {reason}")
    if kind is AlertKind.source_unreachable:
        return (f"Google could not be reached for {plural(alert.streak, 'run')} in a row (network, proxy or "
                f"firewall?); nothing was changed. Every scheduled run retries it. Last error: {reason}")
    return f"The run failed at the source: {reason}"


def status_line(alert: Alert) -> str:
    by = f"<@{alert.closed_by}> " if alert.closed_by else ""
    if alert.state is AlertState.fixed:
        return f":white_check_mark: {by}{escape(alert.outcome)}"
    if alert.state is AlertState.resolved:
        return f":white_check_mark: Resolved: {escape(alert.outcome)}"
    if alert.state is AlertState.superseded:
        return f":leftwards_arrow_with_hook: {escape(alert.outcome)}"
    if alert.state is AlertState.kept:
        return f":eyes: {by}{escape(alert.outcome)}"
    return ""


def alert_text(alert: Alert) -> str:
    line = status_line(alert)
    body = describe(alert)
    return clip(f"{EMOJI.get(alert.kind, ':warning:')} {body}" + (f"\n{line}" if line else ""), 2900)


def fixes_for(alert: Alert) -> list[Fix]:
    if alert.state is AlertState.open:
        return list(FIXES.get(alert.kind, ()))
    if alert.state is AlertState.kept:
        return [f for f in FIXES.get(alert.kind, ()) if f is not Fix.keep]
    return []


def _buttons(alert: Alert) -> ActionsBlock | None:
    fixes = fixes_for(alert)
    if not fixes:
        return None
    elements = []
    for fix in fixes:
        confirm = None
        if fix is Fix.remove:
            confirm = ConfirmObject(
                title=plain("Remove from sync?", 100),
                text=mrkdwn(f"The next run removes the contacts this sync put in {escape(alert.subject)}'s account."),
                confirm=plain("Remove", 30), deny=plain("Cancel", 30),
            )
        elif fix is Fix.confirm_empty:
            confirm = ConfirmObject(
                title=plain("Empty every target?", 100),
                text=mrkdwn("The next run removes this sync's contacts from every target, as the source is empty."),
                confirm=plain("Empty them", 30), deny=plain("Cancel", 30),
            )
        elements.append(ButtonElement(
            text=plain(fix_label(fix, alert), 75), action_id=action_id(fix), value=button_value(alert),
            style="danger" if fix in DANGER else ("primary" if fix in (Fix.readd, Fix.use_source) else None),
            confirm=confirm,
        ))
    return ActionsBlock(block_id=f"alert-{alert.id}", elements=elements)


def headline(job_name: str, alerts: Sequence[Alert]) -> str:
    active = [a for a in alerts if a.state in ACTIVE_ALERT_STATES]
    name = escape(job_name)
    if not active:
        what = "the problem here is" if len(alerts) == 1 else f"all {len(alerts)} problems here are"
        return clip(f":white_check_mark: Sync *{name}*: {what} dealt with.", 3000)
    if len(alerts) == 1:
        return clip(f":warning: Sync *{name}* needs attention.", 3000)
    return clip(f":warning: Sync *{name}* needs attention: {len(active)} of {plural(len(alerts), 'problem')} open.",
                3000)


def alert_message(job_name: str, alerts: Sequence[Alert], *, channel: str = "", ts: str = "") -> list[Block]:
    """One run's alerts in one message: the first `ALERTS_WITH_BUTTONS` with their buttons, then a summary
    and a button that lists them all (in a modal, paginated)."""
    blocks: list[Block] = [SectionBlock(text=mrkdwn(headline(job_name, alerts)))]
    for alert in alerts[:ALERTS_WITH_BUTTONS]:
        blocks.append(SectionBlock(block_id=f"alert-text-{alert.id}", text=mrkdwn(alert_text(alert))))
        buttons = _buttons(alert)
        if buttons is not None:
            blocks.append(buttons)
    rest = list(alerts[ALERTS_WITH_BUTTONS:])
    if rest:
        open_rest = sum(1 for a in rest if a.state in ACTIVE_ALERT_STATES)
        kinds: dict[str, int] = {}
        for a in rest:
            kinds[_kind_word(a.kind)] = kinds.get(_kind_word(a.kind), 0) + 1
        summary = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items(), key=lambda kv: -kv[1]))
        text = f"…and {len(rest)} more ({summary}); {open_rest} still open."
        accessory = (ButtonElement(text=plain("Show all", 75), action_id=LIST_ACTION, value=f"{channel}|{ts}")
                     if channel and ts else None)
        blocks.append(SectionBlock(block_id="alert-more", text=mrkdwn(clip(text, 3000)), accessory=accessory))
    blocks.append(context("ContactSync retries every failing target at each run and updates this message "
                          "when a problem is fixed or clears."))
    return check_count(blocks, MAX_MESSAGE_BLOCKS)


def alert_fallback(job_name: str, alerts: Sequence[Alert]) -> str:
    return clip(headline(job_name, alerts), 3000)


def _kind_word(kind: AlertKind) -> str:
    return kind.value.removeprefix("target_").removeprefix("source_").replace("_", " ")


def alert_list_view(job_name: str, alerts: Sequence[Alert], *, channel: str, ts: str, page: int = 0) -> View:
    """Every alert of one message, `LIST_PAGE` to a page (read-only; the fixes are in `/contactsync edit`)."""
    page, first, end = page_bounds(len(alerts), page, LIST_PAGE)
    blocks: list[Block] = [SectionBlock(text=mrkdwn(headline(job_name, alerts)))]
    for alert in alerts[first:end]:
        blocks.append(SectionBlock(text=mrkdwn(alert_text(alert))))
    blocks.append(context(f"Showing {first + 1}–{end} of {len(alerts)}. Change targets in bulk with "
                          f"`/contactsync edit {escape(job_name)}`."))
    nav = []
    if page > 0:
        nav.append(ButtonElement(text=plain("◀ Previous", 75), action_id=LIST_PAGE_ACTION,
                                 value=f"{channel}|{ts}|{page - 1}"))
    if end < len(alerts):
        nav.append(ButtonElement(text=plain("Next ▶", 75), action_id=LIST_PAGE_ACTION,
                                 value=f"{channel}|{ts}|{page + 1}"))
    if nav:
        blocks.append(ActionsBlock(block_id="alert-list-nav", elements=nav))
    return View(type="modal", callback_id=LIST_CALLBACK, title=plain("Sync alerts", 24), close=plain("Close", 24),
                blocks=check_count(blocks, MAX_VIEW_BLOCKS))
