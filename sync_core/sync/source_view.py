"""PURE: a run's source as one target gets it, less one contact, without copying it.

A Directory Sync's target is one of the directory's users, and does not get their own card (unless the job
says so). Copying the run's 20,000-entry source for each target minus that one card cost each target about
5 ms and 0.4 MB while it was in flight, and in a run where the target is in sync only the source's size is
ever asked for. `Without` answers as that copy would, from the run's one source.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TypeVar

V = TypeVar("V")


class Without(Mapping[str, V]):
    """`items` without the key `key` (read-only; equal to `{k: v for k, v in items.items() if k != key}`).
    `items` must not change while it is used."""

    __slots__ = ("_items", "_key")

    def __init__(self, items: Mapping[str, V], key: str) -> None:
        self._items = items
        self._key = key

    def __getitem__(self, key: str) -> V:
        if key == self._key:
            raise KeyError(key)
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        left_out = self._key
        return (k for k in self._items if k != left_out)

    def __len__(self) -> int:
        return len(self._items) - (self._key in self._items)

    def __contains__(self, key: object) -> bool:
        return key != self._key and key in self._items

    def __repr__(self) -> str:
        return f"Without({len(self)} items, less {self._key!r})"
