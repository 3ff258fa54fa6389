"""Routes built from the discovery documents shipped with googleapiclient, so the emulator accepts
exactly the URLs, methods and query parameters the real client sends, and rejects the rest the way
Google does.

With `client_options={"api_endpoint": URL}` the client joins each method's `path` to URL, so People
answers under `/v1/...` and Directory under `/admin/directory/v1/...` on the same host.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from urllib.parse import unquote

import googleapiclient

from .core import JSON, ApiError

DISCOVERY_DIR = Path(googleapiclient.__file__).parent / "discovery_cache" / "documents"
DISCOVERY_FILES = ("people.v1.json", "admin.directory_v1.json")


@dataclass
class Route:
    method_id: str
    http_method: str
    pattern: re.Pattern[str]  # from flatPath: one segment per variable
    path_pattern: re.Pattern[str]  # from path: `{+name}` spans slashes (e.g. resourceName=people/c1)
    wide_pattern: re.Pattern[str]  # flatPath whose variables may span slashes (nested org unit paths)
    parameters: frozenset[str]
    scopes: frozenset[str]
    legacy_errors: bool  # Admin SDK answers errors in the legacy {errors: [...]} shape
    repeated: frozenset[str] = field(default_factory=frozenset)

    def path_params(self, path: str, *, flat_only: bool) -> dict[str, str] | None:
        """Variables of both templates (flatPath names like `peopleId`, path names like `resourceName`)."""
        flat = self.pattern.fullmatch(path)
        full = self.path_pattern.fullmatch(path)
        if flat is None and (flat_only or full is None or not self.wide_pattern.fullmatch(path)):
            return None
        params = {k: unquote(v) for k, v in flat.groupdict().items()} if flat else {}
        if full is not None:
            params.update({k: unquote(v) for k, v in full.groupdict().items()})
        return params


def _template_regex(
    template: str, *, reserved_spans_slash: bool, any_spans_slash: bool = False
) -> re.Pattern[str]:
    out, pos = [], 0
    for m in re.finditer(r"\{(\+?)([^}]+)\}", template):
        out.append(re.escape(template[pos : m.start()]))
        name = re.sub(r"\W", "_", m.group(2))
        spans = any_spans_slash or (m.group(1) and reserved_spans_slash)
        body = ".+?" if spans else "[^/:]+"
        out.append(f"(?P<{name}>{body})")
        pos = m.end()
    out.append(re.escape(template[pos:]))
    return re.compile("/" + "".join(out))


def _walk(resources: JSON) -> list[JSON]:
    methods: list[JSON] = []
    for res in resources.values():
        methods.extend(res.get("methods", {}).values())
        methods.extend(_walk(res.get("resources", {})))
    return methods


@dataclass
class RouteTable:
    routes: list[Route]
    global_parameters: frozenset[str]

    def match(self, http_method: str, path: str) -> tuple[Route, dict[str, str]]:
        # flatPath first; then `{+var}` paths that span slashes (nested org unit paths), most literal first
        for flat_only in (True, False):
            found = [
                (route, params)
                for route in self.routes
                if route.http_method == http_method
                and (params := route.path_params(path, flat_only=flat_only)) is not None
            ]
            if found:
                return max(
                    found, key=lambda rp: len(re.sub(r"\(\?P<[^)]*\)", "", rp[0].path_pattern.pattern))
                )
        legacy = path.startswith("/admin/")
        raise ApiError(
            404,
            f"Method not found: {http_method} {path}" if not legacy else "Not Found",
            "NOT_FOUND",
            reason="notFound" if legacy else None,
        )

    def check_query(self, route: Route, query: dict[str, list[str]]) -> None:
        for name in query:
            if name not in route.parameters and name not in self.global_parameters:
                message = (
                    f'Invalid JSON payload received. Unknown name "{name}": Cannot bind query parameter. '
                    f"Field '{name}' could not be found in request message."
                )
                details = [
                    {
                        "@type": "type.googleapis.com/google.rpc.BadRequest",
                        "fieldViolations": [{"description": message}],
                    }
                ]
                raise ApiError(
                    400,
                    message,
                    "INVALID_ARGUMENT",
                    details=details,
                    reason="invalid" if route.legacy_errors else None,
                )


@cache
def route_table() -> RouteTable:
    routes: list[Route] = []
    global_params: set[str] = set()
    for filename in DISCOVERY_FILES:
        doc = json.loads((DISCOVERY_DIR / filename).read_text(encoding="utf-8"))
        global_params |= set(doc.get("parameters", {}))
        legacy = doc["name"] == "admin"
        for method in _walk(doc["resources"]):
            flat = str(method.get("flatPath") or method["path"])
            params = method.get("parameters", {})
            routes.append(
                Route(
                    method_id=method["id"],
                    http_method=method["httpMethod"],
                    pattern=_template_regex(flat, reserved_spans_slash=False),
                    path_pattern=_template_regex(method["path"], reserved_spans_slash=True),
                    wide_pattern=_template_regex(flat, reserved_spans_slash=False, any_spans_slash=True),
                    parameters=frozenset(params),
                    scopes=frozenset(method.get("scopes", [])),
                    legacy_errors=legacy,
                    repeated=frozenset(n for n, p in params.items() if p.get("repeated")),
                )
            )
    # Literal routes first, so `v1/people:batchGet` never falls to `v1/people/{peopleId}`-like patterns.
    routes.sort(key=lambda r: r.pattern.pattern.count("(?P<"))
    return RouteTable(routes, frozenset(global_params))
