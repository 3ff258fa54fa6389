"""Cooperative calls: many targets waiting on Google at once, on one thread, without a thread each.

A run's targets (sync_core.run.target_pool) each advance in a greenlet on the run's thread, under an asyncio
loop. The code a target runs is the same synchronous code as everywhere else (googleapiclient, google-auth,
tenacity, the pacer): only its transport changes. When a target's request reaches `auth.ThreadTransport` (or a
wait reaches `cooperative_sleep`), the target's greenlet hands the request to the loop and switches back to it;
the loop sends it with aiohttp, runs the other targets meanwhile, and switches back into the greenlet with the
answer. So a target waiting for Google's answer holds its greenlet, its connection and its plan, not a thread
(half a megabyte each with its share of the allocator: bench/RESULTS.md), and hundreds of a job's targets have
a call at Google at once, as Google's per-user quotas allow; memory, not threads, bounds how many.

Outside a target's greenlet (the source's reads, the merge, the service's checks, a dry run of one account)
every request is the usual blocking one: `current_io()` is None there.

The bridge is SQLAlchemy's asyncio pattern (`greenlet_spawn` / `await_only`), written out here because it is
a dozen lines and theirs is private.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import ssl
import sys
import threading
import time
import urllib.request
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar
from urllib.parse import urlsplit

import httplib2
from greenlet import getcurrent, greenlet

from sync_core.google.backlog import Backlog
from sync_core.google.json_model import StreamedJson

if TYPE_CHECKING:
    import aiohttp  # imported when a run first needs it: a third of a second the CLI's commands need not wait

T = TypeVar("T")
K = TypeVar("K")
log = logging.getLogger(__name__)

HTTP_TIMEOUT_SECONDS = 60  # no byte from Google for this long: the call failed (`unreachable`), as with httplib2


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """httplib2's own CA bundle: the same certificates the blocking transport trusts (read once a process)."""
    return ssl.create_default_context(cafile=httplib2.CA_CERTS)


def prepare() -> None:
    """Import aiohttp and read the CA bundle now, not in the process's first run: together about a fifth of a
    second of CPU, which a fresh process's run otherwise counts as its own (0.15 s of the 0.9 s a steady-state
    run of 200 targets takes). Called where a process commits to running syncs (`Runtime.engine`: `serve` at
    start, `contactsync run` before its run); a CLI command that runs none never imports aiohttp."""
    import aiohttp  # noqa: F401 - for its place in sys.modules

    _tls_context()


class CallIo:
    """The loop's side of a run's cooperative calls: one aiohttp session (its connection pool) for every
    target, and the run's calls out at once kept to what the server answers in time (`backlog.Backlog`: a
    call over that waits its turn here, in order). Made and closed on the loop (`open`, `close`)."""

    def __init__(self, *, timeout_seconds: float, backlog: Backlog | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        """`backlog`: how many calls may be out at once (default: as many as the server answers within half
        the timeout)."""
        self.timeout_seconds = timeout_seconds
        self._session: aiohttp.ClientSession | None = None
        self._proxies: dict[str, str] = {}
        self._clock = clock
        self._backlog = backlog or Backlog(max_wait=timeout_seconds / 2)
        self._out = 0
        self._waiting: deque[asyncio.Future[None]] = deque()
        self.waited = 0  # calls that waited their turn (for logs and tests)

    async def open(self) -> None:
        import aiohttp

        context = _tls_context()
        # No limit on connections: the pool bounds the targets making calls, each user's calls are one at a
        # time, and `_turn` keeps the calls out to what the server answers in time (a limit here would queue
        # a target's call behind others' without saying so).
        connector = aiohttp.TCPConnector(limit=0, ssl=context, ttl_dns_cache=300)
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=self.timeout_seconds,
                                        sock_read=self.timeout_seconds)
        # The environment's proxy, as httplib2 takes it, read once (aiohttp's trust_env reads the environment
        # and ~/.netrc again at every request).
        self._proxies = urllib.request.getproxies()
        self._session = aiohttp.ClientSession(connector=connector, timeout=timeout, auto_decompress=True)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _proxy_for(self, uri: str) -> str | None:
        if not self._proxies:
            return None
        parts = urlsplit(uri)
        if urllib.request.proxy_bypass(parts.hostname or ""):
            return None
        return self._proxies.get(parts.scheme)

    async def request(self, uri: str, method: str, body: Any, headers: dict[str, str] | None,
                      redirections: int) -> tuple[httplib2.Response, bytes]:
        """httplib2's `Http.request`, on the loop: (response, content). No answer at all raises an OSError, as
        httplib2 does (sync_core.google.errors.translate makes it `unreachable`)."""
        import aiohttp

        if self._session is None:
            raise RuntimeError("a cooperative call outside its run")
        headers = dict(headers or {})
        if isinstance(body, str):
            body = body.encode("utf-8")
        elif isinstance(body, StreamedJson):
            headers.setdefault("content-length", str(len(body)))  # sent as it is made, not chunked
            body = _sent_as_made(body)
        await self._turn()
        sent = self._clock()
        try:
            async with self._session.request(
                method, uri, data=body, headers=headers, proxy=self._proxy_for(uri),
                allow_redirects=method in ("GET", "HEAD") and redirections > 0, max_redirects=max(1, redirections),
            ) as answer:
                now = self._clock()
                self._backlog.answered(now, now - sent)
                content = await answer.read()
                info: dict[str, Any] = {key.lower(): value for key, value in answer.headers.items()}
                info.pop("content-encoding", None)  # decoded already, as httplib2 does
                info["status"] = str(answer.status)
                response = httplib2.Response(info)
                response.reason = answer.reason or ""
                return response, content
        except TimeoutError as exc:  # before ClientError: aiohttp's read timeout is both
            raise TimeoutError("no answer in time") from exc
        except aiohttp.ClientError as exc:
            raise ConnectionError(f"{exc.__class__.__name__}: {exc}") from exc
        finally:
            self._out -= 1
            self._wake()

    async def _turn(self) -> None:
        """Wait until one more call may go out (`Backlog.allows`), after those that waited before it."""
        if not self._waiting and self._backlog.allows(self._out, self._clock()):
            self._out += 1
            return
        if not self.waited:
            log.info("Google's answers are slower than this run's calls come: %d calls out, %.0f answers a second "
                     "lately; further calls wait their turn here rather than past the answer timeout there",
                     self._out, self._backlog.rate(self._clock()))
        self.waited += 1
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append(turn)
        try:
            await turn  # `_wake` counts the call out before it lets it go
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self._out -= 1  # let go, then cancelled before it went: its turn passes to the next
                self._wake()
            raise

    def _wake(self) -> None:
        now = self._clock()
        while self._waiting and self._backlog.allows(self._out, now):
            turn = self._waiting.popleft()
            if turn.done():
                continue  # cancelled while it waited
            self._out += 1
            turn.set_result(None)


# A streamed body goes out in writes of about this size: a few per batch, never a whole batch held.
_WRITE_BYTES = 64 * 1024


async def _sent_as_made(body: StreamedJson) -> AsyncIterator[bytes]:
    for chunk in body.chunks(_WRITE_BYTES):
        yield chunk


class _TargetGreenlet(greenlet):  # type: ignore[misc]  # greenlet's class is untyped
    """A greenlet advancing one target; `io` is its run's loop side."""

    def __init__(self, run: Callable[..., Any], parent: greenlet, io: CallIo) -> None:
        super().__init__(run, parent)
        self.io = io


def current_io() -> CallIo | None:
    """The run's loop side when called from a target's greenlet, else None (a blocking call)."""
    current = getcurrent()
    return current.io if isinstance(current, _TargetGreenlet) else None


async def in_greenlet(io: CallIo, fn: Callable[..., T], *args: Any) -> T:
    """`fn(*args)` in a new greenlet; each `await_only` within it is awaited here, on the loop."""
    child = _TargetGreenlet(fn, getcurrent(), io)
    result = child.switch(*args)
    while not child.dead:
        try:
            value = await result
        except BaseException:  # noqa: BLE001 - handed back into the greenlet, where the call is
            result = child.throw(*sys.exc_info())
        else:
            result = child.switch(value)
    return result  # type: ignore[no-any-return]


def await_only(awaitable: Awaitable[T]) -> T:
    """From a target's greenlet: wait for `awaitable` on the loop, letting the other targets go on meanwhile."""
    current = getcurrent()
    if not isinstance(current, _TargetGreenlet):
        if asyncio.iscoroutine(awaitable):
            awaitable.close()  # never to be awaited: say nothing more of it
        raise RuntimeError("await_only outside a target's greenlet")
    return current.parent.switch(awaitable)  # type: ignore[no-any-return]


def cooperative_sleep(seconds: float) -> None:
    """`time.sleep`, except in a target's greenlet, where the other targets go on while this one waits (the
    pacer's short waits, a retry's backoff)."""
    if current_io() is None:
        time.sleep(seconds)
    else:
        await_only(asyncio.sleep(max(0.0, seconds)))


# How often one waiting for a value another is making looks again.
_ONCE_POLL_SECONDS = 0.01


class OncePerKey(Generic[K, T]):
    """Each key's value made once, by the first to ask (from any thread or target), and kept. One asking while
    another makes it waits for it holding no lock: a target that waited on a lock held across a call would stop
    every other target on its thread, the one holding it included."""

    def __init__(self, make: Callable[[K], T]) -> None:
        self._make = make
        self._lock = threading.Lock()  # held only to look and to store, never across `make`
        self._made: dict[K, T] = {}
        self._making: set[K] = set()

    def get(self, key: K) -> T:
        while True:
            with self._lock:
                if key in self._made:
                    return self._made[key]
                if key not in self._making:
                    self._making.add(key)
                    break
            cooperative_sleep(_ONCE_POLL_SECONDS)
        try:
            value = self._make(key)
        except BaseException:
            with self._lock:
                self._making.discard(key)  # the next to ask makes it
            raise
        with self._lock:
            self._made[key] = value
            self._making.discard(key)
        return value
