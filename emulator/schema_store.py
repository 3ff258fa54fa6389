"""Custom user schemas as data: the state's `directory.schemas`, the rules of a schema and its values,
and what a user's `customSchemas` looks like under each users.get/list projection. The Directory handlers
(`schemas.py`, `directory.py`) and the test controls use these.

A schema is stored as Google answers it minus `kind`/`etag` (added when rendered); a user's values sit in
the user's `customSchemas` {schemaName: {fieldName: value}}, a multi-valued field as [{"value", "type"?,
"customType"?}] (the Directory guide's shape).
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import hashlib
import re
import secrets
from typing import Any

from .core import JSON, ApiError, Call, Workspace, directory_error, invalid_argument, not_found

FIELD_TYPES = frozenset({"STRING", "INT64", "BOOL", "DOUBLE", "EMAIL", "PHONE", "DATE"})
READ_ACCESS_TYPES = frozenset({"ALL_DOMAIN_USERS", "ADMINS_AND_SELF"})
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


def schemas_of(ws: Workspace) -> dict[str, JSON]:
    schemas: dict[str, JSON] = ws.directory.setdefault("schemas", {})
    return schemas


def find_schema(ws: Workspace, key: str) -> JSON | None:
    """By immutable id or by name (names are unique per customer; Google compares them as given)."""
    schemas = schemas_of(ws)
    return schemas.get(key) or next((s for s in schemas.values() if s["schemaName"] == key), None)


# --- what users.get/list show ------------------------------------------------------------------------
def project_custom_schemas(
    ws: Workspace, values: JSON, *, projection: str, mask: str | None, public: bool
) -> JSON | None:
    """The `customSchemas` a users.get/list answer carries (None: leave the key out).

    basic: none; full: all; custom: the schemas named in customFieldMask. The domain_public view shows
    only fields whose readAccessType is ALL_DOMAIN_USERS."""
    if projection == "basic" or not values:
        return None
    wanted = None
    if projection == "custom":
        wanted = {name.strip() for name in (mask or "").split(",") if name.strip()}
    out: JSON = {}
    for schema_name, fields in values.items():
        if wanted is not None and schema_name not in wanted:
            continue
        schema = find_schema(ws, schema_name)
        if public:
            specs = {f["fieldName"]: f for f in (schema or {}).get("fields", [])}
            fields = {
                k: v for k, v in fields.items()
                if specs.get(k, {}).get("readAccessType", "ALL_DOMAIN_USERS") == "ALL_DOMAIN_USERS"
            }
        if fields:
            out[schema_name] = copy.deepcopy(fields)
    return out or None


def check_projection(call: Call) -> str:
    """`projection` (basic by default); `custom` needs customFieldMask."""
    projection = call.q("projection") or "basic"
    if projection not in ("basic", "custom", "full"):
        raise directory_error(400, f"Invalid value '{projection}' for projection", "invalid")
    if projection == "custom" and not (call.q("customFieldMask") or "").strip():
        raise directory_error(400, "Invalid Input: customFieldMask", "invalid")
    return projection


# --- test controls -------------------------------------------------------------------------------------
def _field_id(schema_id: str, field_name: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(f"{schema_id}/{field_name}".encode()).digest()).decode()[:22]


def _field_spec(raw: Any, previous: dict[str, JSON], schema_id: str) -> JSON:
    if not isinstance(raw, dict):
        raise invalid_argument("Each schema field must be an object.")
    name, kind = raw.get("fieldName"), raw.get("fieldType")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise invalid_argument(f"Invalid fieldName {name!r}: letters, digits and _; a letter first.")
    if kind not in FIELD_TYPES:
        raise invalid_argument(f"Invalid fieldType {kind!r} for {name} (one of {', '.join(sorted(FIELD_TYPES))}).")
    access = raw.get("readAccessType", "ALL_DOMAIN_USERS")
    if access not in READ_ACCESS_TYPES:
        raise invalid_argument(f"Invalid readAccessType {access!r} for {name}.")
    spec: JSON = {
        "fieldId": previous.get(name, {}).get("fieldId") or _field_id(schema_id, name),
        "fieldName": name,
        "fieldType": kind,
        "multiValued": bool(raw.get("multiValued", False)),
        "readAccessType": access,
        "displayName": str(raw.get("displayName") or name),
        "indexed": bool(raw.get("indexed", True)),
    }
    if isinstance(raw.get("numericIndexingSpec"), dict):
        spec["numericIndexingSpec"] = dict(raw["numericIndexingSpec"])
    return spec


def _fields(raw: Any, previous: dict[str, JSON], schema_id: str) -> list[JSON]:
    if not isinstance(raw, list) or not raw:
        raise invalid_argument("A schema needs at least one field.")
    specs = [_field_spec(f, previous, schema_id) for f in raw]
    names = [s["fieldName"] for s in specs]
    if len(set(names)) != len(names):
        raise invalid_argument("Field names must be unique within a schema.")
    return specs


def create_schema(ws: Workspace, body: JSON, schema_id: str | None = None) -> JSON:
    """A new schema; `schema_id` fixes its id (the seed's tenant is the same for the same seed)."""
    with ws.lock:
        name = body.get("schemaName")
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise invalid_argument(f"Invalid schemaName {name!r}: letters, digits and _; a letter first.")
        if find_schema(ws, name) is not None:
            raise ApiError(409, "Entity already exists.", "ALREADY_EXISTS")
        new_id = schema_id or secrets.token_urlsafe(16)[:22]
        schema: JSON = {
            "schemaId": new_id,
            "schemaName": name,
            "displayName": str(body.get("displayName") or name),
            "fields": _fields(body.get("fields"), {}, new_id),
        }
        schemas_of(ws)[schema["schemaId"]] = schema
        return copy.deepcopy(schema)


def _require_schema(ws: Workspace, key: str) -> JSON:
    schema = find_schema(ws, key)
    if schema is None:
        raise not_found(f"Schema not found: {key}")
    return schema


def update_schema(ws: Workspace, key: str, body: JSON) -> JSON:
    """New displayName and/or fields (a field keeps its id by name); values of dropped fields go."""
    with ws.lock:
        schema = _require_schema(ws, key)
        if "fields" in body:
            previous = {f["fieldName"]: f for f in schema["fields"]}
            schema["fields"] = _fields(body["fields"], previous, schema["schemaId"])
            kept = {f["fieldName"] for f in schema["fields"]}
            for user in ws.directory["users"].values():
                values = (user.get("customSchemas") or {}).get(schema["schemaName"])
                if values:
                    for field in [f for f in values if f not in kept]:
                        del values[field]
                    if not values:
                        del user["customSchemas"][schema["schemaName"]]
        if body.get("displayName"):
            schema["displayName"] = str(body["displayName"])
        return copy.deepcopy(schema)


def delete_schema(ws: Workspace, key: str) -> None:
    with ws.lock:
        schema = _require_schema(ws, key)
        del schemas_of(ws)[schema["schemaId"]]
        for user in ws.directory["users"].values():
            (user.get("customSchemas") or {}).pop(schema["schemaName"], None)


def _check_value(spec: JSON, value: Any) -> Any:
    kind, where = spec["fieldType"], spec["fieldName"]
    ok = {
        "STRING": isinstance(value, str),
        "PHONE": isinstance(value, str),
        "EMAIL": isinstance(value, str) and "@" in value,
        "BOOL": isinstance(value, bool),
        "INT64": (isinstance(value, int) and not isinstance(value, bool))
        or (isinstance(value, str) and re.fullmatch(r"-?\d+", value) is not None),
        "DOUBLE": isinstance(value, int | float) and not isinstance(value, bool),
        "DATE": isinstance(value, str) and _is_date(value),
    }[kind]
    if not ok:
        raise invalid_argument(f"Invalid value {value!r} for {kind} field {where}.")
    return value


def _is_date(value: str) -> bool:
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def set_custom_values(ws: Workspace, user: JSON, body: JSON) -> JSON:
    """Set a user's values, schema by schema: {schemaName: {field: value} | null}; a schema named with
    null or {} loses all its values; schemas not named keep theirs."""
    with ws.lock:
        current: JSON = copy.deepcopy(user.get("customSchemas") or {})
        for schema_name, values in body.items():
            schema = find_schema(ws, schema_name)
            if schema is None:
                raise invalid_argument(f"Unknown custom schema {schema_name}.")
            if not values:
                current.pop(schema["schemaName"], None)
                continue
            if not isinstance(values, dict):
                raise invalid_argument(f"Values of {schema_name} must be an object of field: value.")
            specs = {f["fieldName"]: f for f in schema["fields"]}
            clean: JSON = {}
            for field, value in values.items():
                spec = specs.get(field)
                if spec is None:
                    raise invalid_argument(f"Unknown field {field} in custom schema {schema_name}.")
                if spec["multiValued"]:
                    if not isinstance(value, list) or not all(isinstance(v, dict) and "value" in v for v in value):
                        raise invalid_argument(f"{schema_name}.{field} is multi-valued: give [{{\"value\": ...}}].")
                    clean[field] = [{**v, "value": _check_value(spec, v["value"])} for v in value]
                elif value is not None:
                    clean[field] = _check_value(spec, value)
            if clean:
                current[schema["schemaName"]] = clean
            else:
                current.pop(schema["schemaName"], None)
        if current:
            user["customSchemas"] = current
        else:
            user.pop("customSchemas", None)
        return user
