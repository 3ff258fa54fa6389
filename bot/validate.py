"""Checks of the modal's step 1 before moving on to step 2; each problem is (field, message).

The final submit calls `sync_core.jobs` which checks everything again (it is the authority); these
checks exist so an admin hears about a bad name, source or schedule before choosing targets.
"""

from __future__ import annotations

from sync_core import store
from sync_core.google.errors import GoogleError, InvalidGrant
from sync_core.schedule import ScheduleError, parse_schedule

from .context import BotContext
from .drafts import Draft


def contact_groups(ctx: BotContext, email: str) -> list[str]:
    """The user's own contact groups (not the system ones), sorted by name."""
    groups = ctx.runtime.people(email).list_groups()
    return sorted((str(g.get("name")) for g in groups if g.get("groupType") == "USER_CONTACT_GROUP"), key=str.casefold)


def check_details(ctx: BotContext, draft: Draft) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not draft.name:
        errors["name"] = "A sync needs a name."
    elif draft.mode == "create" or draft.name != draft.original_name:
        with store.session_scope(ctx.runtime.db) as session:
            if store.get_job_by_name(session, name=draft.name) is not None:
                errors["name"] = f"A sync named “{draft.name}” already exists."
    try:
        draft.schedule = str(parse_schedule(draft.schedule))
    except ScheduleError as exc:
        errors["schedule"] = str(exc)
    if draft.kind == "directory":
        errors.update(_check_directory(ctx, draft))
    else:
        errors.update(_check_personal(ctx, draft))
    return errors


def _check_directory(ctx: BotContext, draft: Draft) -> dict[str, str]:
    errors: dict[str, str] = {}
    snap = ctx.cache.snapshot
    unknown = [d for d in draft.domains if d not in snap.domains]
    if not draft.domains:
        errors["domains"] = "Choose at least one domain."
    elif unknown:
        errors["domains"] = f"Not a domain of this Workspace: {', '.join(unknown)}"
    for name in ("include_ous", "exclude_ous"):
        bad = [ou for ou in getattr(draft, name) if ou not in snap.orgunits]
        if bad:
            errors[name] = f"No such organizational unit: {', '.join(bad)}"
    if not draft.target_group_name:
        errors["target_group_name"] = "The target group needs a name."
    return errors


def _check_personal(ctx: BotContext, draft: Draft) -> dict[str, str]:
    if not draft.source_email:
        return {"source": "Choose the source user."}
    try:
        user = ctx.runtime.directory().get_user(draft.source_email)
        if user is None:
            return {"source": f"No user has the address {draft.source_email}."}
        if user.get("suspended") or user.get("archived"):
            return {"source": f"{user['primaryEmail']} is suspended; choose an active user."}
        if draft.groups is None:
            draft.groups = contact_groups(ctx, str(user["primaryEmail"]))
    except InvalidGrant:
        return {"source": f"Google refused to act as {draft.source_email} (domain-wide delegation?)."}
    except GoogleError as exc:
        return {"source": f"Google could not be asked about {draft.source_email}: {exc.reason}"}
    if not draft.groups:
        return {"source": f"{draft.source_email} has no contact groups; choose another source user."}
    if not draft.group_name:
        return {"group": "Choose the contact group to share."}
    if draft.group_name not in draft.groups:
        return {"group": f"{draft.source_email} has no contact group named “{draft.group_name}”."}
    return {}
