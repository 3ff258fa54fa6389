"""The `fields` partial-response parameter: `a,b/c,d(e,f)` keeps only those parts of a JSON answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Selector = dict[str, "Selector | None"]  # None = keep the whole value


def parse_fields(spec: str) -> Selector:
    selector, rest = _parse(spec.replace(" ", ""), 0)
    if rest != len(spec.replace(" ", "")):
        raise ValueError(f"Invalid field selection {spec}")
    return selector


def _parse(spec: str, pos: int) -> tuple[Selector, int]:
    selector: Selector = {}
    while pos < len(spec) and spec[pos] != ")":
        start = pos
        while pos < len(spec) and spec[pos] not in ",()":
            pos += 1
        path = spec[start:pos].split("/")
        if not all(path):
            raise ValueError(f"Invalid field selection {spec}")
        sub: Selector | None = None
        if pos < len(spec) and spec[pos] == "(":
            sub, pos = _parse(spec, pos + 1)
            if pos >= len(spec) or spec[pos] != ")":
                raise ValueError(f"Invalid field selection {spec}")
            pos += 1
        _merge(selector, path, sub)
        if pos < len(spec) and spec[pos] == ",":
            pos += 1
    return selector, pos


def _merge(selector: Selector, path: list[str], leaf: Selector | None) -> None:
    head, *tail = path
    if not tail:
        if head in selector and selector[head] is not None and leaf is not None:
            selector[head].update(leaf)  # type: ignore[union-attr]
        else:
            selector[head] = None if (head in selector and selector[head] is None) else leaf
        return
    current = selector.get(head, {})
    if current is None:
        return  # already keeping the whole value
    _merge(current, tail, leaf)
    selector[head] = current


def apply_fields(value: Any, selector: Selector | None) -> Any:
    """What the selector keeps of `value`: new dicts and lists down to each kept path, whose values are
    `value`'s own (not copied)."""
    if selector is None:
        return value
    return picker(selector)(value)


def picker(selector: Selector) -> Callable[[Any], Any]:
    """apply_fields(_, selector) as a function made once for a whole answer: each level knows which of its
    keys are kept whole, so a page of a thousand people is filtered without a call per kept value."""
    pairs = tuple((key, None if sub is None else picker(sub)) for key, sub in selector.items())
    if all(pick is None for _, pick in pairs):
        keys = tuple(key for key, _ in pairs)

        def pick_whole(value: Any) -> Any:
            if isinstance(value, dict):
                return {key: value[key] for key in keys if key in value}
            if isinstance(value, list):
                return [pick_whole(v) for v in value]
            return value

        return pick_whole

    def pick_some(value: Any) -> Any:
        if isinstance(value, dict):
            out = {}
            for key, pick in pairs:
                if key in value:
                    out[key] = value[key] if pick is None else pick(value[key])
            return out
        if isinstance(value, list):
            return [pick_some(v) for v in value]
        return value

    return pick_some


def item_picker(
    selector: Selector, allowed: Callable[[str], bool]
) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """picker(selector) for a dict of which only the keys `allowed` would be answered: what the selector
    keeps of it, taken from the whole (stored) dict without first rendering the allowed part."""
    pairs = tuple((key, None if sub is None else picker(sub)) for key, sub in selector.items() if allowed(key))

    def pick_item(value: dict[str, Any]) -> dict[str, Any]:
        out = {}
        for key, pick in pairs:
            if key in value:
                out[key] = value[key] if pick is None else pick(value[key])
        return out

    return pick_item


def apply_fields_but(answer: dict[str, Any], selector: Selector, done: str) -> dict[str, Any]:
    """apply_fields(answer, selector) for an answer whose `done` value is already filtered."""
    out = {}
    for key, sub in selector.items():
        if key in answer:
            out[key] = answer[key] if sub is None or key == done else apply_fields(answer[key], sub)
    return out
