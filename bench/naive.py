"""The naive reference: what a simple script would do to copy a contact group to users, measured in its own
process under the same emulator: `python -m bench.naive SPEC.json` prints one JSON line.

For each target, one after another: read the whole source (the group's contacts through
`connections.list` + a membership filter, or the directory's users through `users.list`), re-read the
whole target account in full, then one `createContact` / `updateContact` / `deleteContact` per contact.
No batching, no sync tokens, no stored links: a contact it made is recognised by its own `clientData` tag.
Paced only by googleapiclient's backoff on 429 (`execute(num_retries=...)`), as a script would be.

SPEC: {"endpoint", "credentials", "admin_email", "targets": [email, ...], and either
"source": {"kind": "personal", "email", "group"} or {"kind": "directory", "domain"}}.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from sync_core.google.auth import GoogleAuth

JSON = dict[str, Any]
CONTACTS_SCOPE = ["https://www.googleapis.com/auth/contacts"]
USERS_SCOPE = ["https://www.googleapis.com/auth/admin.directory.user.readonly"]
FIELDS = ["names", "nicknames", "emailAddresses", "phoneNumbers", "organizations", "addresses", "urls",
          "birthdays", "biographies", "relations", "userDefined"]
PERSON_FIELDS = ",".join([*FIELDS, "memberships", "clientData"])
TAG = "naive-bench"
# What the API adds on read and refuses (or ignores) on write: a script has to learn these the hard way.
OUTPUT_ONLY = {"metadata", "formattedType", "canonicalForm", "displayName", "displayNameLastFirst",
               "unstructuredName", "formattedValue", "formattedProtocol"}
RETRIES = 10


class Calls:
    def __init__(self) -> None:
        self.by_method: Counter[str] = Counter()

    def execute(self, method: str, request: Any) -> Any:
        self.by_method[method] += 1
        return request.execute(num_retries=RETRIES)


def strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: strip(v) for k, v in value.items() if k not in OUTPUT_ONLY}
    if isinstance(value, list):
        return [strip(v) for v in value]
    return value


def content(person: JSON) -> JSON:
    return {f: strip(person[f]) for f in FIELDS if person.get(f)}


def read_all(people: Any, calls: Calls) -> list[JSON]:
    found: list[JSON] = []
    token = None
    while True:
        page = calls.execute("people.connections.list", people.connections().list(
            resourceName="people/me", personFields=PERSON_FIELDS, pageSize=1000, pageToken=token))
        found.extend(page.get("connections", []))
        token = page.get("nextPageToken")
        if not token:
            return found


def personal_source(auth: GoogleAuth, source: JSON, calls: Calls) -> dict[str, JSON]:
    service = auth.build("people", "v1", subject=source["email"], scopes=CONTACTS_SCOPE)
    groups = calls.execute("contactGroups.list", service.contactGroups().list(pageSize=1000))
    group = next(g["resourceName"] for g in groups.get("contactGroups", []) if g.get("name") == source["group"])
    members = [p for p in read_all(service.people(), calls)
               if any(m.get("contactGroupMembership", {}).get("contactGroupResourceName") == group
                      for m in p.get("memberships", []))]
    return {p["resourceName"]: content(p) for p in members}


def directory_person(user: JSON) -> JSON:
    name = user.get("name", {})
    person: JSON = {"names": [{"givenName": name.get("givenName", ""), "familyName": name.get("familyName", "")}],
                    "emailAddresses": [{"value": user["primaryEmail"], "type": "work"}]}
    if user.get("phones"):
        person["phoneNumbers"] = [{"value": p["value"], "type": p.get("type", "work")} for p in user["phones"]]
    orgs = [o for o in user.get("organizations", []) if o.get("primary")]
    if orgs:
        person["organizations"] = [{k: orgs[0][k] for k in ("name", "title", "department") if orgs[0].get(k)}]
    return person


def directory_source(auth: GoogleAuth, admin: str, domain: str, calls: Calls) -> dict[str, JSON]:
    users = auth.build("admin", "directory_v1", subject=admin, scopes=USERS_SCOPE).users()
    found: dict[str, JSON] = {}
    token = None
    while True:
        page = calls.execute("directory.users.list", users.list(domain=domain, maxResults=500, pageToken=token))
        for user in page.get("users", []):
            if not (user.get("suspended") or user.get("archived")):
                found[user["id"]] = directory_person(user)
        token = page.get("nextPageToken")
        if not token:
            return found


def tag_of(person: JSON) -> str | None:
    return next((d["value"] for d in person.get("clientData", []) if d.get("key") == TAG), None)


def sync_target(people: Any, source: dict[str, JSON], calls: Calls, totals: Counter[str]) -> None:
    """Full re-read, then one call per contact to create, update or delete."""
    ours = {tag: p for p in read_all(people, calls) if (tag := tag_of(p)) is not None}
    for key, wanted in source.items():
        have = ours.pop(key, None)
        if have is None:
            body = {**wanted, "clientData": [{"key": TAG, "value": key}]}
            calls.execute("people.createContact", people.createContact(body=body, personFields="names"))
            totals["created"] += 1
        elif content(have) != wanted:
            fields = sorted(set(wanted) | set(content(have)))
            body = {**{f: [] for f in fields}, **wanted, "etag": have["etag"]}
            calls.execute("people.updateContact", people.updateContact(
                resourceName=have["resourceName"], updatePersonFields=",".join(fields), body=body))
            totals["updated"] += 1
        else:
            totals["unchanged"] += 1
    for stale in ours.values():
        calls.execute("people.deleteContact", people.deleteContact(resourceName=stale["resourceName"]))
        totals["deleted"] += 1


def measure(spec: JSON) -> JSON:
    auth = GoogleAuth(Path(spec["credentials"]), spec["endpoint"])
    calls, totals = Calls(), Counter[str]()
    usage0 = resource.getrusage(resource.RUSAGE_SELF)
    wall0 = time.perf_counter()
    per_target: list[float] = []
    for email in spec["targets"]:
        started = time.perf_counter()
        src = spec["source"]
        source = (directory_source(auth, spec["admin_email"], src["domain"], calls) if src["kind"] == "directory"
                  else personal_source(auth, src, calls))
        sync_target(auth.build("people", "v1", subject=email, scopes=CONTACTS_SCOPE).people(), source, calls, totals)
        per_target.append(time.perf_counter() - started)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "wall_s": time.perf_counter() - wall0,
        "cpu_s": usage.ru_utime + usage.ru_stime - usage0.ru_utime - usage0.ru_stime,
        "peak_rss_mib": usage.ru_maxrss / 1024,
        "targets": len(spec["targets"]),
        "per_target_s": per_target,
        "created": totals["created"], "updated": totals["updated"], "deleted": totals["deleted"],
        "unchanged": totals["unchanged"],
        "api_calls": sum(calls.by_method.values()),
        "calls_by_method": dict(sorted(calls.by_method.items())),
    }


def main(argv: list[str]) -> int:
    print(json.dumps(measure(json.loads(Path(argv[0]).read_text(encoding="utf-8")))), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
