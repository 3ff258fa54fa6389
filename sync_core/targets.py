"""Target selectors -> the users a job writes to, re-resolved on every run, matched by immutable id."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

JSON = dict[str, Any]

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$", re.I)


class Reach(StrEnum):
    OK = "ok"
    RENAMED = "renamed"  # reachable, but the selector names an old address
    SUSPENDED = "suspended"
    NOT_FOUND = "not_found"


class SelectorError(ValueError):
    """A selector that can't mean anything (bad email, unknown kind...). One clear line."""


@dataclass(frozen=True)
class Selector:
    kind: str  # email | group | domain | role | orgunit
    value: str
    resolved_user_id: str | None = None

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.value}"


SELECTOR_KINDS = ("email", "group", "domain", "role", "orgunit")


def parse_selector(text: str) -> Selector:
    """`email:a@x.com`, `group:sales@x.com`, `domain:x.com`, `role:Help Desk Admin`, `ou:/Sales`."""
    kind, sep, value = text.partition(":")
    kind, value = kind.strip().lower(), value.strip()
    kind = {"ou": "orgunit", "user": "email"}.get(kind, kind)
    if not sep or kind not in SELECTOR_KINDS or not value:
        raise SelectorError(
            f"bad target {text!r}: use email:ADDRESS, group:ADDRESS, domain:NAME, role:NAME or ou:/PATH"
        )
    if kind in ("email", "group") and not EMAIL_RE.match(value):
        raise SelectorError(f"bad target {text!r}: {value!r} is not an email address")
    if kind == "domain" and not DOMAIN_RE.match(value):
        raise SelectorError(f"bad target {text!r}: {value!r} is not a domain name")
    if kind == "orgunit" and not value.startswith("/"):
        raise SelectorError(f"bad target {text!r}: an organizational unit path starts with /")
    if kind in ("email", "group", "domain"):
        value = value.lower()
    return Selector(kind, value)


@dataclass
class TargetUser:
    user_id: str | None
    email: str  # the current primary address (or the selector's address when unknown)
    reach: Reach
    reason: str = ""
    new_email: str | None = None  # for renamed: the address to offer the admin
    selected_by: list[str] = field(default_factory=list)


@dataclass
class Resolution:
    reachable: dict[str, TargetUser] = field(default_factory=dict)  # by user id: ok or renamed
    unreachable: list[TargetUser] = field(default_factory=list)  # suspended, not_found
    email_ids: dict[str, str] = field(default_factory=dict)  # email selector value -> user id found

    def add(self, user: TargetUser, selector: Selector) -> None:
        if user.reach in (Reach.OK, Reach.RENAMED) and user.user_id:
            existing = self.reachable.get(user.user_id)
            if existing is None:
                self.reachable[user.user_id] = user
                existing = user
            elif user.reach is Reach.RENAMED:  # an email selector's renamed status wins
                user.selected_by = existing.selected_by
                self.reachable[user.user_id] = existing = user
            existing.selected_by.append(selector.label)
            return
        if user.user_id and any(u.user_id == user.user_id for u in self.unreachable):
            return
        user.selected_by.append(selector.label)
        self.unreachable.append(user)


class DirectoryReader(Protocol):
    def get_user(self, user_key: str) -> JSON | None: ...
    def iter_users(self, *, domain: str | None = None, query: str | None = None) -> Iterator[JSON]: ...
    def iter_group_members(self, group_key: str) -> Iterator[JSON]: ...
    def get_group(self, group_key: str) -> JSON | None: ...
    def list_roles(self) -> list[JSON]: ...
    def iter_role_assignments(self, role_id: str) -> Iterator[JSON]: ...


def _from_user(user: JSON) -> TargetUser:
    email = str(user["primaryEmail"]).lower()
    if user.get("suspended"):
        return TargetUser(user["id"], email, Reach.SUSPENDED, "the user is suspended")
    if user.get("archived"):
        return TargetUser(user["id"], email, Reach.SUSPENDED, "the user is archived")
    return TargetUser(user["id"], email, Reach.OK)


class TargetResolver:
    """Resolves selectors against the directory; one instance per run (it caches look-ups)."""

    def __init__(self, directory: DirectoryReader) -> None:
        self.directory = directory
        self._by_id: dict[str, JSON] | None = None

    def _user_by_id(self, user_id: str) -> JSON | None:
        if self._by_id is None:
            self._by_id = {u["id"]: u for u in self.directory.iter_users()}
        return self._by_id.get(user_id)

    def resolve(self, selectors: Iterable[Selector], *, exclude_ids: Iterable[str] = ()) -> Resolution:
        result = Resolution()
        excluded = set(exclude_ids)
        for selector in selectors:
            for user in self._expand(selector, result):
                if user.user_id in excluded:
                    continue
                result.add(user, selector)
        return result

    def _expand(self, selector: Selector, result: Resolution) -> Iterator[TargetUser]:
        kind, value = selector.kind, selector.value
        if kind == "email":
            yield self._resolve_email(selector, result)
        elif kind == "domain":
            yield from (_from_user(u) for u in self.directory.iter_users(domain=value))
        elif kind == "orgunit":
            # Google's orgUnitPath query matches the unit and every unit under it.
            query = "orgUnitPath='{}'".format(value.replace("'", "\\'"))
            yield from (_from_user(u) for u in self.directory.iter_users(query=query))
        elif kind == "group":
            if self.directory.get_group(value) is None:
                yield TargetUser(None, value, Reach.NOT_FOUND, f"no Google Group {value}")
                return
            yield from self._users_of_members(self.directory.iter_group_members(value))
        elif kind == "role":
            yield from self._resolve_role(value)
        else:  # pragma: no cover - parse_selector refuses other kinds
            raise SelectorError(f"unknown selector kind {kind!r}")

    def _resolve_email(self, selector: Selector, result: Resolution) -> TargetUser:
        value, known_id = selector.value, selector.resolved_user_id
        user = self.directory.get_user(value)
        if user is not None and known_id and user["id"] != known_id:
            # The address now belongs to someone else: the person we meant is found by id.
            user = self.directory.get_user(known_id)
        elif user is None and known_id:
            user = self.directory.get_user(known_id)
        if user is None:
            return TargetUser(known_id, value, Reach.NOT_FOUND, "no user has this address (deleted?)")
        result.email_ids[value] = user["id"]
        target = _from_user(user)
        if target.reach is Reach.OK and target.email != value:
            target.reach = Reach.RENAMED
            target.new_email = target.email
            target.reason = f"{value} was renamed to {target.email}"
        return target

    def _users_of_members(self, members: Iterable[JSON]) -> Iterator[TargetUser]:
        for member in members:
            if member.get("type") != "USER" or not member.get("id"):
                continue
            user = self._user_by_id(member["id"])
            if user is not None:
                yield _from_user(user)

    def _resolve_role(self, name: str) -> Iterator[TargetUser]:
        roles = self.directory.list_roles()
        role = next(
            (
                r
                for r in roles
                if str(r.get("roleName", "")).lower() == name.lower() or str(r.get("roleId")) == name
            ),
            None,
        )
        if role is None:
            yield TargetUser(None, name, Reach.NOT_FOUND, f"no admin role named {name!r}")
            return
        for assignment in self.directory.iter_role_assignments(str(role["roleId"])):
            assignee = assignment.get("assignedTo")
            if not assignee:
                continue
            if assignment.get("assigneeType") == "group":
                group = self.directory.get_group(assignee)
                if group is not None:
                    yield from self._users_of_members(self.directory.iter_group_members(group["email"]))
                continue
            user = self._user_by_id(assignee)
            if user is not None:
                yield _from_user(user)
