"""`domain:NAME`: every user whose primary address is on one of the Workspace's domains."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from sync_core.kinds.base import (
    DirectoryChecker,
    Lookup,
    Picker,
    Resolved,
    Selector,
    SelectorError,
    TargetUser,
    echo,
    user_target,
)

if TYPE_CHECKING:
    from sync_core.service.directory_cache import DirectoryCache

DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$", re.I)


class DomainKind:
    name = "domain"
    aliases: tuple[str, ...] = ()
    help = "domain:NAME"
    picker = Picker("pick_domains", "Domains (every user of the domain)")

    def parse(self, value: str) -> str:
        value = value.strip()
        if not DOMAIN_RE.match(value):
            raise SelectorError(f"{echo(value)} is not a domain name")
        return value.lower()

    def validate(self, directory: DirectoryChecker, value: str) -> Resolved:
        domains = {str(d.get("domainName")).lower() for d in directory.list_domains()}
        if value not in domains:
            raise SelectorError(f"{value} is not one of this Workspace's domains ({', '.join(sorted(domains))})")
        return Resolved()

    def resolve(self, lookup: Lookup, selector: Selector) -> Iterator[TargetUser]:
        yield from (user_target(u) for u in lookup.directory.iter_users(domain=selector.value))

    def count_ids(self, cache: DirectoryCache, value: str) -> set[str]:
        suffix = "@" + value
        return {u.id for u in cache.snapshot.users if u.email.endswith(suffix)}

    def describe(self, value: str) -> str:
        return f"every user of the domain {value}"

    def label(self, cache: DirectoryCache, value: str) -> str:
        return f"🌐 domain {value}"

    def options(self, cache: DirectoryCache, query: str) -> list[tuple[str, str]]:
        return [(d, f"domain:{d}") for d in cache.search_domains(query)]


KIND = DomainKind()
