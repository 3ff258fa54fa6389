"""googleapiclient's JSON model, with orjson doing the encoding and decoding.

Every People API call moves up to 200 contacts (a batch write) or 1,000 (a page of a read) as JSON; the
standard library's json module was a third of the CPU a first sync spends per contact.
"""

from __future__ import annotations

from typing import Any

import orjson
from googleapiclient.model import JsonModel


class FastJsonModel(JsonModel):
    """The same wire format as `JsonModel` (People and Directory have no data wrapper)."""

    def __init__(self) -> None:
        super().__init__(data_wrapper=False)

    def serialize(self, body_value: Any) -> bytes:
        # UTF-8 bytes: http.client would encode a str body as Latin-1 (json.dumps escaped to ASCII instead)
        return orjson.dumps(body_value)

    def deserialize(self, content: Any) -> Any:
        try:
            return orjson.loads(content)
        except orjson.JSONDecodeError:
            return content.decode("utf-8", "replace") if isinstance(content, bytes) else content
