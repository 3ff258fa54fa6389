"""The emulator's fast paths answer exactly what the plain ones did: request bodies read as json.loads reads
them, update times formatted as datetime formats them, copies equal to deep copies."""

from __future__ import annotations

import copy
import datetime as dt
import json

import pytest

from emulator.core import json_copy
from emulator.people_store import format_time, parse_time
from emulator.server import parse_json

BODIES = [
    b'{"a": 1, "b": [true, null, 1.5, "x\\u00e9"], "a": 2}',
    b"18446744073709551616",  # beyond 64 bits: orjson would read a float
    b'{"n": [1,\n -9223372036854775809, 18446744073709551615]}',
    b'{"rn": "people/c1234567890123456789012"}',
    b"[NaN, Infinity, -Infinity]",
    b'"\\ud800"',  # a lone surrogate
    b"\xef\xbb\xbf{}",  # a BOM
    '{"k": "v"}'.encode("utf-16"),
    b"1e400",
    b'  {"x" : [ 1 , 2 ] }  \n',
]
BAD_BODIES = [b"{bad", b"[1,]", b'"\xff"', b'{"a": 1} x', b'"\x01"', b"[" * 5000 + b"]" * 5000]


@pytest.mark.parametrize("raw", BODIES)
def test_bodies_read_as_json_loads_reads_them(raw: bytes) -> None:
    assert repr(parse_json(raw)) == repr(json.loads(raw))


@pytest.mark.parametrize("raw", BAD_BODIES)
def test_bad_bodies_fail_as_json_loads_fails(raw: bytes) -> None:
    with pytest.raises(Exception) as expected:
        json.loads(raw)
    with pytest.raises(Exception) as got:
        parse_json(raw)
    assert (type(got.value), str(got.value)) == (type(expected.value), str(expected.value))


def _datetime_format(epoch: float) -> str:
    stamp = dt.datetime.fromtimestamp(epoch, tz=dt.UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


@pytest.mark.parametrize(
    "epoch",
    [0.0, 1765000000.0, 1765000000.9999995, 1765000000.9999996, 1765000000.0000005, 1765000000.0005,
     1765000000.9995, 1765000000.1234565, -1.5, -0.0000004, 4102444800.999],
)
def test_update_times_formatted_as_datetime_formats_them(epoch: float) -> None:
    assert format_time(epoch) == _datetime_format(epoch)
    assert format_time(epoch) == _datetime_format(epoch)  # again, from the per-second cache


def test_parse_time_remembers_and_rejects_as_strptime_does() -> None:
    assert parse_time("2026-01-02T03:04:05.678Z") == dt.datetime(2026, 1, 2, 3, 4, 5, 678000, dt.UTC).timestamp()
    assert parse_time("2026-01-02T03:04:05.678Z") == dt.datetime(2026, 1, 2, 3, 4, 5, 678000, dt.UTC).timestamp()
    assert parse_time("2026-02-30T03:04:05.678Z") is None
    assert parse_time("2026-02-30T03:04:05.678Z") is None


def test_json_copy_is_a_deep_copy() -> None:
    value = {"a": [{"b": {"c": [1, 2.5, None, True, "s"]}}], "t": (1, [2])}
    copied = json_copy(value)
    assert copied == copy.deepcopy(value)
    copied["a"][0]["b"]["c"].append(3)
    copied["t"][1].append(3)
    assert value == {"a": [{"b": {"c": [1, 2.5, None, True, "s"]}}], "t": (1, [2])}
