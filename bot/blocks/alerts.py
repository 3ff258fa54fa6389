"""Alert messages: one message per run for the failures it found, each in plain words with its fix buttons,
re-rendered from the alert rows whenever one is fixed, resolved or superseded; and the modal that lists
every alert of a message when there are more than fit.

What an alert says and which buttons it has are its kind's (`sync_core.alerting.alert_kinds`); this module only puts
them in Block Kit, with the one Slack-only thing a kind has: its emoji (`EMOJI`). Button values are
`<job id>:<alert id>`; action ids are `alert_<fix>`.
"""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, ConfirmObject, SectionBlock
from slack_sdk.models.views import View

from sync_core.service import ACTIVE_ALERT_STATES, Alert, AlertKind, AlertState, Button, Fix, alert_kind

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

# Each alert kind's emoji, in front of its words; `tests/unit/test_alert_kinds.py` checks every kind has one.
EMOJI = {
    AlertKind.target_renamed: ":label:",
    AlertKind.source_renamed: ":label:",
    AlertKind.target_missing: ":ghost:",
    AlertKind.source_missing: ":ghost:",
    AlertKind.target_suspended: ":no_entry_sign:",
    AlertKind.target_forbidden: ":lock:",
    AlertKind.source_failed: ":x:",
    AlertKind.target_too_many: ":card_file_box:",
    AlertKind.target_conflict: ":busts_in_silhouette:",
    AlertKind.source_group_missing: ":file_folder:",
    AlertKind.source_empty: ":open_file_folder:",
    AlertKind.deletions_held: ":shield:",
    AlertKind.target_transient: ":hourglass:",
    AlertKind.source_transient: ":hourglass:",
    AlertKind.target_unreachable: ":electric_plug:",
    AlertKind.source_unreachable: ":electric_plug:",
    AlertKind.no_targets: ":bust_in_silhouette:",
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


def fix_label(button: Button, alert: Alert) -> str:
    return clip(button.label.format(new=alert.new_email), 75)


def describe(alert: Alert) -> str:
    """The failure in plain words (mrkdwn): the kind's words, with the subject and new address in bold."""
    return alert_kind(alert.kind).words.format(
        who=f"*{escape(alert.subject)}*", new=f"*{escape(alert.new_email or '?')}*", reason=escape(alert.reason),
        runs=plural(alert.streak, "run"),
    )


# How a closed alert reads, by its state: under the alert (STATUS_LINES), and to someone who presses one
# of its buttons afterwards (ALREADY_DONE, followed by "Nothing was changed."). {by} is "@admin " or "";
# {who} is "@admin" or "an admin".
STATUS_LINES = {
    AlertState.fixed: ":white_check_mark: {by}{outcome}",
    AlertState.resolved: ":white_check_mark: Resolved: {outcome}",
    AlertState.superseded: ":leftwards_arrow_with_hook: {outcome}",
    AlertState.kept: ":eyes: {by}{outcome}",
}
ALREADY_DONE = {
    AlertState.fixed: "Already done: {by}{outcome}",
    AlertState.kept: "Already kept by {who}.",
    AlertState.resolved: "Already resolved: {outcome}.",
}
OUT_OF_DATE = "This alert is out of date: {outcome}"


def _closed_words(template: str, alert: Alert) -> str:
    who = f"<@{alert.closed_by}>" if alert.closed_by else ""
    return template.format(by=f"{who} " if who else "", who=who or "an admin", outcome=escape(alert.outcome))


def status_line(alert: Alert) -> str:
    template = STATUS_LINES.get(alert.state)
    return _closed_words(template, alert) if template else ""


def already_text(alert: Alert) -> str:
    """The answer to a button pressed on an alert that is no longer open."""
    words = _closed_words(ALREADY_DONE.get(alert.state, OUT_OF_DATE), alert)
    return f":information_source: {words} Nothing was changed."


def alert_text(alert: Alert) -> str:
    line = status_line(alert)
    body = describe(alert)
    return clip(f"{EMOJI.get(alert.kind, ':warning:')} {body}" + (f"\n{line}" if line else ""), 2900)


def buttons_for(alert: Alert) -> list[Button]:
    buttons = alert_kind(alert.kind).buttons
    if alert.state is AlertState.open:
        return list(buttons)
    if alert.state is AlertState.kept:
        return [b for b in buttons if b.fix is not Fix.keep]
    return []


def _button(button: Button, alert: Alert) -> ButtonElement:
    ask = button.confirm
    confirm = None if ask is None else ConfirmObject(
        title=plain(ask.title, 100), text=mrkdwn(ask.text.format(subject=escape(alert.subject))),
        confirm=plain(ask.yes, 30), deny=plain(ask.no, 30),
    )
    style = "danger" if button.danger else ("primary" if button.primary else None)
    return ButtonElement(text=plain(fix_label(button, alert), 75), action_id=action_id(button.fix),
                         value=button_value(alert), style=style, confirm=confirm)


def _buttons(alert: Alert) -> ActionsBlock | None:
    buttons = buttons_for(alert)
    if not buttons:
        return None
    return ActionsBlock(block_id=f"alert-{alert.id}", elements=[_button(b, alert) for b in buttons])


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
