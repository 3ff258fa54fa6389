"""Admin SDK Directory API v1 handlers (read side) over the workspace state.

Every handler is registered by its discovery method id and answers Google-shaped JSON. The server has
already checked the access token, its scopes and that the caller is an administrator. Errors use the
Admin SDK's legacy shape (`directory_error`), with the messages Google is seen to answer:

- unknown user / group / member: 404 `notFound` "Resource Not Found: userKey|groupKey|memberKey"
- missing or wrong `customer`: 400 `badRequest` "Bad Request"
- a domain the tenant does not own: 403 `forbidden` "Not Authorized to access this resource/api"
- a query that does not parse: 400 `invalid` "Invalid Input"; an unknown OU in it:
  "Invalid Input: INVALID_OU_ID"
- `maxResults` outside the discovery range: 400 `invalid` "Invalid value 'N'. Values must be within the
  range: [1, MAX]"

List answers omit an empty item array, as Google does. Page tokens are opaque keyset cursors: a page
starts after the sort key of the previous page's last item, so items added or removed between pages
neither repeat nor vanish.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from emulator.core import JSON, ApiError, Call, Workspace, directory_error, handles
from emulator.schema_store import check_projection, project_custom_schemas

NOT_AUTHORIZED = "Not Authorized to access this resource/api"
MY_CUSTOMER = "my_customer"

SortKey = tuple[str, ...]


# --- errors --------------------------------------------------------------------------------------
def bad_request() -> ApiError:
    return directory_error(400, "Bad Request", "badRequest")


def invalid_input(detail: str | None = None) -> ApiError:
    return directory_error(400, f"Invalid Input: {detail}" if detail else "Invalid Input", "invalid")


def resource_not_found(what: str) -> ApiError:
    return directory_error(404, f"Resource Not Found: {what}", "notFound")


def not_authorized() -> ApiError:
    return directory_error(403, NOT_AUTHORIZED, "forbidden")


# --- small helpers -------------------------------------------------------------------------------
def etag_of(resource: JSON) -> str:
    digest = hashlib.sha1(json.dumps(resource, sort_keys=True, ensure_ascii=False).encode()).digest()
    return '"' + base64.urlsafe_b64encode(digest).decode().rstrip("=") + '"'


def with_meta(resource: JSON, kind: str) -> JSON:
    out = {"kind": kind, **{k: v for k, v in resource.items() if k not in ("kind", "etag")}}
    out["etag"] = etag_of(out)
    return out


def list_answer(kind: str, key: str, items: list[JSON], next_token: str | None = None) -> JSON:
    body: JSON = {"kind": kind}
    if items:
        body[key] = items
    if next_token:
        body["nextPageToken"] = next_token
    body["etag"] = etag_of(body)
    return body


def flag(call: Call, name: str) -> bool:
    return (call.q(name) or "").lower() == "true"


def domain_of(email: str) -> str:
    return email.rpartition("@")[2].lower()


def tenant_domains(ws: Workspace) -> set[str]:
    return {d["domainName"].lower() for d in ws.directory["domains"]}


def check_domain(ws: Workspace, key: str) -> None:
    """An address in a domain the tenant does not own is refused, not reported missing."""
    if "@" in key and domain_of(key) not in tenant_domains(ws):
        raise not_authorized()


def check_customer(ws: Workspace, customer: str | None) -> None:
    if customer not in (MY_CUSTOMER, ws.directory["customer"]["id"]):
        raise bad_request()


# --- paging --------------------------------------------------------------------------------------
def max_results(call: Call, *, default: int, maximum: int, strict: bool) -> int:
    """Discovery-declared ranges are enforced; where only the docs state a maximum it is a cap."""
    raw = call.q("maxResults")
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1 or (strict and value > maximum):
        raise directory_error(
            400, f"Invalid value '{raw}'. Values must be within the range: [1, {maximum}]", "invalid"
        )
    return min(value, maximum)


def encode_token(method_id: str, key: SortKey) -> str:
    raw = json.dumps({"m": method_id, "k": list(key)}, ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(method_id: str, token: str) -> SortKey:
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if data["m"] != method_id or not all(isinstance(k, str) for k in data["k"]):
            raise ValueError(token)
        return tuple(data["k"])
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise invalid_input("pageToken") from exc


@dataclass(frozen=True)
class Page:
    items: list[JSON]
    next_token: str | None


def paginate(
    call: Call, items: list[JSON], key: Callable[[JSON], SortKey], *, size: int, descending: bool = False
) -> Page:
    """Sort by `key` (unique per item) and cut the page that follows the caller's page token."""
    ordered = sorted(items, key=key, reverse=descending)
    token = call.q("pageToken")
    if token:
        last = decode_token(call.method_id, token)
        ordered = [it for it in ordered if (key(it) < last if descending else key(it) > last)]
    page = ordered[:size]
    more = len(ordered) > size
    return Page(page, encode_token(call.method_id, key(page[-1])) if more else None)


# --- users: look-ups and rendering ---------------------------------------------------------------
def find_user(ws: Workspace, key: str) -> JSON:
    user = ws.user_by_key(key)
    if user is None:
        check_domain(ws, key)
        raise resource_not_found("userKey")
    return user


def full_name(user: JSON) -> str:
    name = user.get("name", {})
    return name.get("fullName") or f"{name.get('givenName', '')} {name.get('familyName', '')}".strip()


def user_emails(user: JSON) -> list[JSON]:
    """`emails` as Google lists them: the primary, then the aliases, then any other stored address."""
    primary = user["primaryEmail"]
    emails: list[JSON] = [{"address": primary, "primary": True}]
    emails += [{"address": alias} for alias in user.get("aliases", [])]
    known = {e["address"].lower() for e in emails}
    emails += [e for e in user.get("emails", []) if e.get("address", "").lower() not in known]
    return emails


USER_DEFAULTS: JSON = {
    "isAdmin": False,
    "isDelegatedAdmin": False,
    "suspended": False,
    "archived": False,
    "orgUnitPath": "/",
    "includeInGlobalAddressList": True,
    "isMailboxSetup": True,
    "agreedToTerms": True,
    "changePasswordAtNextLogin": False,
    "ipWhitelisted": False,
    "isEnrolledIn2Sv": False,
    "isEnforcedIn2Sv": False,
}

# What another user of the domain may see (viewType=domain_public).
PUBLIC_USER_FIELDS = frozenset(
    {"id", "primaryEmail", "name", "emails", "phones", "addresses", "organizations", "relations",
     "thumbnailPhotoUrl", "thumbnailPhotoEtag", "kind", "etag", "customSchemas"}
)


def render_user(
    ws: Workspace, user: JSON, *, public: bool = False, projection: str = "basic", mask: str | None = None
) -> JSON:
    out: JSON = {**USER_DEFAULTS, **user}
    out["customerId"] = ws.directory["customer"]["id"]
    out["name"] = {**user.get("name", {}), "fullName": full_name(user)}
    out["emails"] = user_emails(user)
    photo = ws.directory["photos"].get(user["id"])
    if photo:
        out["thumbnailPhotoUrl"] = f"https://lh3.googleusercontent.com/a-/emulated/{user['id']}"
        out["thumbnailPhotoEtag"] = etag_of(photo)
    custom = project_custom_schemas(
        ws, user.get("customSchemas") or {}, projection=projection, mask=mask, public=public
    )
    out.pop("customSchemas", None)
    if custom:
        out["customSchemas"] = custom
    if public:
        out = {k: v for k, v in out.items() if k in PUBLIC_USER_FIELDS}
    return with_meta(out, "admin#directory#user")


def is_public_view(call: Call) -> bool:
    return call.q("viewType", "admin_view") == "domain_public"


def visible(user: JSON, public: bool) -> bool:
    return not public or user.get("includeInGlobalAddressList", True)


# --- users.list query language -------------------------------------------------------------------
UserPredicate = Callable[[JSON], bool]

_CLAUSE = re.compile(
    r"""\s*(?:(?P<field>[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)?)\s*(?P<op>[=:])\s*)?"""
    r"""(?P<value>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|[^\s'"]+)"""
)


@dataclass(frozen=True)
class Clause:
    field: str | None
    op: str
    value: str


def parse_query(query: str) -> list[Clause]:
    """Split a users.list query into `field op value` clauses (implicit AND) and bare terms."""
    clauses: list[Clause] = []
    pos = 0
    while query[pos:].strip():
        match = _CLAUSE.match(query, pos)
        if not match:
            raise invalid_input()
        pos = match.end()
        raw = match["value"]
        value = re.sub(r"\\(.)", r"\1", raw[1:-1]) if raw[0] in "'\"" else raw
        if match["field"] is None and raw[0] not in "'\"" and re.search(r"[=:]", raw):
            raise invalid_input()
        clauses.append(Clause(match["field"], match["op"] or ":", value))
    return clauses


def text_match(candidates: Iterable[str], op: str, value: str) -> bool:
    wanted = value.lower()
    for text in (c.lower() for c in candidates if c):
        if op == "=" and text == wanted:
            return True
        if op == ":" and wanted.endswith("*") and text.startswith(wanted[:-1]):
            return True
        if op == ":" and not wanted.endswith("*") and wanted in text:
            return True
    return False


def _emails(u: JSON) -> list[str]:
    return [u["primaryEmail"], *u.get("aliases", [])]


def _org_values(attr: str) -> Callable[[JSON], list[str]]:
    return lambda u: [o.get(attr, "") for o in u.get("organizations", [])]


TEXT_FIELDS: dict[str, tuple[Callable[[JSON], list[str]], str]] = {
    # field: (values of a user, allowed operators)
    "email": (_emails, "=:"),
    "givenName": (lambda u: [u.get("name", {}).get("givenName", "")], "=:"),
    "familyName": (lambda u: [u.get("name", {}).get("familyName", "")], "=:"),
    "name": (lambda u: [full_name(u)], "=:"),
    "orgName": (_org_values("name"), "=:"),
    "orgTitle": (_org_values("title"), "=:"),
    "orgDepartment": (_org_values("department"), "=:"),
    "orgDescription": (_org_values("description"), "=:"),
    "orgCostCenter": (_org_values("costCenter"), "=:"),
    "phone": (lambda u: [p.get("value", "") for p in u.get("phones", [])], "="),
}

BOOL_FIELDS: dict[str, Callable[[JSON], bool]] = {
    "isAdmin": lambda u: bool(u.get("isAdmin")),
    "isDelegatedAdmin": lambda u: bool(u.get("isDelegatedAdmin")),
    "isSuspended": lambda u: bool(u.get("suspended")),
    "isArchived": lambda u: bool(u.get("archived")),
}


def direct_manager(u: JSON) -> str | None:
    return next((r.get("value") for r in u.get("relations", []) if r.get("type") == "manager"), None)


def manager_chain(ws: Workspace, user: JSON) -> Iterator[JSON]:
    seen = {user["id"]}
    current: JSON | None = user
    while current is not None:
        address = direct_manager(current)
        current = ws.user_by_key(address) if address else None
        if current is None or current["id"] in seen:
            return
        seen.add(current["id"])
        yield current


def ou_clause(ws: Workspace, clause: Clause) -> UserPredicate:
    """orgUnitPath=/X matches the users of /X and of every unit below it."""
    if clause.op != "=":
        raise invalid_input()
    target = "/" + clause.value.strip("/")
    if find_orgunit(ws, target) is None:
        raise invalid_input("INVALID_OU_ID")
    prefix = target.lower().rstrip("/") + "/"
    return lambda u: target == "/" or (u.get("orgUnitPath", "/").lower() + "/").startswith(prefix)


def manager_clause(ws: Workspace, clause: Clause) -> UserPredicate:
    if clause.op != "=":
        raise invalid_input()
    wanted = clause.value.lower()
    field = clause.field or ""
    by_id = field.endswith("Id")

    def ident(m: JSON) -> list[str]:
        return [m["id"]] if by_id else _emails(m)

    if field.startswith("direct"):
        def managers(u: JSON) -> list[JSON]:
            address = direct_manager(u)
            found = ws.user_by_key(address) if address else None
            return [found] if found else []
    else:
        def managers(u: JSON) -> list[JSON]:
            return list(manager_chain(ws, u))

    return lambda u: any(wanted in (i.lower() for i in ident(m)) for m in managers(u))


def custom_values(u: JSON, schema: str, field: str) -> list[str]:
    """A custom schema field's values: single-valued fields hold a value, multi-valued ones [{value}]."""
    raw = (u.get("customSchemas") or {}).get(schema, {}).get(field)
    items = raw if isinstance(raw, list) else [] if raw is None else [raw]
    values = [i.get("value") if isinstance(i, dict) else i for i in items]
    return [str(v).lower() if isinstance(v, bool) else str(v) for v in values if v is not None]


def custom_clause(clause: Clause) -> UserPredicate:
    """`Schema.Field=value` (exact) or `Schema.Field:value` (contains; `:prefix*`), on a custom attribute."""
    schema, _dot, field = (clause.field or "").partition(".")
    if not clause.value:
        raise invalid_input()
    return lambda u: text_match(custom_values(u, schema, field), clause.op, clause.value)


def clause_predicate(ws: Workspace, clause: Clause) -> UserPredicate:
    field = clause.field
    if field is not None and "." in field:
        return custom_clause(clause)
    if field is None:
        fields = ("givenName", "familyName", "email")
        return lambda u: any(text_match(TEXT_FIELDS[f][0](u), ":", clause.value) for f in fields)
    if field in TEXT_FIELDS:
        values, ops = TEXT_FIELDS[field]
        if clause.op not in ops:
            raise invalid_input()
        return lambda u: text_match(values(u), clause.op, clause.value)
    if field in BOOL_FIELDS:
        if clause.op != "=" or clause.value.lower() not in ("true", "false"):
            raise invalid_input()
        wanted = clause.value.lower() == "true"
        test = BOOL_FIELDS[field]
        return lambda u: test(u) == wanted
    if field == "orgUnitPath":
        return ou_clause(ws, clause)
    if field in ("manager", "managerId", "directManager", "directManagerId"):
        return manager_clause(ws, clause)
    raise invalid_input()


def query_predicate(ws: Workspace, query: str | None) -> UserPredicate:
    tests = [clause_predicate(ws, c) for c in parse_query(query or "")]
    return lambda u: all(t(u) for t in tests)


# --- users ---------------------------------------------------------------------------------------
USER_ORDER: dict[str, Callable[[JSON], str]] = {
    "email": lambda u: u["primaryEmail"].lower(),
    "givenName": lambda u: u.get("name", {}).get("givenName", "").lower(),
    "familyName": lambda u: u.get("name", {}).get("familyName", "").lower(),
}


def user_scope(call: Call) -> Callable[[JSON], bool]:
    """`customer` lists the whole tenant; `domain` only the users whose address is on that domain."""
    customer, domain = call.q("customer"), call.q("domain")
    if customer:
        check_customer(call.ws, customer)
        return lambda u: True
    if not domain:
        raise bad_request()
    if domain.lower() not in tenant_domains(call.ws):
        raise not_authorized()
    return lambda u: domain_of(u["primaryEmail"]) == domain.lower()


@handles("directory.users.list")
def users_list(call: Call) -> JSON:
    in_scope = user_scope(call)
    size = max_results(call, default=100, maximum=500, strict=True)
    public = is_public_view(call)
    matches = query_predicate(call.ws, call.q("query"))
    pool = call.ws.directory["deleted_users" if flag(call, "showDeleted") else "users"]
    found = [u for u in pool.values() if in_scope(u) and visible(u, public) and matches(u)]
    order = USER_ORDER.get(call.q("orderBy") or "email")
    if order is None:
        raise invalid_input("orderBy")
    page = paginate(
        call, found, lambda u: (order(u), u["id"]), size=size,
        descending=call.q("sortOrder") == "DESCENDING",
    )
    projection, mask = check_projection(call), call.q("customFieldMask")
    users = [render_user(call.ws, u, public=public, projection=projection, mask=mask) for u in page.items]
    return list_answer("admin#directory#users", "users", users, page.next_token)


@handles("directory.users.get")
def users_get(call: Call) -> JSON:
    public = is_public_view(call)
    user = find_user(call.ws, call.path_params["userKey"])
    if not visible(user, public):
        raise resource_not_found("userKey")
    return render_user(
        call.ws, user, public=public, projection=check_projection(call), mask=call.q("customFieldMask")
    )


@handles("directory.users.photos.get")
def users_photos_get(call: Call) -> JSON:
    user = find_user(call.ws, call.path_params["userKey"])
    photo = call.ws.directory["photos"].get(user["id"])
    if photo is None:
        raise resource_not_found("photo")
    return with_meta({**photo, "id": user["id"], "primaryEmail": user["primaryEmail"]},
                     "admin#directory#user#photo")


# --- groups and members --------------------------------------------------------------------------
def group_by_key(ws: Workspace, key: str) -> JSON | None:
    groups: dict[str, JSON] = ws.directory["groups"]
    if key in groups:
        return groups[key]
    k = key.lower()

    def named(g: JSON) -> bool:
        return k == g["email"].lower() or k in (a.lower() for a in g.get("aliases", []))

    return next((g for g in groups.values() if named(g)), None)


def find_group(ws: Workspace, key: str) -> JSON:
    group = group_by_key(ws, key)
    if group is None:
        check_domain(ws, key)
        raise resource_not_found("groupKey")
    return group


def members_of(ws: Workspace, group_id: str) -> list[JSON]:
    members: list[JSON] = ws.directory["members"].get(group_id, [])
    return members


def render_group(ws: Workspace, group: JSON) -> JSON:
    out = {"adminCreated": True, **group, "directMembersCount": str(len(members_of(ws, group["id"])))}
    return with_meta(out, "admin#directory#group")


def current_member(ws: Workspace, member: JSON) -> JSON:
    """A member as Google answers it now: the address follows renames, the status suspensions."""
    out = {**member}
    if member.get("type") == "GROUP":
        group = ws.directory["groups"].get(member.get("id", ""))
        if group:
            out["email"] = group["email"]
        out.setdefault("status", "ACTIVE")
    else:
        user = ws.directory["users"].get(member.get("id", ""))
        if user:
            out["email"] = user["primaryEmail"]
            out["status"] = "SUSPENDED" if user.get("suspended") else "ACTIVE"
        out.setdefault("type", "USER")
    out.setdefault("role", "MEMBER")
    return out


def derived_members(ws: Workspace, group_id: str, seen: set[str] | None = None) -> Iterator[JSON]:
    """The USER members of the nested groups of `group_id`, depth first, each nested group once."""
    seen = seen if seen is not None else {group_id}
    for member in members_of(ws, group_id):
        if member.get("type") == "GROUP" and member.get("id") not in seen:
            seen.add(member["id"])
            for inner in members_of(ws, member["id"]):
                if inner.get("type", "USER") == "USER":
                    yield inner
            yield from derived_members(ws, member["id"], seen)


def member_identity(member: JSON) -> str:
    return member.get("id") or member.get("email", "").lower()


def listed_members(ws: Workspace, group_id: str, derived: bool) -> list[JSON]:
    """Direct members; with derived membership also the users of nested groups (each user once)."""
    listed: dict[str, JSON] = {}
    for member in members_of(ws, group_id):
        listed.setdefault(member_identity(member), member)
    if derived:
        for member in derived_members(ws, group_id):
            listed.setdefault(member_identity(member), member)
    return [current_member(ws, m) for m in listed.values()]


@handles("directory.groups.get")
def groups_get(call: Call) -> JSON:
    return render_group(call.ws, find_group(call.ws, call.path_params["groupKey"]))


def groups_of_member(ws: Workspace, key: str) -> set[str]:
    """Ids of the groups whose direct members include the user, group or external address `key`."""
    entity = ws.user_by_key(key) or group_by_key(ws, key)
    ident = entity["id"] if entity else None
    address = key.lower()
    return {
        gid
        for gid, members in ws.directory["members"].items()
        if any((ident and m.get("id") == ident) or m.get("email", "").lower() == address for m in members)
    }


def group_scope(call: Call) -> Callable[[JSON], bool]:
    customer, domain, user_key = call.q("customer"), call.q("domain"), call.q("userKey")
    tests: list[Callable[[JSON], bool]] = []
    if customer:
        check_customer(call.ws, customer)
    elif domain:
        if domain.lower() not in tenant_domains(call.ws):
            raise not_authorized()
        tests.append(lambda g: domain_of(g["email"]) == domain.lower())
    elif not user_key:
        raise bad_request()
    if user_key:
        ids = groups_of_member(call.ws, user_key)
        tests.append(lambda g: g["id"] in ids)
    return lambda g: all(t(g) for t in tests)


GROUP_TEXT_FIELDS: dict[str, Callable[[JSON], list[str]]] = {
    "email": lambda g: [g["email"], *g.get("aliases", [])],
    "name": lambda g: [g.get("name", "")],
}


def group_clause(clause: Clause) -> Callable[[JSON], bool]:
    if clause.field not in GROUP_TEXT_FIELDS:
        raise invalid_input()
    values = GROUP_TEXT_FIELDS[clause.field]
    return lambda g: text_match(values(g), clause.op, clause.value)


def group_query_predicate(query: str | None) -> Callable[[JSON], bool]:
    tests = [group_clause(c) for c in parse_query(query or "")]
    return lambda g: all(t(g) for t in tests)


@handles("directory.groups.list")
def groups_list(call: Call) -> JSON:
    in_scope = group_scope(call)
    matches = group_query_predicate(call.q("query"))
    size = max_results(call, default=200, maximum=200, strict=False)
    found = [g for g in call.ws.directory["groups"].values() if in_scope(g) and matches(g)]
    page = paginate(
        call, found, lambda g: (g["email"].lower(), g["id"]), size=size,
        descending=call.q("sortOrder") == "DESCENDING",
    )
    groups = [render_group(call.ws, g) for g in page.items]
    return list_answer("admin#directory#groups", "groups", groups, page.next_token)


def role_filter(call: Call) -> set[str] | None:
    roles = call.q("roles")
    if not roles:
        return None
    wanted = {r.strip().upper() for r in roles.split(",") if r.strip()}
    if not wanted <= {"OWNER", "MANAGER", "MEMBER"}:
        raise invalid_input("roles")
    return wanted


@handles("directory.members.list")
def members_list(call: Call) -> JSON:
    group = find_group(call.ws, call.path_params["groupKey"])
    size = max_results(call, default=200, maximum=200, strict=False)
    roles = role_filter(call)
    found = listed_members(call.ws, group["id"], flag(call, "includeDerivedMembership"))
    found = [m for m in found if roles is None or m["role"] in roles]
    page = paginate(call, found, lambda m: (m.get("email", "").lower(), member_identity(m)), size=size)
    members = [with_meta(m, "admin#directory#member") for m in page.items]
    return list_answer("admin#directory#members", "members", members, page.next_token)


@handles("directory.members.hasMember")
def members_has_member(call: Call) -> JSON:
    """Direct or nested membership; nested only within one domain, as Google documents."""
    group = find_group(call.ws, call.path_params["groupKey"])
    key = call.path_params["memberKey"]
    entity = call.ws.user_by_key(key) or group_by_key(call.ws, key)
    ident = entity["id"] if entity else key.lower()
    direct = {member_identity(m) for m in members_of(call.ws, group["id"])}
    if ident in direct:
        return {"isMember": True}
    if entity is None:
        raise resource_not_found("memberKey")
    address = entity.get("primaryEmail") or entity["email"]
    if domain_of(address) != domain_of(group["email"]):
        raise invalid_input("memberKey")
    nested = {member_identity(m) for m in derived_members(call.ws, group["id"])}
    nested |= nested_group_ids(call.ws, group["id"])
    return {"isMember": ident in nested}


def nested_group_ids(ws: Workspace, group_id: str) -> set[str]:
    found: set[str] = set()
    stack = [group_id]
    while stack:
        for member in members_of(ws, stack.pop()):
            if member.get("type") == "GROUP" and member["id"] not in found:
                found.add(member["id"])
                stack.append(member["id"])
    return found


# --- roles and role assignments ------------------------------------------------------------------
def numeric_key(value: str) -> SortKey:
    return (value.zfill(24),)


@handles("directory.roles.list")
def roles_list(call: Call) -> JSON:
    check_customer(call.ws, call.path_params["customer"])
    size = max_results(call, default=100, maximum=100, strict=True)
    roles = list(call.ws.directory["roles"].values())
    page = paginate(call, roles, lambda r: numeric_key(r["roleId"]), size=size)
    items = [with_meta({"isSystemRole": False, "isSuperAdminRole": False, **r}, "admin#directory#role")
             for r in page.items]
    return list_answer("admin#directory#roles", "items", items, page.next_token)


def assignee_ids(call: Call) -> set[str] | None:
    """The ids a `userKey` filter selects; with indirect assignments also its groups (transitively)."""
    user_key = call.q("userKey")
    if not user_key:
        return None
    entity = call.ws.user_by_key(user_key) or group_by_key(call.ws, user_key)
    if entity is None:
        check_domain(call.ws, user_key)
        raise resource_not_found("userKey")
    ids = {entity["id"]}
    if flag(call, "includeIndirectRoleAssignments"):
        frontier = {entity["id"]}
        while frontier:
            parents = {gid for key in frontier for gid in groups_of_member(call.ws, key)} - ids
            ids |= parents
            frontier = parents
    return ids


def render_assignment(ws: Workspace, assignment: JSON) -> JSON:
    assignee = "group" if assignment["assignedTo"] in ws.directory["groups"] else "user"
    return with_meta({"assigneeType": assignee, **assignment}, "admin#directory#roleAssignment")


@handles("directory.roleAssignments.list")
def role_assignments_list(call: Call) -> JSON:
    check_customer(call.ws, call.path_params["customer"])
    if call.q("userKey") and call.q("roleId"):
        raise bad_request()  # Google refuses the two filters together (GAM-team/GAM#1406)
    size = max_results(call, default=100, maximum=200, strict=True)
    ids, role_id = assignee_ids(call), call.q("roleId")
    found = [
        a for a in call.ws.directory["role_assignments"].values()
        if (ids is None or a["assignedTo"] in ids) and (role_id is None or a["roleId"] == role_id)
    ]
    page = paginate(call, found, lambda a: numeric_key(a["roleAssignmentId"]), size=size)
    items = [render_assignment(call.ws, a) for a in page.items]
    return list_answer("admin#directory#roleAssignments", "items", items, page.next_token)


# --- org units and domains -----------------------------------------------------------------------
def find_orgunit(ws: Workspace, key: str) -> JSON | None:
    """By `id:...` (or the bare id), or by path with or without the leading slash."""
    units: dict[str, JSON] = ws.directory["orgunits"]
    bare = key[3:] if key.startswith("id:") else key
    for unit in units.values():
        if unit["orgUnitId"] in (key, f"id:{bare}"):
            return unit
    path = ("/" + key.strip("/")).lower()
    return next((u for u in units.values() if u["orgUnitPath"].lower() == path), None)


def require_orgunit(ws: Workspace, key: str) -> JSON:
    unit = find_orgunit(ws, key)
    if unit is None:
        raise directory_error(404, "Org unit not found", "notFound")
    return unit


def is_below(unit: JSON, base: JSON) -> bool:
    path, root = unit["orgUnitPath"], base["orgUnitPath"]
    return path != root and (root == "/" or path.startswith(root + "/"))


@handles("directory.orgunits.list")
def orgunits_list(call: Call) -> JSON:
    check_customer(call.ws, call.path_params["customerId"])
    base = require_orgunit(call.ws, call.q("orgUnitPath") or "/")
    kind = call.q("type") or "children"
    units = call.ws.directory["orgunits"].values()
    if kind == "children":
        found = [u for u in units if u.get("parentOrgUnitId") == base["orgUnitId"]]
    else:
        found = [u for u in units if is_below(u, base)]
        if kind == "allIncludingParent":
            found.insert(0, base)
    found.sort(key=lambda u: (u is not base, u["orgUnitPath"].lower()))
    items = [with_meta(u, "admin#directory#orgUnit") for u in found]
    return list_answer("admin#directory#orgUnits", "organizationUnits", items)


@handles("directory.orgunits.get")
def orgunits_get(call: Call) -> JSON:
    check_customer(call.ws, call.path_params["customerId"])
    unit = require_orgunit(call.ws, call.path_params["orgUnitPath"])
    return with_meta(unit, "admin#directory#orgUnit")


@handles("directory.domains.list")
def domains_list(call: Call) -> JSON:
    check_customer(call.ws, call.path_params["customer"])
    domains = [with_meta(d, "admin#directory#domain") for d in call.ws.directory["domains"]]
    return list_answer("admin#directory#domains", "domains", domains)
