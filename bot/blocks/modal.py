"""The create/edit modal: step 1 (details) and step 2 (targets). Pure: a `Draft` in, a `View` out.

Every input block id is `<field>.<rev>`: bumping the draft's `rev` gives Slack new block ids, which is
the only way to make it re-apply initial values (e.g. to pre-fill the target group name). `field_of`
reads the field back, and `block_id` names the block an error must be attached to.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    CheckboxesElement,
    ConfirmObject,
    ConversationSelectElement,
    DividerBlock,
    ExternalDataMultiSelectElement,
    ExternalDataSelectElement,
    InputBlock,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticMultiSelectElement,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from sync_core.domain.fields import SELECTABLE
from sync_core.service import JOB_NAME_MAX, TARGET_KINDS, EditPreview, TargetPicker, TargetRow

from ..drafts import Draft
from .common import (
    MAX_OPTION_VALUE,
    MAX_OPTIONS,
    MAX_VIEW_BLOCKS,
    check_count,
    clip,
    context,
    escape,
    mrkdwn,
    option,
    page_bounds,
    plain,
)

DETAILS_CALLBACK = "cs_details"
TARGETS_CALLBACK = "cs_targets"
CONFIRM_EDIT_CALLBACK = "cs_confirm_edit"
CONFIRM_LINES = 40  # accounts listed by name on the confirm step; the rest are counted
TARGETS_PER_PAGE = 20
KIND_LABELS = {"personal": "Personal Contacts", "directory": "Directory Contacts"}
MY_CONTACTS = "my_contacts"
OPT_OUT = "opt_out"  # a target may leave the sync (Leave)
JOINABLE = "joinable"  # anyone may join it (Join)
INCLUDE_SELF = "include_self"  # Directory Sync: a target also gets their own card
INCLUDE_ALIASES = "include_aliases"  # Directory Sync: alias addresses are copied too
INCLUDE_SHARED = "include_shared_contacts"  # Directory Sync: the domain's shared contacts join the users
MATCH_EXISTING = "match_existing"  # adopt a target's own contact holding the source contact's email
EDITORS = "editors"  # Personal Sync: who may edit the shared label (selector texts, as targets are)
EDITORS_SELECT = "editors_select"  # its search: users, groups, domains, roles, units, as step 2 offers them
EDITORS_CAN_DELETE = "editors_can_delete"  # an editor's deletion deletes the contact everywhere


def pickers() -> list[tuple[str, TargetPicker]]:
    """(kind name, picker) of every registered target kind, in registry order: step 2 shows one input each."""
    return [(name, kind.picker) for name, kind in TARGET_KINDS.items()]


def block_id(field: str, rev: int) -> str:
    return f"{field}.{rev}"


def field_of(block: str) -> str:
    return block.rsplit(".", 1)[0]


def metadata(draft: Draft) -> str:
    """The draft this view shows, and the version it was rendered from (a click on an older view is stale)."""
    return json.dumps({"draft": draft.id, "v": draft.version})


# --- step 1 --------------------------------------------------------------------------------------
def _text_input(field: str, draft: Draft, label: str, value: str, *, optional: bool = False,
                multiline: bool = False, max_length: int | None = None, hint: str | None = None,
                placeholder: str | None = None) -> InputBlock:
    return InputBlock(
        block_id=block_id(field, draft.rev),
        label=plain(label, 2000),
        element=PlainTextInputElement(
            action_id=field, initial_value=value or None, multiline=multiline, max_length=max_length,
            placeholder=plain(placeholder, 150) if placeholder else None,
        ),
        optional=optional,
        hint=plain(hint, 2000) if hint else None,
    )


def _kind_block(draft: Draft) -> Block:
    if draft.mode == "request":  # a member asks for a Personal Sync of their own contacts
        return SectionBlock(text=mrkdwn(f"*Type:* {KIND_LABELS['personal']}"))
    if draft.mode == "edit":
        return SectionBlock(text=mrkdwn(f"*Type:* {KIND_LABELS[draft.kind]} (fixed once created)"))
    kinds = [option(label, kind) for kind, label in KIND_LABELS.items()]
    return InputBlock(
        block_id=block_id("kind", draft.rev),
        label=plain("Type"),
        element=StaticSelectElement(
            action_id="kind_select", options=kinds, initial_option=option(KIND_LABELS[draft.kind], draft.kind)
        ),
        dispatch_action=True,
    )


def _personal_blocks(draft: Draft) -> list[Block]:
    initial: Option | None = None
    if draft.source_email:
        initial = option(draft.source_label or draft.source_email, draft.source_email)
    blocks: list[Block] = [SectionBlock(block_id="own_source", text=mrkdwn(
        f"*Source:* your own Google account, {escape(draft.source_email or '')}"))] if draft.mode == "request" else [
        InputBlock(
            block_id=block_id("source", draft.rev),
            label=plain("Source user"),
            element=ExternalDataSelectElement(
                action_id="source_user", placeholder=plain("Search the directory by name or email", 150),
                initial_option=initial, min_query_length=1,
            ),
            dispatch_action=True,
            hint=plain("Whose contact group is shared."),
        )
    ]
    if not draft.source_email:
        blocks.append(context("Pick a source user to load their contact groups."))
    elif draft.groups_error:
        blocks.append(SectionBlock(block_id="no_groups", text=mrkdwn(
            f":x: Could not read the contact groups of {escape(draft.source_email)}: {escape(draft.groups_error)}")))
    elif draft.groups is None:
        blocks.append(context(f"Loading the contact groups of {escape(draft.source_email)}…"))
    elif not draft.groups:
        who = escape(draft.source_email)
        blocks.append(SectionBlock(
            block_id="no_groups",
            text=mrkdwn(f":warning: *{who}* has no contact groups. Ask them to create a label in Google "
                        "Contacts, or pick another source user."),
        ))
    else:
        names = draft.groups[:MAX_OPTIONS]
        group_options = [option(n, n) for n in names]
        chosen = next((o for o in group_options if o.value == draft.group_name), None)
        blocks.append(InputBlock(
            block_id=block_id("group", draft.rev),
            label=plain("Source contact group"),
            element=StaticSelectElement(action_id="group_select", options=group_options, initial_option=chosen,
                                        placeholder=plain("Choose a contact group", 150)),
            dispatch_action=True,
        ))
        if len(draft.groups) > MAX_OPTIONS:
            blocks.append(context(f"Showing the first {MAX_OPTIONS} of {len(draft.groups)} groups."))
    blocks.append(_text_input("target_group_name", draft, "Target group name", draft.target_group_name,
                              optional=True, max_length=255,
                              hint="The contact group created at each target; defaults to the source group's name."))
    blocks.append(_options_block(draft))
    return blocks


def _options_block(draft: Draft) -> InputBlock:
    choices = [(option("Add to My Contacts", MY_CONTACTS), draft.add_to_my_contacts)]
    if draft.kind == "directory":
        choices += [(option("Each target also gets their own card", INCLUDE_SELF), draft.include_self),
                    (option("Copy alias addresses too", INCLUDE_ALIASES), draft.include_aliases),
                    (option("Include the domain's shared contacts", INCLUDE_SHARED), draft.include_shared_contacts)]
    choices += [(option("Members may leave it themselves", OPT_OUT), draft.allow_opt_out),
                (option("Anyone may join it (an open sync)", JOINABLE), draft.joinable),
                (option("Adopt a target's own contact with the same email (no duplicates)", MATCH_EXISTING),
                 draft.match_existing)]
    return InputBlock(
        block_id=block_id("add_to_my_contacts", draft.rev),
        label=plain("Options"),
        element=CheckboxesElement(action_id="add_to_my_contacts", options=[o for o, _on in choices],
                                  initial_options=[o for o, on in choices if on] or None),
        optional=True,
        hint=plain("My Contacts is needed by users who sync their contacts to Outlook."),
    )


def _field_select(field: str, draft: Draft, label: str, chosen: Sequence[str], *, optional: bool,
                  hint: str) -> InputBlock:
    """A choice of People fields (more than a checkbox group's 10 options: a multi-select, pre-filled)."""
    options = [option(f.words[:1].upper() + f.words[1:], f.name) for f in SELECTABLE]
    initial = [o for o in options if o.value in chosen] or None
    return InputBlock(
        block_id=block_id(field, draft.rev),
        label=plain(label),
        element=StaticMultiSelectElement(action_id=f"{field}_select", options=options, initial_options=initial,
                                         placeholder=plain("Choose fields", 150)),
        optional=optional,
        hint=plain(hint),
    )


def fields_blocks(draft: Draft) -> list[Block]:
    """The field rules: what the sync copies, and what the targets keep as their own."""
    return [
        _field_select("fields", draft, "Fields copied", draft.copy_fields, optional=False,
                      hint="Fields left out are never written at the targets."),
        _field_select("keep_target_fields", draft, "Fields the targets keep", draft.keep_fields, optional=True,
                      hint="Filled from the source when empty at a target, never overwritten (e.g. notes)."),
    ]


def _multi_external(field: str, draft: Draft, label: str, values: Sequence[str], *, optional: bool,
                    placeholder: str) -> InputBlock:
    initial = [option(v, v) for v in values[:MAX_OPTIONS]] or None
    return InputBlock(
        block_id=block_id(field, draft.rev),
        label=plain(label),
        element=ExternalDataMultiSelectElement(action_id=f"{field}_select", initial_options=initial,
                                               min_query_length=0, placeholder=plain(placeholder, 150)),
        optional=optional,
    )


def _directory_blocks(draft: Draft) -> list[Block]:
    return [
        _multi_external("domains", draft, "Domains", draft.domains, optional=False,
                        placeholder="Choose the domains whose users are synced"),
        _multi_external("include_ous", draft, "Only these organizational units", draft.include_ous, optional=True,
                        placeholder="All units"),
        _multi_external("exclude_ous", draft, "Except these organizational units", draft.exclude_ous,
                        optional=True, placeholder="None"),
        _text_input("target_group_name", draft, "Target group name", draft.target_group_name,
                    max_length=255),
        _text_input("directory_fields", draft, "More directory fields", draft.directory_fields, optional=True,
                    max_length=3000, placeholder="e.g. Employment.Division=userDefined:Division",
                    hint="SOURCE=TARGET, comma-separated. SOURCE: externalIds, employeeId, locations, costCenter, "
                         "department, title, orgUnitPath or a custom schema field Schema.Field. TARGET: nicknames, "
                         "emailAddresses, phoneNumbers, urls, biographies or userDefined:KEY."),
        _options_block(draft),
    ]


def details_view(draft: Draft) -> View:
    blocks: list[Block] = [
        context("Step 1 of 2 · Details. Step 2 chooses who receives the contacts."),
        _text_input("name", draft, "Sync name", draft.name, max_length=JOB_NAME_MAX,
                    placeholder="e.g. Partners for Sales"),
        _kind_block(draft),
    ]
    if draft.error:
        blocks.insert(0, SectionBlock(block_id="submit_error", text=mrkdwn(clip(f":x: {escape(draft.error)}", 3000))))
    blocks += _personal_blocks(draft) if draft.kind == "personal" else _directory_blocks(draft)
    blocks += [
        _text_input("description", draft, "Description", draft.description, optional=True, multiline=True,
                    max_length=1000),
        InputBlock(
            block_id=block_id("alert_channel", draft.rev),
            label=plain("Alert channel"),
            element=ConversationSelectElement(action_id="alert_channel", initial_conversation=draft.alert_channel),
            optional=True,
            hint=plain("Run summaries and failures are posted here."),
        ),
        _text_input("schedule", draft, "Schedule", draft.schedule, max_length=100,
                    hint="every 30m · every 6h · every 1d · cron 0 7 * * 1-5 (shortest: every 5m)"),
        *fields_blocks(draft),
    ]
    title = {"create": "New sync", "edit": "Edit sync", "request": "Request a sync"}[draft.mode]
    return View(
        type="modal", callback_id=DETAILS_CALLBACK, title=plain(title, 24), submit=plain("Next", 24),
        close=plain("Cancel", 24), private_metadata=metadata(draft), blocks=check_count(blocks, MAX_VIEW_BLOCKS),
    )


# --- step 2 --------------------------------------------------------------------------------------
def _summary(draft: Draft) -> str:
    name = escape(draft.name) or "(unnamed)"
    if draft.kind == "directory":
        return f"*{name}* · the directory of {escape(', '.join(draft.domains))} → *{escape(draft.target_group_name)}*"
    group = escape(draft.group_name or "?")
    target_group = escape(draft.target_group_name or draft.group_name or "?")
    return f"*{name}* · {escape(draft.source_email or '?')}'s *{group}* → *{target_group}* · {escape(draft.schedule)}"


def _target_section(row: TargetRow) -> SectionBlock:
    users = "" if row.users is None else f" · {row.users} user{'s' if row.users != 1 else ''}"
    return SectionBlock(
        text=mrkdwn(f"{escape(row.label)}{users}", 1000),
        accessory=ButtonElement(text=plain("Remove", 75), action_id="target_remove", value=row.text[:2000]),
    )


def _picker_block(draft: Draft, picker: TargetPicker) -> InputBlock:
    element: PlainTextInputElement | ExternalDataMultiSelectElement
    if picker.typed:  # typed values are added as they are, e.g. a Directory query
        element = PlainTextInputElement(action_id=picker.field, max_length=1000,
                                        placeholder=plain(picker.placeholder, 150))
    else:
        element = ExternalDataMultiSelectElement(action_id=picker.field, min_query_length=picker.min_query_length,
                                                 placeholder=plain(picker.placeholder, 150))
    return InputBlock(block_id=block_id(picker.field, draft.rev), label=plain(picker.label), element=element,
                      optional=True)


def has_editors(draft: Draft) -> bool:
    """Editors belong to an admin's Personal Sync: a Directory Sync has none, and a member's request asks for
    none (an admin adds them once it is a sync)."""
    return draft.kind == "personal" and draft.mode != "request"


def split_editors(editors: Sequence[str]) -> tuple[list[str], list[str]]:
    """(shown in the Editors select, kept as they are): a select holds 100 options of 150 characters; an editor
    set from the CLI beyond that (a long `query:`) is listed under it and kept when the form is saved."""
    fits = [e for e in editors if len(e) <= MAX_OPTION_VALUE]
    shown = fits[:MAX_OPTIONS]
    return shown, [e for e in editors if e not in shown]


def editors_blocks(draft: Draft) -> list[Block]:
    """Who may edit the shared label, searched as the targets are (the values are selector texts, so an editor
    saved from the CLI as a `query:` shows and stays), and their delete right."""
    shown, kept = split_editors(draft.editors)
    initial = [option(text, text) for text in shown] or None
    can_delete = option("Editors may delete contacts", EDITORS_CAN_DELETE)
    return [
        DividerBlock(),
        InputBlock(
            block_id=block_id(EDITORS, draft.rev),
            label=plain("Editors"),
            element=ExternalDataMultiSelectElement(
                action_id=EDITORS_SELECT, initial_options=initial, min_query_length=1,
                placeholder=plain("Search users, groups, domains, roles or units", 150),
            ),
            optional=True,
            hint=plain("People who may change the shared label: their edits reach the source and every copy. "
                       "Everyone else is read-only."),
        ),
        InputBlock(
            block_id=block_id(EDITORS_CAN_DELETE, draft.rev),
            label=plain("Editors' deletions"),
            element=CheckboxesElement(action_id=EDITORS_CAN_DELETE, options=[can_delete],
                                      initial_options=[can_delete] if draft.editors_can_delete else None),
            optional=True,
            hint=plain("Unticked, a contact an editor deletes is put back at the next run."),
        ),
        *([context(clip(f"Also editors (kept; change them with `contactsync jobs edit --editor`): "
                        f"{escape(', '.join(kept))}", 3000))] if kept else []),
    ]


def targets_view(draft: Draft, rows: Sequence[TargetRow], *, total_users: int | None) -> View:
    """`rows` are the current page's targets (see `targets_page`)."""
    blocks: list[Block] = [
        context("Step 2 of 2 · Targets: who receives the contacts. Selections are re-resolved on every run."),
        SectionBlock(text=mrkdwn(_summary(draft))),
    ]
    if draft.error:
        blocks.insert(0, SectionBlock(block_id="submit_error", text=mrkdwn(clip(f":x: {escape(draft.error)}", 3000))))
    blocks += [_picker_block(draft, picker) for _kind, picker in pickers()]
    blocks.append(ActionsBlock(block_id="target_buttons", elements=[
        ButtonElement(text=plain("Add selected", 75), action_id="targets_add", style="primary"),
        ButtonElement(
            text=plain("Add all", 75), action_id="targets_add_all",
            confirm=ConfirmObject(title=plain("Add everyone?", 100),
                                  text=mrkdwn("Adds every domain of the Workspace: every active user, now and later."),
                                  confirm=plain("Add all", 30), deny=plain("Cancel", 30)),
        ),
    ]))
    blocks.append(DividerBlock())
    count = len(draft.targets)
    resolved = "" if total_users is None else f" → *{total_users}* active user{'s' if total_users != 1 else ''}"
    blocks.append(SectionBlock(block_id="target_count",
                               text=mrkdwn(f"*Targets:* {count} selection{'s' if count != 1 else ''}{resolved}")))
    if not draft.targets:
        blocks.append(context("Nothing selected yet: pick users, groups, domains, roles or units, or type a "
                              "directory query, above and press *Add selected*. What you leave in the fields is "
                              "added when you submit."))
    blocks += [_target_section(r) for r in rows]
    page, first, end = page_bounds(count, draft.target_page, TARGETS_PER_PAGE)
    if count > TARGETS_PER_PAGE:
        pages = (count + TARGETS_PER_PAGE - 1) // TARGETS_PER_PAGE
        nav: list[ButtonElement] = []
        if page > 0:
            nav.append(ButtonElement(text=plain("◀ Previous", 75), action_id="targets_page", value=str(page - 1)))
        if page < pages - 1:
            nav.append(ButtonElement(text=plain("Next ▶", 75), action_id="targets_page", value=str(page + 1)))
        blocks.append(context(f"Showing {first + 1}–{end} of {count}"))
        blocks.append(ActionsBlock(block_id="targets_nav", elements=nav))
    if has_editors(draft):
        blocks += editors_blocks(draft)
    submit = {"create": "Create sync", "edit": "Save", "request": "Send request"}[draft.mode]
    return View(
        type="modal", callback_id=TARGETS_CALLBACK, title=plain("Targets", 24), submit=plain(submit, 24),
        close=plain("Back", 24), private_metadata=metadata(draft), blocks=check_count(blocks, MAX_VIEW_BLOCKS),
    )


# --- the edit's confirm step -----------------------------------------------------------------------
def confirm_edit_view(draft: Draft, preview: EditPreview) -> View:
    """Pushed over step 2 when saving the edit deletes contacts: what, at each account (the service's words),
    before anything is saved. *Save* saves it; *Back* returns to the targets with nothing saved."""
    lines = preview.lines()
    shown = [f"• {escape(line)}" for line in lines[:CONFIRM_LINES]]
    if len(lines) > CONFIRM_LINES:
        shown.append(f"…and {len(lines) - CONFIRM_LINES} more accounts")
    blocks: list[Block] = [SectionBlock(block_id="removal", text=mrkdwn(f":warning: *{escape(preview.headline())}*"))]
    chunk: list[str] = []
    for line in shown:  # a section holds 3,000 characters: the lines go in as many as they need
        if chunk and len("\n".join([*chunk, line])) > 2900:
            blocks.append(SectionBlock(text=mrkdwn("\n".join(chunk))))
            chunk = []
        chunk.append(clip(line, 2900))
    if chunk:
        blocks.append(SectionBlock(text=mrkdwn("\n".join(chunk))))
    blocks.append(context("*Save* saves the edit: the next run deletes these contacts. *Back* returns to the "
                          "targets; nothing is saved."))
    return View(
        type="modal", callback_id=CONFIRM_EDIT_CALLBACK, title=plain("Confirm edit", 24), submit=plain("Save", 24),
        close=plain("Back", 24), private_metadata=metadata(draft), blocks=check_count(blocks, MAX_VIEW_BLOCKS),
    )


def targets_page(targets: Sequence[str], page: int) -> list[str]:
    """The selectors shown on `page` (clamped into range)."""
    _page, first, end = page_bounds(len(targets), page, TARGETS_PER_PAGE)
    return list(targets[first:end])


def message_view(title: str, text: str) -> View:
    """A one-message modal (used to refuse, or to say something went wrong)."""
    return View(type="modal", title=plain(clip(title, 24), 24), close=plain("Close", 24),
                blocks=[SectionBlock(text=mrkdwn(text))])
