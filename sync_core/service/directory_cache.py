"""An in-memory snapshot of the Workspace directory for fast pickers and live target counts.

Slack's external selects must answer within 3 seconds, so they search this snapshot instead of calling
Google on every keystroke. The snapshot is rebuilt in the background every `refresh_seconds`; a
rebuild swaps one immutable `Snapshot` in under a lock, so readers never see half a refresh.

`count_users(selectors)` counts the users a list of target selectors resolves to *in the snapshot*:
group members (derived membership, as the engine reads them) and role assignments (users, and the
users of assigned groups) are read during the refresh, so the count is exact for the snapshot and at
most `refresh_seconds` stale. The engine always re-resolves targets against Google on each run.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sync_core.google.errors import GoogleError
from sync_core.kinds import kind_of
from sync_core.kinds.base import Selector

log = logging.getLogger(__name__)

JSON = dict[str, Any]
MAX_MATCHES = 100


class DirectorySource(Protocol):
    def iter_users(self, *, domain: str | None = None, query: str | None = None) -> Iterator[JSON]: ...
    def iter_groups(self) -> Iterator[JSON]: ...
    def iter_group_members(self, group_key: str) -> Iterator[JSON]: ...
    def list_roles(self) -> list[JSON]: ...
    def iter_role_assignments(self, role_id: str) -> Iterator[JSON]: ...
    def list_orgunits(self) -> list[JSON]: ...
    def list_domains(self) -> list[JSON]: ...


@dataclass(frozen=True)
class CachedUser:
    id: str
    email: str
    name: str
    suspended: bool
    orgunit: str
    haystack: str  # lower-cased "name email aliases" for substring search


@dataclass(frozen=True)
class CachedGroup:
    id: str
    email: str
    name: str
    member_ids: frozenset[str]
    haystack: str


@dataclass(frozen=True)
class CachedRole:
    id: str
    name: str
    user_ids: frozenset[str]


@dataclass(frozen=True)
class Snapshot:
    users: tuple[CachedUser, ...] = ()
    groups: tuple[CachedGroup, ...] = ()
    roles: tuple[CachedRole, ...] = ()
    orgunits: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    by_email: dict[str, CachedUser] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.users and not self.domains


def _user(raw: JSON) -> CachedUser:
    email = str(raw.get("primaryEmail", "")).lower()
    name = str((raw.get("name") or {}).get("fullName") or email)
    aliases = " ".join(str(a).lower() for a in raw.get("aliases") or ())
    return CachedUser(
        id=str(raw["id"]),
        email=email,
        name=name,
        suspended=bool(raw.get("suspended") or raw.get("archived")),
        orgunit=str(raw.get("orgUnitPath") or "/"),
        haystack=f"{name.casefold()} {email} {aliases}",
    )


def _ranked(items: Iterable[Any], query: str, keys: Callable[[Any], tuple[str, ...]], haystack: Callable[[Any], str],
            limit: int) -> list[Any]:
    """Items whose haystack contains `query`; those with a key starting with it first. Stops early."""
    q = query.strip().casefold()
    if not q:
        return list(_take(items, limit))
    prefix: list[Any] = []
    inner: list[Any] = []
    for item in items:
        if q not in haystack(item):
            continue
        if any(k.startswith(q) for k in keys(item)):
            prefix.append(item)
            if len(prefix) >= limit:
                break
        elif len(inner) < limit:
            inner.append(item)
    return (prefix + inner)[:limit]


def _take(items: Iterable[Any], limit: int) -> Iterator[Any]:
    for i, item in enumerate(items):
        if i >= limit:
            return
        yield item


class DirectoryCache:
    """Thread-safe snapshot of users, groups, roles, OUs and domains, refreshed in the background."""

    def __init__(self, factory: Callable[[], DirectorySource], *, refresh_seconds: float = 600.0) -> None:
        self._factory = factory
        self.refresh_seconds = refresh_seconds
        self._snapshot = Snapshot()
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_error: str | None = None
        self._queries: dict[str, set[str]] = {}  # query_ids' answers for the snapshot `_queries_of`
        self._queries_of: Snapshot | None = None

    # --- loading ------------------------------------------------------------------------------------
    def refresh(self) -> Snapshot:
        """Read the whole directory now and swap the snapshot in; raises the Google error if any."""
        snapshot = build_snapshot(self._factory())
        with self._lock:
            self._snapshot = snapshot
        self._ready.set()
        self.last_error = None
        return snapshot

    def start(self) -> None:
        """Refresh now and then every `refresh_seconds`, on a daemon thread."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, name="directory-cache", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.refresh()
            except GoogleError as exc:  # keep serving the previous snapshot; try again next interval
                self.last_error = f"{exc.kind}: {exc.reason}"
                log.warning("directory cache refresh failed: %s", self.last_error)
            self._stop.wait(self.refresh_seconds)

    def wait_ready(self, timeout: float) -> bool:
        return self._ready.wait(timeout)

    @property
    def snapshot(self) -> Snapshot:
        with self._lock:
            return self._snapshot

    # --- searching ----------------------------------------------------------------------------------
    def search_users(
        self, query: str, *, limit: int = MAX_MATCHES, include_suspended: bool = False
    ) -> list[CachedUser]:
        users: Iterable[CachedUser] = self.snapshot.users
        if not include_suspended:
            users = (u for u in users if not u.suspended)
        return _ranked(users, query, lambda u: (u.email, u.name.casefold()), lambda u: u.haystack, limit)

    def search_groups(self, query: str, *, limit: int = MAX_MATCHES) -> list[CachedGroup]:
        return _ranked(self.snapshot.groups, query, lambda g: (g.email, g.name.casefold()), lambda g: g.haystack, limit)

    def search_roles(self, query: str, *, limit: int = MAX_MATCHES) -> list[CachedRole]:
        return _ranked(self.snapshot.roles, query, lambda r: (r.name.casefold(),), lambda r: r.name.casefold(), limit)

    def search_orgunits(self, query: str, *, limit: int = MAX_MATCHES) -> list[str]:
        return _ranked(self.snapshot.orgunits, query, lambda p: (p.casefold(), p.rsplit("/", 1)[-1].casefold()),
                       lambda p: p.casefold(), limit)

    def search_domains(self, query: str, *, limit: int = MAX_MATCHES) -> list[str]:
        return _ranked(self.snapshot.domains, query, lambda d: (d,), lambda d: d, limit)

    def user(self, email: str) -> CachedUser | None:
        return self.snapshot.by_email.get(email.strip().lower())

    # --- counting -----------------------------------------------------------------------------------
    def resolve_ids(self, selectors: Sequence[Selector]) -> set[str]:
        """Ids of the active (not suspended) users the selectors name, in the snapshot."""
        active = {u.id for u in self.snapshot.users if not u.suspended}
        ids: set[str] = set()
        for s in selectors:
            ids |= kind_of(s.kind).count_ids(self, s.value)
        return ids & active

    def query_ids(self, query: str) -> set[str]:
        """Ids of the users a Directory query matches, asked of Google once per query and snapshot (the
        snapshot can't answer Google's query language); a query Google refuses matches nobody."""
        snap = self.snapshot
        with self._lock:
            memo = self._queries if self._queries_of is snap else {}
            self._queries, self._queries_of = memo, snap
            if query in memo:
                return memo[query]
        try:
            ids = {str(u["id"]) for u in self._factory().iter_users(query=query)}
        except GoogleError as exc:
            log.info("directory query not counted: %s", exc.reason)
            ids = set()
        with self._lock:
            memo[query] = ids
        return ids

    def count_users(self, selectors: Sequence[Selector], *, excluding: str | None = None) -> int:
        """How many active users the selectors name; `excluding`: an address never counted (the source)."""
        ids = self.resolve_ids(selectors)
        left_out = self.snapshot.by_email.get(excluding.strip().lower()) if excluding else None
        return len(ids - {left_out.id}) if left_out else len(ids)


# --- building a snapshot ------------------------------------------------------------------------------
def _member_user_ids(directory: DirectorySource, group_key: str) -> frozenset[str]:
    return frozenset(
        str(m["id"]) for m in directory.iter_group_members(group_key) if m.get("type") == "USER" and m.get("id")
    )


def build_snapshot(directory: DirectorySource) -> Snapshot:
    users = sorted((_user(u) for u in directory.iter_users()), key=lambda u: u.email)
    groups: list[CachedGroup] = []
    members_by_id: dict[str, frozenset[str]] = {}
    for raw in directory.iter_groups():
        email = str(raw.get("email", "")).lower()
        members = _member_user_ids(directory, email)
        members_by_id[str(raw.get("id"))] = members
        name = str(raw.get("name") or email)
        groups.append(CachedGroup(str(raw.get("id")), email, name, members, f"{name.casefold()} {email}"))
    groups.sort(key=lambda g: g.email)
    roles: list[CachedRole] = []
    for raw in directory.list_roles():
        user_ids: set[str] = set()
        for assignment in directory.iter_role_assignments(str(raw["roleId"])):
            assignee = str(assignment.get("assignedTo") or "")
            if assignment.get("assigneeType") == "group":
                user_ids.update(members_by_id.get(assignee, frozenset()))
            elif assignee:
                user_ids.add(assignee)
        roles.append(CachedRole(str(raw["roleId"]), str(raw.get("roleName", "")), frozenset(user_ids)))
    roles.sort(key=lambda r: r.name.casefold())
    orgunits = sorted({"/"} | {str(o.get("orgUnitPath")) for o in directory.list_orgunits()})
    domains = sorted(str(d.get("domainName", "")).lower() for d in directory.list_domains())
    return Snapshot(
        users=tuple(users),
        groups=tuple(groups),
        roles=tuple(roles),
        orgunits=tuple(orgunits),
        domains=tuple(domains),
        by_email={u.email: u for u in users},
    )

