"""PURE: which of a target's own contacts a sync adopts instead of making a second copy (--match-existing email).

A source contact is matched by its first email address (casefolded); a target's own contact holds it when any
of its addresses is that one. A match is taken only when it is one to one: two own contacts holding one source
contact's address, or one own contact holding the addresses of two source contacts, adopt nothing and are
never touched; the run says "ambiguous" for the target instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Adoptions:
    adopt: dict[str, str] = field(default_factory=dict)  # source key -> the own contact's resourceName
    ambiguous: frozenset[str] = frozenset()  # source keys whose match was not one to one


def match_by_email(
    source_emails: Mapping[str, str | None], own: Mapping[str, Iterable[str]]
) -> Adoptions:
    """`source_emails`: source key -> its first email (None: it has none); `own`: the target's own contacts,
    resourceName -> their addresses. Both casefolded here, whatever the caller gave."""
    holders: dict[str, set[str]] = {}  # address -> own contacts holding it
    for rn, emails in own.items():
        for email in {e.strip().casefold() for e in emails if e and e.strip()}:
            holders.setdefault(email, set()).add(rn)
    wanted: dict[str, set[str]] = {}  # own contact -> source keys whose address it holds
    candidates: dict[str, set[str]] = {}
    for key, address in source_emails.items():
        if not address or not address.strip():
            continue
        found = holders.get(address.strip().casefold(), set())
        if found:
            candidates[key] = found
            for rn in found:
                wanted.setdefault(rn, set()).add(key)
    adopt: dict[str, str] = {}
    ambiguous: set[str] = set()
    for key, found in candidates.items():
        if len(found) == 1 and len(wanted[next(iter(found))]) == 1:
            adopt[key] = next(iter(found))
        else:
            ambiguous.add(key)
    return Adoptions(adopt, frozenset(ambiguous))
