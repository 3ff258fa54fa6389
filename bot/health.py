"""Readiness: is this process fit to take traffic? The database answers, the scheduler is scheduling, and
Slack answers `auth.test` with the bot token. Each check says None (fine) or why not, in one line.

A load balancer probes every few seconds, and every process behind it does: the Slack check is remembered
for CONTACTSYNC_READY_SLACK_CACHE_SECONDS (60 by default), so probes cost Slack one call a minute per process.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sync_core.settings import SettingsError

from .settings import BotSettings
from .slack_check import check_slack

Check = Callable[[], str | None]  # None when fine, else why not

# A probe must answer before the balancer gives up on it (typically 5 s or more): auth.test gets less, and
# so does the database.
SLACK_TIMEOUT_SECONDS = 3
DATABASE_TIMEOUT_SECONDS = 3


class CachedCheck:
    """`check`'s answer, asked again only once `ttl` seconds have passed. Probes that arrive while it is being
    asked wait for that answer instead of asking too."""

    def __init__(self, check: Check, ttl: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._check = check
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._answer: str | None = None
        self._expires: float | None = None

    def __call__(self) -> str | None:
        with self._lock:
            if self._expires is None or self._clock() >= self._expires:
                self._answer = self._check()
                self._expires = self._clock() + self._ttl
            return self._answer


class _Asked:
    """One call of a check, on its own thread: done once it has answered or raised."""

    def __init__(self, check: Check) -> None:
        self.done = threading.Event()
        self.answer: str | None = None
        self.error: BaseException | None = None
        # A daemon thread: a check that never returns must not hold up the process's exit.
        threading.Thread(target=self._run, args=(check,), name="readiness-check", daemon=True).start()

    def _run(self, check: Check) -> None:
        try:
            self.answer = check()
        except BaseException as exc:  # noqa: BLE001 - handed to the probe, which reports it (Readiness)
            self.error = exc
        finally:
            self.done.set()


class BoundedCheck:
    """`check`, given at most `timeout` seconds per probe. A probe must answer even when what it checks hangs
    (a database server that stopped answering holds its connection, and `SELECT 1`, until TCP gives up).
    While a check is still out, later probes wait for that one instead of starting another: a hung
    database costs one waiting thread, not one per probe."""

    def __init__(self, check: Check, timeout: float) -> None:
        self._check = check
        self._timeout = timeout
        self._lock = threading.Lock()
        self._out: _Asked | None = None

    def __call__(self) -> str | None:
        with self._lock:
            if self._out is None or self._out.done.is_set():
                self._out = _Asked(self._check)
            out = self._out
        if not out.done.wait(self._timeout):
            return f"no answer within {self._timeout:g} s"
        if out.error is not None:
            raise out.error
        return out.answer


def database_check(problem: Check) -> Check:
    """The database answers a trivial query, within DATABASE_TIMEOUT_SECONDS."""
    return BoundedCheck(problem, DATABASE_TIMEOUT_SECONDS)


def slack_check(settings: BotSettings) -> Check:
    """Slack answers auth.test and accepts the bot token (remembered for the configured time)."""

    def ask() -> str | None:
        try:
            check_slack(settings, timeout=SLACK_TIMEOUT_SECONDS)
        except SettingsError as exc:  # one line naming what failed; never the token
            return str(exc)
        return None

    return CachedCheck(ask, settings.ready_slack_cache_seconds)


@dataclass(frozen=True)
class Readiness:
    """The named checks a readiness probe runs, in order."""

    checks: Mapping[str, Check]

    def problems(self) -> dict[str, str | None]:
        """Each check's answer: None when fine, else why not. A check that raises is a failed check."""
        answers: dict[str, str | None] = {}
        for name, check in self.checks.items():
            try:
                answers[name] = check()
            except Exception as exc:  # noqa: BLE001 - a probe reports a broken check, it never raises
                answers[name] = f"the check failed ({type(exc).__name__})"
        return answers
