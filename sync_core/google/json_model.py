"""googleapiclient's JSON model, with orjson doing the encoding and decoding.

Every People API call moves up to 200 contacts (a batch write) or 1,000 (a page of a read) as JSON; the
standard library's json module was a third of the CPU a first sync spends per contact.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol, runtime_checkable

import orjson
from googleapiclient.model import JsonModel


class MadeJson(Protocol):
    """What makes a contact's JSON when its request is sent (sync.plan.Create)."""

    @property
    def wire(self) -> bytes: ...


@runtime_checkable
class MadeJsonList(Protocol):
    """Many contacts' JSON made at once when their request is sent (sync.plan.Creates)."""

    def wires(self) -> list[bytes]: ...

    def wires_size(self) -> int:
        """The length of all of `wires()`, counted without making them."""
        ...


class StreamedJson:
    """A request body made as it is sent, piece by piece (a batch create's contacts, from JSON made once per
    run): a call waiting for Google's answer holds the recipe, not 200 contacts' bytes, so that a run can have
    thousands of calls at Google at once (sync_core.google.cooperative). Made again for each attempt (a retry,
    a refreshed token). Its length is known before it is sent (Content-Length): `size`, or the pieces are made
    once to count them."""

    __slots__ = ("_pieces", "_size")

    def __init__(self, pieces: Callable[[], Iterable[bytes]], *, size: int | None = None) -> None:
        self._pieces = pieces
        self._size = sum(map(len, pieces())) if size is None else size

    def __len__(self) -> int:
        return self._size

    def __bytes__(self) -> bytes:
        made = b"".join(self._pieces())
        self._check(len(made))
        return made

    def chunks(self, size: int) -> Iterator[bytes]:
        """The body in parts of about `size` bytes (one write each)."""
        part: list[bytes] = []
        held = made = 0
        for piece in self._pieces():
            part.append(piece)
            held += len(piece)
            if held >= size:
                made += held
                yield b"".join(part)
                part, held = [], 0
        self._check(made + held)  # before the last part: a request whose length was wrong is never finished
        if part:
            yield b"".join(part)

    def _check(self, made: int) -> None:
        if made != self._size:
            raise RuntimeError(f"a streamed body made {made} bytes, not the {self._size} it was counted at")

    def __str__(self) -> str:  # googleapiclient makes a string of every argument (see people.Body)
        return "<request body>"

    __repr__ = __str__


class FastJsonModel(JsonModel):
    """The same wire format as `JsonModel` (People and Directory have no data wrapper)."""

    def __init__(self) -> None:
        super().__init__(data_wrapper=False)

    def serialize(self, body_value: Any) -> bytes | StreamedJson:
        if isinstance(body_value, StreamedJson):
            return body_value  # made as it is sent
        # UTF-8 bytes: http.client would encode a str body as Latin-1 (json.dumps escaped to ASCII instead)
        return orjson.dumps(body_value)

    def deserialize(self, content: Any) -> Any:
        try:
            return orjson.loads(content)
        except orjson.JSONDecodeError:
            return content.decode("utf-8", "replace") if isinstance(content, bytes) else content


class DecodingJsonModel(FastJsonModel):
    """The same wire format, its answers made by `decode` (the answer's bytes -> what the call returns): a read
    that keeps a few fields of many contacts decodes them into structs, not dicts."""

    def __init__(self, decode: Callable[[bytes], Any]) -> None:
        super().__init__()
        self._decode = decode

    def deserialize(self, content: Any) -> Any:
        return self._decode(content if isinstance(content, bytes) else str(content).encode("utf-8"))
