"""A Directory Sync's field mapping (`--directory-fields 'SOURCE=TARGET,...'`): more of the directory on the card.

SOURCE is a Directory user field this module knows how to read as plain values (`USER_SOURCES`: externalIds,
employeeId, locations, costCenter, ...) or a custom schema field `Schema.Field`; TARGET is a People field that
holds plain values (`TARGETS`: nicknames, urls, externalIds, ...) or `userDefined:KEY` (a labelled custom field
on the card). `externalIds=externalIds` and `locations=locations` copy whole entries (`SAME_SHAPE`): the
Directory's external ids and desks as People's, type and parts included.

Pure: parsing, checking against the schemas the Directory lists (`schemas.list`, fetched by the caller), and
applying a mapping to one Directory `User` (as `users.list` answers it, `customSchemas` included when the
mapping names a schema). A mapping's entries come after the standard card's in each People field, so the
card's content hash, and so the targets, follow any value that changes, appears or goes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sync_core.domain.fields import BY_NAME, EXTRA_FIELDS

JSON = dict[str, Any]
USER_DEFINED = "userDefined"


def _primary_first(items: Iterable[Any]) -> list[Mapping[str, Any]]:
    return sorted((i for i in items if isinstance(i, Mapping)), key=lambda i: not i.get("primary", False))


def _strings(values: Iterable[Any]) -> list[str]:
    return [text for v in values if v is not None and (text := str(v).strip())]


def _primary_org(key: str) -> Callable[[Mapping[str, Any]], list[str]]:
    def read(user: Mapping[str, Any]) -> list[str]:
        orgs = _primary_first(user.get("organizations") or [])
        return _strings([orgs[0].get(key, "")]) if orgs else []

    return read


def _external_ids(user: Mapping[str, Any]) -> list[str]:
    return _strings(e.get("value", "") for e in user.get("externalIds") or [] if isinstance(e, Mapping))


def _employee_id(user: Mapping[str, Any]) -> list[str]:
    """The external id Google's Admin console shows as "Employee ID" (type `organization`)."""
    return _strings(
        e.get("value", "") for e in user.get("externalIds") or []
        if isinstance(e, Mapping) and e.get("type") == "organization"
    )


def _locations(user: Mapping[str, Any]) -> list[str]:
    """Each desk as one line: `HQ, floor 2, desk D1002` (the parts the directory has, in that order)."""
    lines = []
    for loc in _primary_first(user.get("locations") or []):
        parts = [
            str(loc.get("buildingId") or loc.get("area") or "").strip(),
            f"floor {loc['floorName']}" if loc.get("floorName") else "",
            str(loc.get("floorSection") or "").strip(),
            f"desk {loc['deskCode']}" if loc.get("deskCode") else "",
        ]
        line = ", ".join(p for p in parts if p)
        if line:
            lines.append(line)
    return lines


# The Directory user fields a mapping may name, each read as a list of plain values.
USER_SOURCES: dict[str, Callable[[Mapping[str, Any]], list[str]]] = {
    "externalIds": _external_ids,
    "employeeId": _employee_id,
    "locations": _locations,
    "costCenter": _primary_org("costCenter"),
    "department": _primary_org("department"),
    "title": _primary_org("title"),
    "orgUnitPath": lambda user: _strings([user.get("orgUnitPath", "")]),
}

# The People fields a mapping may fill: those whose entries hold one plain value (and userDefined:KEY). Each
# makes an entry of a value as Google reads it back, so the copy compares equal to what was written.
TARGETS: dict[str, Callable[[str], JSON]] = {
    "nicknames": lambda v: {"value": v},
    "emailAddresses": lambda v: {"value": v, "type": "work"},
    "phoneNumbers": lambda v: {"value": v, "type": "work"},
    "urls": lambda v: {"value": v, "type": "work"},
    "biographies": lambda v: {"value": v, "contentType": "TEXT_PLAIN"},
    "externalIds": lambda v: {"value": v},
    "locations": lambda v: {"value": v},
}


def _type(entry: Mapping[str, Any]) -> str:
    """A Directory entry's type as People writes it: its customType when the type is `custom`."""
    kind = str(entry.get("type") or "").strip()
    return str(entry.get("customType") or "").strip() if kind == "custom" else kind


def _people_external_ids(user: Mapping[str, Any]) -> list[JSON]:
    """The Directory's externalIds ({value, type, customType}) as People's ({value, type})."""
    return [
        {k: v for k, v in {"value": value, "type": _type(e)}.items() if v}
        for e in user.get("externalIds") or [] if isinstance(e, Mapping)
        if (value := str(e.get("value") or "").strip())
    ]


# Directory location key -> People location key (`area` is the free-form place: People's `value`).
_LOCATION_KEYS = {"area": "value", "buildingId": "buildingId", "floorName": "floor", "floorSection": "floorSection",
                  "deskCode": "deskCode"}


def _people_locations(user: Mapping[str, Any]) -> list[JSON]:
    """The Directory's locations ({type, customType, area, buildingId, floorName, floorSection, deskCode}) as
    People's ({value, type, buildingId, floor, floorSection, deskCode}), the primary one first."""
    out = []
    for loc in _primary_first(user.get("locations") or []):
        entry = {p: text for d, p in _LOCATION_KEYS.items() if (text := str(loc.get(d) or "").strip())}
        if entry and (kind := _type(loc)):
            entry["type"] = kind
        if entry:
            out.append(entry)
    return out


# SOURCE=TARGET pairs that copy the Directory's entries whole, as the People field of the same meaning holds them.
SAME_SHAPE: dict[tuple[str, str], Callable[[Mapping[str, Any]], list[JSON]]] = {
    ("externalIds", "externalIds"): _people_external_ids,
    ("locations", "locations"): _people_locations,
}


class MappingError(ValueError):
    """A mapping that cannot be used; the message names the valid choices."""


@dataclass(frozen=True)
class FieldRule:
    """One `SOURCE=TARGET`. `schema` is set for a custom schema field (`Employment.CostCenter`)."""

    source: str
    target: str  # a People field name, or `userDefined`
    key: str = ""  # the userDefined key

    @property
    def schema(self) -> str | None:
        return self.source.split(".", 1)[0] if "." in self.source else None

    @property
    def schema_field(self) -> str:
        return self.source.split(".", 1)[1] if "." in self.source else ""

    def __str__(self) -> str:
        target = f"{USER_DEFINED}:{self.key}" if self.target == USER_DEFINED else self.target
        return f"{self.source}={target}"


def source_choices() -> str:
    return ", ".join(USER_SOURCES) + ", or a custom schema field Schema.Field"


def target_choices() -> str:
    return ", ".join(TARGETS) + f", or {USER_DEFINED}:KEY"


def _target(text: str) -> tuple[str, str]:
    name, _, key = text.partition(":")
    name = name.strip()
    if name.casefold() == USER_DEFINED.casefold():
        key = key.strip()
        if not key:
            raise MappingError(f"{text.strip()!r} needs a key after the colon, e.g. {USER_DEFINED}:Cost center")
        return USER_DEFINED, key
    found = next((t for t in TARGETS if t.casefold() == name.casefold()), None)
    if found is None:
        alias = next((f.name for f in BY_NAME.values() if name.casefold() in (a.casefold() for a in f.aliases)), None)
        found = alias if alias in TARGETS else None
    if found is None or key:
        raise MappingError(f"unknown People field {text.strip()!r} as a target: choose from {target_choices()}")
    return found, ""


def _source(text: str) -> str:
    source = text.strip()
    if "." in source:
        schema, _, field = source.partition(".")
        if not schema.strip() or not field.strip() or "." in field:
            raise MappingError(f"{source!r} is not a custom schema field: write it Schema.Field")
        return f"{schema.strip()}.{field.strip()}"
    found = next((s for s in USER_SOURCES if s.casefold() == source.casefold()), None)
    if found is None:
        raise MappingError(f"unknown directory field {source!r}: choose from {source_choices()}")
    return found


def parse_mapping(text: str | Iterable[str]) -> tuple[FieldRule, ...]:
    """The rules of `'SOURCE=TARGET,...'` (or of several such texts), each once, in the order given. Empty items
    are skipped; a malformed item, an unknown directory field or People target raises MappingError. Custom
    schema fields are checked against the directory's schemas by `check_schemas`."""
    texts = [text] if isinstance(text, str) else list(text)
    rules: list[FieldRule] = []
    for item in (i for t in texts for i in t.split(",")):
        if not item.strip():
            continue
        source, sep, target = item.partition("=")
        if not sep or not source.strip() or not target.strip():
            raise MappingError(
                f"{item.strip()!r} is not SOURCE=TARGET (e.g. Employment.CostCenter=userDefined:Cost center)"
            )
        rule = FieldRule(_source(source), *_target(target))
        if rule not in rules:
            rules.append(rule)
    return tuple(rules)


def check_schemas(rules: Sequence[FieldRule], schemas: Sequence[Mapping[str, Any]]) -> None:
    """Every custom schema field the rules name exists in `schemas` (as `schemas.list` answers them); else
    MappingError naming the schemas, or the schema's fields, that do."""
    fields = {
        str(s.get("schemaName")): [str(f.get("fieldName")) for f in s.get("fields", []) or []] for s in schemas
    }
    private = {
        f"{s.get('schemaName')}.{f.get('fieldName')}"
        for s in schemas for f in s.get("fields", []) or []
        if f.get("readAccessType", "ALL_DOMAIN_USERS") != "ALL_DOMAIN_USERS"
    }
    for rule in rules:
        if rule.schema is None:
            continue
        if rule.schema not in fields:
            known = ", ".join(sorted(fields)) or "none: the directory has no custom schemas"
            raise MappingError(f"unknown custom schema {rule.schema!r} in {str(rule)!r}: the schemas are {known}")
        if rule.schema_field not in fields[rule.schema]:
            known = ", ".join(f"{rule.schema}.{f}" for f in fields[rule.schema]) or "none"
            raise MappingError(f"unknown field {rule.source!r} in {str(rule)!r}: {rule.schema}'s fields are {known}")
        if rule.source in private:
            # The admin reads it, but the directory shows it to no colleague: a sync must not either.
            raise MappingError(
                f"{rule.source} is readable only by admins and the user themself (readAccessType ADMINS_AND_SELF): "
                "a Directory Sync copies only fields every user of the domain may read"
            )


def stored(rules: Sequence[FieldRule]) -> list[str]:
    """The rules as a job keeps them (and as `jobs show` prints them): `SOURCE=TARGET` texts."""
    return [str(r) for r in rules]


def target_fields(rules: Sequence[FieldRule]) -> tuple[str, ...]:
    """The People fields outside the default set the rules fill (externalIds, locations, in the table's order):
    what the card's canonical body keeps beyond the synced fields."""
    targets = {r.target for r in rules}
    return tuple(name for name in EXTRA_FIELDS if name in targets)


def copied_targets(rules: Sequence[FieldRule]) -> tuple[str, ...]:
    """Every People field the rules fill: a Directory Sync copies them whatever its --fields say (a mapping
    whose target is not copied would be dropped before it reached anyone)."""
    return tuple(dict.fromkeys(r.target for r in rules))


def custom_schemas(rules: Sequence[FieldRule]) -> list[str]:
    """The custom schemas the rules read (sorted): what `users.list` must be asked for (customFieldMask)."""
    return sorted({r.schema for r in rules if r.schema is not None})


def _custom_values(user: Mapping[str, Any], rule: FieldRule) -> list[str]:
    schema = (user.get("customSchemas") or {}).get(rule.schema or "") or {}
    value = schema.get(rule.schema_field) if isinstance(schema, Mapping) else None
    if isinstance(value, list):  # a multi-valued field: [{"value", "type"?}]
        return _strings(v.get("value", "") if isinstance(v, Mapping) else v for v in value)
    return _strings([value]) if value is not None else []


def values_of(user: Mapping[str, Any], rule: FieldRule) -> list[str]:
    """What the rule's SOURCE holds for `user`, as plain values (none when the user has none)."""
    if rule.schema is not None:
        return _custom_values(user, rule)
    return USER_SOURCES[rule.source](user)


def mapped_fields(user: Mapping[str, Any], rules: Sequence[FieldRule]) -> dict[str, list[JSON]]:
    """The People entries the rules make of `user`, by People field. A userDefined key gets one entry (several
    values joined with ", "); other targets get one entry per value, each value once."""
    out: dict[str, list[JSON]] = {}
    for rule in rules:
        values = values_of(user, rule)
        if not values:
            continue
        same_shape = SAME_SHAPE.get((rule.source, rule.target))
        if same_shape is not None:
            entries = same_shape(user)
        elif rule.target == USER_DEFINED:
            entries = [{"key": rule.key, "value": ", ".join(values)}]
        else:
            entries = [TARGETS[rule.target](v) for v in values]
        field = out.setdefault(rule.target, [])
        field.extend(e for e in entries if e not in field)
    return out


def apply_mapping(body: Mapping[str, Any], user: Mapping[str, Any], rules: Sequence[FieldRule]) -> JSON:
    """The standard card `body` with the rules' entries after its own in each field (an entry the card already
    has is not repeated)."""
    out: JSON = {k: list(v) for k, v in body.items()}
    for field, entries in mapped_fields(user, rules).items():
        have = out.setdefault(field, [])
        have.extend(e for e in entries if e not in have)
    return out
