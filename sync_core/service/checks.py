"""Field-level checks against Google: each refusal is a `JobInputError` naming the field it is about."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..google.directory import DirectoryClient
from ..google.people import PeopleClient
from ..models import SelectorCreate, SelectorKind
from ..targets import Selector, SelectorError, parse_selector
from .errors import JobInputError


def parse_targets(texts: Sequence[str]) -> list[Selector]:
    if not texts:
        raise JobInputError("targets", "a sync needs at least one target (e.g. --target group:sales@example.com)")
    try:
        return [parse_selector(t) for t in texts]
    except SelectorError as exc:
        raise JobInputError("targets", str(exc)) from None


def check_selectors(directory: DirectoryClient, selectors: Sequence[Selector]) -> list[SelectorCreate]:
    """Each selector must name something that exists now; email selectors get the user's id."""
    rows: list[SelectorCreate] = []
    roles: list[str] | None = None
    ous: set[str] | None = None
    domains: set[str] | None = None
    for s in selectors:
        resolved_id = resolved_email = None
        if s.kind == "email":
            user = directory.get_user(s.value)
            if user is None:
                raise JobInputError("targets", f"no user has the address {s.value}")
            resolved_id, resolved_email = user["id"], str(user["primaryEmail"]).lower()
        elif s.kind == "group" and directory.get_group(s.value) is None:
            raise JobInputError("targets", f"no Google Group has the address {s.value}")
        elif s.kind == "role":
            roles = roles if roles is not None else [str(r.get("roleName", "")) for r in directory.list_roles()]
            if s.value.lower() not in {r.lower() for r in roles}:
                raise JobInputError("targets", f"no admin role named {s.value!r} (roles: {', '.join(sorted(roles))})")
        elif s.kind == "orgunit":
            ous = ous if ous is not None else {"/"} | {str(o.get("orgUnitPath")) for o in directory.list_orgunits()}
            if s.value not in ous:
                raise JobInputError("targets", f"no organizational unit {s.value}")
        elif s.kind == "domain":
            domains = (
                domains if domains is not None else {str(d.get("domainName")).lower() for d in directory.list_domains()}
            )
            if s.value not in domains:
                raise JobInputError(
                    "targets",
                    f"{s.value} is not one of this Workspace's domains ({', '.join(sorted(domains))})",
                )
        rows.append(
            SelectorCreate(
                kind=SelectorKind(s.kind),
                value=s.value,
                resolved_user_id=resolved_id,
                resolved_email=resolved_email,
            )
        )
    return rows


def find_source_group(people: PeopleClient, name: str) -> dict[str, str]:
    groups = [g for g in people.list_groups() if g.get("groupType") == "USER_CONTACT_GROUP"]
    for g in groups:
        if str(g.get("name", "")).casefold() == name.strip().casefold():
            return {"resourceName": str(g["resourceName"]), "name": str(g["name"])}
    known = ", ".join(sorted(str(g.get("name")) for g in groups)) or "none"
    raise JobInputError("group", f"the source user has no contact group named {name!r} (groups: {known})")


def check_ous(directory: DirectoryClient, paths: Sequence[str], field: str) -> list[str]:
    known = {"/"} | {str(o.get("orgUnitPath")) for o in directory.list_orgunits()}
    clean = []
    for path in paths:
        path = path.strip().rstrip("/") or "/"
        if not path.startswith("/"):
            raise JobInputError(field, f"{path!r}: an organizational unit path starts with /")
        if path not in known:
            raise JobInputError(field, f"no organizational unit {path}")
        clean.append(path)
    return clean


def active_source_user(directory: DirectoryClient, email: str) -> dict[str, Any]:
    """The directory user behind a source address; refused when there is none or it is suspended."""
    source = directory.get_user(email.strip().lower())
    if source is None:
        raise JobInputError("source", f"no user has the address {email}")
    if source.get("suspended") or source.get("archived"):
        raise JobInputError("source", f"the source user {source['primaryEmail']} is suspended")
    return source
