"""Cooperative calls (sync_core.google.cooperative): a run's targets wait for Google's answers side by side on
one thread, their code unchanged, and everything outside a target's greenlet stays a plain blocking call."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync_core.google.auth import ThreadTransport
from sync_core.google.backlog import Backlog
from sync_core.google.cooperative import CallIo, OncePerKey, await_only, cooperative_sleep, current_io, in_greenlet
from sync_core.google.errors import TimedOut, Unreachable, translate
from sync_core.google.json_model import StreamedJson
from sync_core.run.parking import Park, ShuttingDown, Steps
from sync_core.run.target_pool import TargetPool

ANSWER_DELAY = 0.3


class _SlowServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _SlowHandler)
        self.lock = threading.Lock()
        self.open_now = 0
        self.most_open = 0
        self.bodies: list[bytes] = []


class _SlowHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _SlowServer

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with self.server.lock:
            self.server.open_now += 1
            self.server.most_open = max(self.server.most_open, self.server.open_now)
            self.server.bodies.append(body)
        time.sleep(ANSWER_DELAY)  # Google taking its time over a batch write
        with self.server.lock:
            self.server.open_now -= 1
        answer = b'{"echo": "' + body + b'"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture
def slow_server() -> Iterator[_SlowServer]:
    server = _SlowServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _our_threads() -> int:
    """This process's threads, less the test server's (one per connection)."""
    return sum(1 for t in threading.enumerate() if "process_request_thread" not in t.name)


def _pool(workers: int) -> TargetPool[bytes]:
    return TargetPool(workers=workers, max_in_flight=workers, cancel=threading.Event(),
                      stop=lambda: ShuttingDown("stopped by a shutdown"))


def test_outside_a_targets_greenlet_calls_block_as_usual(slow_server: _SlowServer) -> None:
    assert current_io() is None
    url = f"http://127.0.0.1:{slow_server.server_port}/x"
    response, content = ThreadTransport().request(url, "POST", body=b"plain")
    assert response.status == 200 and content == b'{"echo": "plain"}'
    with pytest.raises(RuntimeError):
        await_only(asyncio.sleep(0))


def test_targets_wait_for_their_answers_side_by_side_on_one_thread(slow_server: _SlowServer) -> None:
    url = f"http://127.0.0.1:{slow_server.server_port}/batch"
    transport = ThreadTransport()  # what every user's AuthorizedHttp sends through
    targets = 40

    def target(n: int) -> Steps[bytes]:
        _, first = transport.request(url, "POST", body=f"a{n}", headers={"content-type": "text/plain"})
        yield Park(0.0)  # a park in between, as a target waiting for its window
        _, second = transport.request(url, "POST", body=f"b{n}")
        return first + second

    threads_before = _our_threads()
    threads_seen: list[int] = []
    done: list[bytes] = []

    def finished(result: bytes) -> None:
        threads_seen.append(_our_threads())
        done.append(result)

    started = time.monotonic()
    _pool(targets).run(((lambda n=n: target(n)) for n in range(targets)), finished)
    took = time.monotonic() - started

    assert sorted(done) == sorted(f'{{"echo": "a{n}"}}{{"echo": "b{n}"}}'.encode() for n in range(targets))
    # Every target had its call at the server at once...
    assert slow_server.most_open == targets
    # ...so the run took about two answers' time, not forty targets' one after another...
    assert took < targets * ANSWER_DELAY / 4
    # ...and none of them held a thread while it waited (the loop may use a few for address look-ups).
    assert max(threads_seen) - threads_before <= 8


def test_a_call_that_gets_no_answer_raises_what_httplib2_would() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    errors: list[BaseException] = []

    def target() -> Steps[bytes]:
        try:
            ThreadTransport().request(f"http://127.0.0.1:{port}/", "GET")
        except OSError as exc:
            errors.append(exc)
        return b""
        yield  # a generator

    _pool(1).run([target], lambda _: None)
    assert len(errors) == 1 and isinstance(translate(errors[0]), Unreachable)  # type: ignore[arg-type]


def _calls_at_once(server: _SlowServer, io: CallIo, calls: int) -> list[bytes]:
    async def all_of_them() -> list[bytes]:
        await io.open()
        try:
            url = f"http://127.0.0.1:{server.server_address[1]}/"
            answers = await asyncio.gather(*(io.request(url, "POST", f"call {i}", None, 0) for i in range(calls)))
            return [content for _, content in answers]
        finally:
            await io.close()

    return asyncio.run(all_of_them())


def test_calls_past_what_a_slow_server_answers_in_time_wait_their_turn_here(slow_server: _SlowServer) -> None:
    # Each answer takes 0.3 s: within a wait of 0.5 s, the server answers about two calls at a time.
    io = CallIo(timeout_seconds=5, backlog=Backlog(max_wait=0.5, floor=2))
    answers = _calls_at_once(slow_server, io, 8)
    assert answers == [b'{"echo": "call %d"}' % i for i in range(8)]  # every call answered
    assert slow_server.most_open == 2 and io.waited == 6
    # ...in the order they were asked, two at a time
    assert [sorted(slow_server.bodies[i:i + 2]) for i in (0, 2, 4, 6)] == [[b"call %d" % i, b"call %d" % (i + 1)]
                                                                            for i in (0, 2, 4, 6)]


def test_a_server_that_keeps_up_takes_every_call_at_once(slow_server: _SlowServer) -> None:
    io = CallIo(timeout_seconds=5)  # the default: within 2.5 s, the floor lets 32 go without an estimate
    assert len(_calls_at_once(slow_server, io, 8)) == 8
    assert slow_server.most_open == 8 and io.waited == 0


def test_an_answer_later_than_the_timeout_is_a_timeout_not_a_lost_connection(slow_server: _SlowServer) -> None:
    with pytest.raises(TimeoutError, match="no answer in time") as raised:
        _calls_at_once(slow_server, CallIo(timeout_seconds=0.1), 1)  # the server answers after 0.3 s
    assert isinstance(translate(raised.value), TimedOut)  # "Google did not answer in time": a read is retried


def test_a_sleep_in_a_target_lets_the_others_go_on() -> None:
    io = CallIo(timeout_seconds=5)
    order: list[str] = []

    def sleeper(name: str, seconds: float) -> str:
        cooperative_sleep(seconds)
        order.append(name)
        return name

    async def both() -> list[str]:
        return list(await asyncio.gather(in_greenlet(io, sleeper, "slow", 0.2), in_greenlet(io, sleeper, "fast", 0.0)))

    started = time.monotonic()
    assert asyncio.run(both()) == ["slow", "fast"]
    assert order == ["fast", "slow"] and time.monotonic() - started < 0.4


def test_an_error_on_the_loop_is_raised_where_the_target_waited() -> None:
    io = CallIo(timeout_seconds=5)

    async def fails() -> None:
        raise ValueError("Google said no")

    def target() -> str:
        try:
            await_only(fails())
        except ValueError as exc:
            return f"caught: {exc}"
        return "not raised"

    assert asyncio.run(in_greenlet(io, target)) == "caught: Google said no"


def test_a_pool_run_from_a_coroutine_runs_its_targets_on_a_loop_of_its_own() -> None:
    def target() -> Steps[str]:
        cooperative_sleep(0.01)
        yield Park(0.0)
        return "done"

    async def caller() -> list[str]:
        done: list[str] = []
        _pool(2).run([target, target], done.append)  # a blocking call, as a synchronous handler would make it
        return done

    assert asyncio.run(caller()) == ["done", "done"]


@given(pieces=st.lists(st.binary(max_size=50), max_size=30), size=st.integers(min_value=1, max_value=200))
def test_a_streamed_body_is_its_pieces_however_it_is_cut(pieces: list[bytes], size: int) -> None:
    body = StreamedJson(lambda: iter(pieces))
    whole = b"".join(pieces)
    assert len(body) == len(whole) and bytes(body) == whole
    parts = list(body.chunks(size))
    assert b"".join(parts) == whole and all(len(p) >= size for p in parts[:-1])
    assert bytes(body) == whole  # made again for a second attempt


def test_a_streamed_body_reaches_the_server_whole_either_way(slow_server: _SlowServer) -> None:
    url = f"http://127.0.0.1:{slow_server.server_port}/batch"
    pieces = [b"x" * 40_000, b"y" * 50_000, b"z"]  # more than one 64 KB write
    body = StreamedJson(lambda: iter(pieces))

    def target() -> Steps[bytes]:
        return ThreadTransport().request(url, "POST", body=body, headers={"content-length": str(len(body))})[1]
        yield  # a generator

    done: list[bytes] = []
    _pool(1).run([target], done.append)  # sent as made, on the loop
    ThreadTransport().request(url, "POST", body=body)  # and blocking, outside a target
    assert slow_server.bodies == [b"".join(pieces)] * 2


def test_a_value_is_made_once_while_others_wait_for_it_holding_no_lock() -> None:
    made: list[str] = []

    def make(key: str) -> str:
        made.append(key)
        cooperative_sleep(0.05)  # a call to Google: the other targets go on meanwhile
        return key.upper()

    photos: OncePerKey[str, str] = OncePerKey(make)

    def target(key: str) -> Steps[str]:
        return photos.get(key)
        yield  # a generator

    done: list[str] = []
    _pool(4).run([lambda: target("a"), lambda: target("a"), lambda: target("b"), lambda: target("a")], done.append)
    assert sorted(done) == ["A", "A", "A", "B"] and sorted(made) == ["a", "b"]
