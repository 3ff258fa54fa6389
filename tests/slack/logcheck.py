"""What the bot's log must never hold, checked on caplog's records."""

from __future__ import annotations

import logging
from collections.abc import Iterable


def formatted(record: logging.LogRecord) -> str:
    """The record as a handler would write it: message, then traceback if any."""
    text = record.getMessage()
    if record.exc_info:
        text += "\n" + logging.Formatter().formatException(record.exc_info)
    if record.stack_info:
        text += "\n" + record.stack_info
    return text


def tracebacks(records: Iterable[logging.LogRecord], level: int = logging.INFO) -> list[str]:
    """Records at `level` or above that carry a traceback or span lines: the first line of each."""
    return [f"{r.name} {r.levelname}: {formatted(r).splitlines()[0][:200] if formatted(r) else ''}"
            for r in records if r.levelno >= level
            and (r.exc_info or r.stack_info or "Traceback" in r.getMessage() or "\n" in r.getMessage())]


def leaks(records: Iterable[logging.LogRecord], secrets: Iterable[str]) -> list[str]:
    """(secret, logger) for every secret that appears in a record, traceback included."""
    wanted = [s for s in secrets if s]
    found = []
    for record in records:
        text = formatted(record)
        found += [f"{secret[:12]}… in {record.name} {record.levelname}" for secret in wanted if secret in text]
    return found


def errors(records: Iterable[logging.LogRecord]) -> list[str]:
    """Records at ERROR or above, as `logger: first line`: a client's garbage must never produce one."""
    return [f"{r.name}: {formatted(r).splitlines()[0][:200] if formatted(r) else ''}"
            for r in records if r.levelno >= logging.ERROR]


def long_lines(records: Iterable[logging.LogRecord], limit: int = 400, level: int = logging.INFO) -> list[str]:
    """Records at `level` or above whose message is longer than `limit` characters (a request's value logged
    whole), clipped."""
    return [f"{r.name} {r.levelname} ({len(r.getMessage())} chars): {r.getMessage()[:120]}"
            for r in records if r.levelno >= level and len(r.getMessage()) > limit]
