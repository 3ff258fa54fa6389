"""Admin SDK Directory `schemas.list` and `schemas.get` (read side; schemas are written through the test
controls, see `schema_store.py`)."""

from __future__ import annotations

import copy

from .core import JSON, Call, directory_error, handles
from .directory import check_customer, list_answer, with_meta
from .schema_store import find_schema, schemas_of


def render_schema(schema: JSON) -> JSON:
    out = copy.deepcopy(schema)
    out["fields"] = [with_meta(f, "admin#directory#schema#fieldspec") for f in schema["fields"]]
    return with_meta(out, "admin#directory#schema")



@handles("directory.schemas.list")
def schemas_list(call: Call) -> JSON:
    check_customer(call.ws, call.path_params["customerId"])
    items = [render_schema(s) for s in schemas_of(call.ws).values()]
    return list_answer("admin#directory#schemas", "schemas", items)


@handles("directory.schemas.get")
def schemas_get(call: Call) -> JSON:
    check_customer(call.ws, call.path_params["customerId"])
    schema = find_schema(call.ws, call.path_params["schemaKey"])
    if schema is None:
        raise directory_error(404, "Resource Not Found: schemaKey", "notFound")
    return render_schema(schema)
