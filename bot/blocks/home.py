"""The App Home tab: a header with Create, then every job (paginated) with its buttons."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, DividerBlock, HeaderBlock, SectionBlock
from slack_sdk.models.views import View

from .common import MAX_VIEW_BLOCKS, check_count, context, escape, mrkdwn, page_bounds, plain
from .jobs import JobRow, editors_text, job_line, recent_runs_text

HOME_JOBS_PER_PAGE = 25  # 3 blocks each (line, recent runs, buttons): within the 100-block limit


def _job_actions(row: JobRow) -> ActionsBlock:
    name = row.job.name
    if row.job.deleting:  # only the delete is left to do (run, edit and resume are refused)
        return ActionsBlock(elements=[
            ButtonElement(text=plain("Retry delete", 75), action_id="home_delete", value=name, style="danger"),
        ])
    toggle = ("home_resume", "Resume") if not row.job.enabled else ("home_pause", "Pause")
    return ActionsBlock(elements=[
        ButtonElement(text=plain("Run now", 75), action_id="home_run", value=name, style="primary"),
        ButtonElement(text=plain("Edit", 75), action_id="home_edit", value=name),
        ButtonElement(text=plain(toggle[1], 75), action_id=toggle[0], value=name),
        ButtonElement(text=plain("Delete", 75), action_id="home_delete", value=name, style="danger"),
    ])


def home_view(rows: Sequence[JobRow], *, is_admin: bool, page: int = 0, notice: str | None = None,
              mine: Sequence[Block] | None = None) -> View:
    """`mine`: a non-admin's own syncs with their buttons (bot.blocks.members), above every sync."""
    blocks: list[Block] = [HeaderBlock(text=plain("ContactSync", 150))]
    header_text = f"{len(rows)} sync{'s' if len(rows) != 1 else ''} keep Google contact groups in step."
    if is_admin:
        blocks.append(SectionBlock(
            text=mrkdwn(header_text),
            accessory=ButtonElement(text=plain("Create sync", 75), action_id="home_create", style="primary"),
        ))
    else:
        blocks.append(SectionBlock(text=mrkdwn(header_text + " Only ContactSync admins can change them.")))
    if notice:
        blocks.append(SectionBlock(text=mrkdwn(notice)))
    if mine is not None:
        blocks += [DividerBlock(), HeaderBlock(text=plain("Your syncs", 150)), *mine, DividerBlock(),
                   HeaderBlock(text=plain("Every sync", 150))]
    blocks.append(DividerBlock())
    page, first, end = page_bounds(len(rows), page, HOME_JOBS_PER_PAGE)
    for row in rows[first:end]:
        blocks.append(SectionBlock(text=mrkdwn(job_line(row))))
        rules = "" if row.field_rules == "copies default fields" else f" · {escape(row.field_rules)}"
        editors = editors_text(row.editors, row.job.editors_can_delete, row.open_conflicts)
        blocks.append(context(recent_runs_text(row.runs, row.source_change) + rules
                              + (f"\n{editors}" if editors else "")))
        if is_admin:
            blocks.append(_job_actions(row))
    if not rows:
        blocks.append(context("No syncs yet." + (" Press *Create sync* to add one." if is_admin else "")))
    if len(rows) > HOME_JOBS_PER_PAGE:
        nav = []
        if page > 0:
            nav.append(ButtonElement(text=plain("◀ Previous", 75), action_id="home_page", value=str(page - 1)))
        if end < len(rows):
            nav.append(ButtonElement(text=plain("Next ▶", 75), action_id="home_page", value=str(page + 1)))
        blocks.append(context(f"Showing {first + 1}–{end} of {len(rows)}"))
        blocks.append(ActionsBlock(block_id="home_nav", elements=nav))
    return View(type="home", callback_id="cs_home", blocks=check_count(blocks, MAX_VIEW_BLOCKS),
                private_metadata=str(page))

