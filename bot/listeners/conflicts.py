"""A conflict message's "Use this value instead" buttons (issue 21).

The admin guard (middleware) has refused non-admins already; the press is checked again here, on the server,
before anything is written: the presser is an admin, the button names a conflict of that job, and the conflict
is still open (a second press, or a replayed payload, is told who chose what and changes nothing). Then the
losing value is written at the source (`JobService.use_losing_value`: audited, the conflict resolved with one
conditional UPDATE so of two presses at once one wins) and the message re-rendered to say who chose what.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, BoltContext, Respond

from sync_core.service import GoogleError, JobInputError

from ..blocks.common import escape
from ..blocks.conflicts import ACTIONS, parse_button_value, resolved_text
from ..context import Listeners, bot_context

log = logging.getLogger(__name__)


def say(respond: Respond, text: str) -> None:
    respond(text=text, response_type="ephemeral", replace_original=False)


def use_pressed(ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext) -> None:
    ctx = bot_context(context)
    ack()
    if not body.get("response_url"):  # the buttons are in a message, which Slack always sends one with
        log.info("ignored a conflict button pressed outside a message")
        return
    user = str((body.get("user") or {}).get("id") or "")
    if not ctx.admins.is_admin(user):
        say(respond, ctx.admins.refusal())
        return
    parsed = parse_button_value(str(body["actions"][0].get("value") or ""))
    if parsed is None:
        say(respond, ":warning: That button is not one of mine; nothing was changed.")
        return
    job_id, conflict_id, loser = parsed
    notice = ctx.service.conflict_notice(job_id, conflict_id)
    if notice is None:
        say(respond, ":warning: This conflict no longer exists (its sync was deleted); nothing was changed.")
        return
    if not notice.is_open:
        say(respond, f"Already done: {resolved_text(notice.conflict)}. Nothing was changed.")
        return
    try:
        ctx.service.use_losing_value(notice.job.name, conflict_id, actor=user, loser=loser)
    except JobInputError as exc:
        say(respond, f":warning: {escape(exc.message)}; nothing was changed.")
    except GoogleError as exc:
        log.warning("could not put back a losing value of %r: %s", notice.job.name, type(exc).__name__)
        say(respond, ":warning: Google refused the change at the source; nothing was changed. Try again later.")
        return
    # Re-rendered from the row either way: a refusal above may mean someone else just resolved it.
    latest = ctx.service.conflict_notice(job_id, conflict_id)
    if latest is not None and ctx.notifier.conflicts is not None:
        ctx.notifier.conflicts.render(latest)


LISTENERS: Listeners = (
    ("action", ACTIONS, use_pressed),
)
