"""Logging for the long-running service: one line per event on stderr, nothing secret.

googleapiclient logs every request URL at INFO (page and sync tokens included), so its loggers are kept
at WARNING whatever the level; so is slack_sdk's webhook client, which logs each `response_url` (a
capability to post in a channel) at DEBUG and again at INFO when it retries. Access tokens travel in
headers, which nobody logs.

Defence in depth: the handler also runs every line, traceback included, through `redact`, which blanks
what has the shape of a secret (Slack tokens, Google access tokens and signed JWTs, private keys, bearer
credentials, token fields) and cuts every URL to its scheme and host, since a URL's path or query can be the
credential (a response_url, a page token).

Both formats name the run, job and target a line belongs to (set by the engine around a run and a target;
`sync_core.observability.log_context`): the default text format as a bracket after the logger,
`time LEVEL logger: [run=12 job="Partners for Sales" target=bob@example.com] message`, left out for lines
outside a run; CONTACTSYNC_LOG_FORMAT=json as fields of one JSON object per line (time, level, logger,
message, exception). Redaction runs first, and the job and target go through it too.
"""

from __future__ import annotations

import json
import logging
import re
import time

from sync_core.observability.log_context import FIELDS, RunContextFilter
from sync_core.observability.log_rewrite import RewritingFilter

QUIET = ("googleapiclient.discovery", "googleapiclient.http", "googleapiclient.discovery_cache", "urllib3",
         "slack_sdk.webhook")

REDACTED = "[redacted]"
_SECRETS = [
    # Slack tokens: bot, user, app-level, config, refresh (xoxb-, xoxp-, xapp-, xoxe.xoxp-...)
    re.compile(r"xox[a-z]?[a-z]?(?:\.xox[a-z])?-[A-Za-z0-9-]+"),
    re.compile(r"xapp-[A-Za-z0-9-]+"),
    # PEM private keys, also inside JSON ("\n" escaped)
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.DOTALL),
    # Google OAuth access tokens, and signed JWTs (the service account's grant assertions)
    re.compile(r"ya29\.[A-Za-z0-9._-]+"),
    re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+"),
]
# A credential named by its key: `Authorization: Bearer x`, `token=x`, `"private_key": "x"`.
_NAMED = re.compile(
    r"""(?ix)
    (\b(?:bearer|basic)\s+)[^\s'",;]+
    | ((?:access_token|refresh_token|id_token|assertion|client_secret|signing_secret|private_key(?:_id)?|
        password|token|secret)["']?\s*[:=]\s*["']?)[^\s'"&,;}]+
    """
)
_URL = re.compile(r"(https?://[^/\s'\"<>]+)[^\s'\"<>]*")


def redact(text: str) -> str:
    """`text` without anything shaped like a secret; a URL keeps only its scheme and host."""
    for pattern in _SECRETS:
        text = pattern.sub(REDACTED, text)
    text = _NAMED.sub(lambda m: (m.group(1) or m.group(2)) + REDACTED, text)
    return _URL.sub(lambda m: m.group(1) + ("/…" if len(m.group(0)) > len(m.group(1)) else ""), text)


class SecretRedactor(RewritingFilter):
    """Rewrites each record, traceback included, through `redact` before a handler writes it."""

    def rewrite(self, message: str) -> str:
        return redact(message)

    def filter(self, record: logging.LogRecord) -> bool:
        if not super().filter(record):
            return False
        if record.exc_info:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line; the record has been through `SecretRedactor` already."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = redact(value) if isinstance(value, str) else value
        if record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = record.stack_info
        return json.dumps(line, ensure_ascii=False)


JsonFormatter.converter = time.gmtime  # type: ignore[assignment]  # "Z" times


# The text format's run fields: a value is quoted (as JSON quotes it) when it would not read as one word.
_BARE_VALUE = re.compile(r"[^\s\"=\[\]]+")
_FIELD_NAMES = {"run_id": "run"}  # "run=12" reads better than "run_id=12" in a line meant for people


def run_fields(record: logging.LogRecord) -> str:
    """`[run=12 job="Partners for Sales" target=bob@example.com] ` for a record logged in a run, else ""."""
    parts = []
    for name in FIELDS:
        value = getattr(record, name, None)
        if value is None:
            continue
        text = redact(str(value))
        shown = text if _BARE_VALUE.fullmatch(text) else json.dumps(text, ensure_ascii=False)
        parts.append(f"{_FIELD_NAMES.get(name, name)}={shown}")
    return f"[{' '.join(parts)}] " if parts else ""


class TextFormatter(logging.Formatter):
    """`time LEVEL logger: [run=.. job=.. target=..] message`; the bracket only on what a run logs."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(run_fields)s%(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.run_fields = run_fields(record)
        return super().formatMessage(record)


def formatter(fmt: str) -> logging.Formatter:
    """The handler's formatter for CONTACTSYNC_LOG_FORMAT (text or json)."""
    if fmt == "json":
        return JsonFormatter()
    return TextFormatter()


def configure_logging(level: str, fmt: str = "text") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(formatter(fmt))
    handler.addFilter(SecretRedactor())
    handler.addFilter(RunContextFilter())
    logging.basicConfig(level=getattr(logging, level.upper(), logging.INFO), handlers=[handler])
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
