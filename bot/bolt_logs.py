"""Bolt's own log lines, cut to what is safe to keep.

Bolt logs a request that fails its signature check at INFO with the whole body (slash commands carry the
`token` field and a `response_url`, a capability to post in the channel), and a request nobody handles or a
middleware that skipped `next()` with the body and a multi-line code suggestion. `SlackGuard` refuses bad
signatures before Bolt sees them, so the first should never fire; this filter makes sure none of them can
log a body anyway. Bolt copies the app logger's filters onto each of its own loggers, and the filter is also
set on the verification middleware's logger, which Bolt names after the class.

A request nobody handles (an action id or callback id no listener knows: a button of an older version, or a
client's invention) is the client's matter, not the server's: Bolt's WARNING becomes one clipped INFO line.
"""

from __future__ import annotations

import logging

from sync_core.domain.text import clip
from sync_core.observability.log_rewrite import RewritingFilter

# Bolt's messages that embed a body, and the words before it.
_BODY_MARKERS = (
    ("Invalid request signature detected", "Invalid request signature detected (body not logged)"),
    ("A global middleware", None),  # "... without providing a response for the request ({body})"
)
MAX_LINE = 300
# Bolt's messages about a request, not about the server: logged at INFO whatever level Bolt chose.
_CLIENTS_MATTER = ("Unhandled request (",)


class BoltBodyFilter(RewritingFilter):
    def rewrite(self, message: str) -> str:
        return safe_bolt_message(message)

    def filter(self, record: logging.LogRecord) -> bool:
        if not super().filter(record):
            return False
        if record.levelno > logging.INFO and str(record.msg).startswith(_CLIENTS_MATTER):
            record.levelno, record.levelname = logging.INFO, logging.getLevelName(logging.INFO)
        return True


def safe_bolt_message(message: str) -> str:
    """One line, no request body: `Invalid request signature detected (...)` loses its details; a skipped
    middleware's warning loses the body; an unhandled request keeps its first line (type and ids)."""
    for marker, replacement in _BODY_MARKERS:
        if message.startswith(marker):
            if replacement is not None:
                return replacement
            return clip(message.split(" for the request (", 1)[0], MAX_LINE)
    return clip(message.split("\n", 1)[0], MAX_LINE)


def install(app_logger: logging.Logger) -> None:
    """Filter `app_logger` (before the App is built, so Bolt copies it) and the verification logger."""
    for logger in (app_logger, logging.getLogger("slack_bolt.RequestVerification")):
        if not any(isinstance(f, BoltBodyFilter) for f in logger.filters):
            logger.addFilter(BoltBodyFilter())
