"""Field-level checks against Google: each refusal is a `JobInputError` naming the field it is about."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from sync_core.domain.contacts import written_by_a_sync
from sync_core.domain.models import SelectorCreate, SelectorKind
from sync_core.google.directory import DirectoryClient
from sync_core.google.errors import Forbidden, GoogleError, RetryableError
from sync_core.google.people import PeopleClient
from sync_core.kinds import kind_of
from sync_core.run.targets import Resolution, Selector, SelectorError, TargetResolver, parse_selector
from sync_core.service.errors import JobInputError, NoTargets


def parse_targets(texts: Sequence[str]) -> list[Selector]:
    if not texts:
        raise JobInputError("targets", "a sync needs at least one target (e.g. --target group:sales@example.com)")
    try:
        return [parse_selector(t) for t in texts]
    except SelectorError as exc:
        raise JobInputError("targets", str(exc)) from None


def check_selectors(directory: DirectoryClient, selectors: Sequence[Selector]) -> list[SelectorCreate]:
    """Each selector must name something that exists now (its kind says how); email selectors get the user's id.

    Google refusing to look one up is that target's error too: the Directory API answers 403 for an address
    outside the customer's domains. A failure that says nothing about the target stays a `GoogleError`:
    a transient one (quota, Google out of reach: trying again later may work) or one about our own access
    (no answer to the request itself: the token, the delegation)."""
    rows: list[SelectorCreate] = []
    for s in selectors:
        try:
            found = kind_of(s.kind).validate(directory, s.value)
        except SelectorError as exc:
            raise JobInputError("targets", str(exc), target_kind=s.kind) from None
        except GoogleError as exc:
            if not about_the_value(exc):
                raise
            raise JobInputError("targets", google_refused(s.value, exc), target_kind=s.kind) from None
        rows.append(SelectorCreate(kind=SelectorKind(s.kind), value=s.value, resolved_user_id=found.user_id,
                                   resolved_email=found.email))
    return rows


DIRECTORY_HAS_NO_EDITORS = (
    "a Directory Sync has no editors: its contacts are the directory's users, edited in the Google Admin console"
)


def check_editors(directory: DirectoryClient, texts: Sequence[str]) -> list[SelectorCreate]:
    """Editor selectors, parsed and checked as targets are (the same kinds), each refusal about `editors`.
    None given: no editors (a read-only label)."""
    try:
        selectors = [parse_selector(t) for t in texts]
    except SelectorError as exc:
        raise JobInputError("editors", str(exc)) from None
    try:
        return check_selectors(directory, selectors)
    except JobInputError as exc:
        raise JobInputError("editors", exc.message, target_kind=exc.target_kind) from None


class SelectorRow(Protocol):
    """A stored selector or one about to be (`TargetSelector`, `SelectorCreate`)."""

    kind: SelectorKind
    value: str
    resolved_user_id: str | None


def resolve_rows(directory: DirectoryClient, rows: Sequence[SelectorRow], *, source_user_id: str | None) -> Resolution:
    """The users these selectors reach now, as a run resolves them (the source user is no target of their
    own contacts)."""
    selectors = [Selector(r.kind.value, r.value, r.resolved_user_id) for r in rows]
    return TargetResolver(directory).resolve(selectors, exclude_ids={source_user_id} if source_user_id else set())


def require_someone(resolution: Resolution, rows: Sequence[SelectorRow], *, allow_empty: bool) -> None:
    """A sync whose targets reach no one would run "ok" and copy nothing anywhere: refused, naming its
    targets, unless the admin says it is meant (`allow_empty`: e.g. a department that fills up later)."""
    if resolution.reachable or allow_empty:
        return
    labels = [f"{r.kind.value}:{r.value}" for r in rows]
    kinds = {r.kind.value for r in rows}
    one = len(labels) == 1
    raise NoTargets(
        labels,
        f"{', '.join(labels)} match{'es' if one else ''} no one who can receive the contacts (an active user "
        "other than the source): the sync would reach nobody",
        target_kind=kinds.pop() if len(kinds) == 1 else None,
    )


def about_the_value(exc: GoogleError) -> bool:
    """Google answered this request with a refusal (400, 403, 404...), not a transient failure (429, 5xx,
    no answer) nor one about our credentials (401, a token refused)."""
    return exc.status_code is not None and exc.status_code != 401 and not isinstance(exc, RetryableError)


def google_refused(value: str, exc: GoogleError) -> str:
    """A Google error about one value the admin typed, in words that say what to check."""
    if isinstance(exc, Forbidden) and exc.status_code == 403:
        return f"{value}: Google refused to look it up (403): is it an address of this Workspace?"
    code = f" ({exc.status_code})" if exc.status_code else ""
    return f"{value}: Google could not look it up{code}: {exc.reason}"


def find_source_group(people: PeopleClient, name: str, *, owner: str = "the source user") -> dict[str, str]:
    groups = [g for g in people.list_groups() if g.get("groupType") == "USER_CONTACT_GROUP"]
    for g in groups:
        if str(g.get("name", "")).casefold() == name.strip().casefold():
            if written_by_a_sync(g):
                raise JobInputError("group", f"{g.get('name')!r} is a label a sync keeps for {owner}: its contacts "
                                             "are copies, and a sync's source must be where contacts come from")
            return {"resourceName": str(g["resourceName"]), "name": str(g["name"])}
    known = ", ".join(sorted(str(g.get("name")) for g in groups if not written_by_a_sync(g))) or "none"
    raise JobInputError("group", f"{owner} has no contact group named {name!r} (groups: {known})")


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
    try:
        source = directory.get_user(email.strip().lower())
    except GoogleError as exc:
        if not about_the_value(exc):
            raise
        raise JobInputError("source", google_refused(email.strip(), exc)) from None
    if source is None:
        raise JobInputError("source", f"no user has the address {email}")
    if source.get("suspended") or source.get("archived"):
        raise JobInputError("source", f"the source user {source['primaryEmail']} is suspended")
    return source
