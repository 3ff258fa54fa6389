"""The one way ContactSync rewrites a log line before a handler writes it (the CLI's secret redaction, the
bot's cut of Bolt's request bodies): format the record once, keep the rewritten text, drop the arguments.

A record that cannot be formatted (a caller's bad `%` arguments) is dropped rather than raised: logging
must never be what fails a run or a Slack request, and its arguments could hold anything.
"""

from __future__ import annotations

import logging


class RewritingFilter(logging.Filter):
    def rewrite(self, message: str) -> str:
        raise NotImplementedError

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - see the module's docstring
            return False
        record.msg, record.args = self.rewrite(message), ()
        return True
