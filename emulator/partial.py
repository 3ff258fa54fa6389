"""The `fields` partial-response parameter: `a,b/c,d(e,f)` keeps only those parts of a JSON answer."""

from __future__ import annotations

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
    if selector is None:
        return value
    if isinstance(value, list):
        return [apply_fields(v, selector) for v in value]
    if isinstance(value, dict):
        return {k: apply_fields(value[k], sub) for k, sub in selector.items() if k in value}
    return value
