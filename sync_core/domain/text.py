"""What a value typed by an admin may hold, and how an error quotes it back: shared by the service's rules
(names, labels, descriptions) and the target kinds, so every field answers the same way; and how a log line
quotes a value that came in a request (`clip`), so no request can write a long or forged line."""

from __future__ import annotations

ECHO_MAX = 60  # what an error quotes of a value: enough to recognise it, never a screenful


def first_unprintable(text: str) -> str | None:
    """The first control or invisible character (a newline, tab or BEL breaks `jobs list` and Slack
    messages), or None when every character prints."""
    return next((c for c in text if not c.isprintable()), None)


def echo(text: str, limit: int = ECHO_MAX) -> str:
    """`text` quoted for an error message, clipped: a 5,000-character query is not repeated in full."""
    return repr(text if len(text) <= limit else text[:limit] + "…")


def clip(value: object, limit: int = ECHO_MAX) -> str:
    """A value taken from a request (or typed by anyone), safe for one log line: control and invisible
    characters as `?` (a newline would forge a line), cut to `limit` characters with `…` (a 20,000-character
    user id is not logged whole). A value that is not a string or a number is named by its type only: a
    request's field may be any JSON, and its repr could be huge."""
    if value is None or isinstance(value, bool | int | float):
        text = str(value)
    elif isinstance(value, str):
        text = value
    else:
        return f"<{type(value).__name__}>"
    cut = text[:limit]
    return "".join(c if c.isprintable() else "?" for c in cut) + ("…" if len(text) > limit else "")
