"""Reading the docs as a reader's browser would: headings, their anchors (GitHub's rule), links."""

from __future__ import annotations

import re

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")


def headings(text: str) -> list[tuple[int, str]]:
    """(level, text) of every heading outside code blocks, in order."""
    found, fenced = [], False
    for line in text.splitlines():
        if _FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced and (m := _HEADING.match(line)):
            found.append((len(m.group(1)), m.group(2)))
    return found


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped (but `-` and `_`), spaces to `-`."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(text: str) -> set[str]:
    """Every anchor a heading of the text makes (a repeated heading gets `-1`, `-2`...)."""
    seen: dict[str, int] = {}
    out = set()
    for _level, heading in headings(text):
        base = slug(heading)
        n = seen.get(base, 0)
        out.add(base if n == 0 else f"{base}-{n}")
        seen[base] = n + 1
    return out


def links(text: str) -> list[str]:
    """Every link target of the text, outside code blocks."""
    found, fenced = [], False
    for line in text.splitlines():
        if _FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            found += _LINK.findall(line)
    return found


def section(text: str, title: str) -> list[tuple[str, str]]:
    """The subsections (heading, body) under the heading `title`, until the next heading of its level."""
    lines = text.splitlines()
    out: list[tuple[str, str]] = []
    level, current, body, fenced = 0, None, [], False
    for line in lines:
        if _FENCE.match(line):
            fenced = not fenced
        m = None if fenced else _HEADING.match(line)
        if m and not level:
            if m.group(2) == title:
                level = len(m.group(1))
            continue
        if not level:
            continue
        if m and len(m.group(1)) <= level:
            break
        if m and len(m.group(1)) == level + 1:
            if current is not None:
                out.append((current, "\n".join(body)))
            current, body = m.group(2), []
            continue
        body.append(line)
    if current is not None:
        out.append((current, "\n".join(body)))
    return out
