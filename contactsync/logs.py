"""Logging for the long-running service: one line per event on stderr, nothing secret.

googleapiclient logs every request URL at INFO (page and sync tokens included), so its loggers are kept
at WARNING whatever the level; access tokens travel in headers and are never logged by anyone.
"""

from __future__ import annotations

import logging

QUIET = ("googleapiclient.discovery", "googleapiclient.http", "googleapiclient.discovery_cache", "urllib3")


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
