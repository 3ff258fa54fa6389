"""What a value typed by an admin may hold, and how an error quotes it back: shared by the service's rules
(names, labels, descriptions) and the target kinds, so every field answers the same way."""

from __future__ import annotations

ECHO_MAX = 60  # what an error quotes of a value: enough to recognise it, never a screenful


def first_unprintable(text: str) -> str | None:
    """The first control or invisible character (a newline, tab or BEL breaks `jobs list` and Slack
    messages), or None when every character prints."""
    return next((c for c in text if not c.isprintable()), None)


def echo(text: str, limit: int = ECHO_MAX) -> str:
    """`text` quoted for an error message, clipped: a 5,000-character query is not repeated in full."""
    return repr(text if len(text) <= limit else text[:limit] + "…")
