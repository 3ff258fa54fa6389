"""Generated tenants for the scenarios, written as emulator state files before the emulator starts.

Built on the demo seed (`emulator.seed`): its named users, OUs and groups, and a source group of N varied
contacts ("Partners" of alice@example.com). On top of it the bench adds an OU `/Bench` holding exactly the
target users (so `ou:/Bench` resolves to them and nobody else), optional extra source groups (for S5's ten
jobs), and plain directory users (for S4's Directory Sync).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from emulator import people
from emulator.core import Workspace
from emulator.seed import PRIMARY_DOMAIN, partner_contact, seed_workspace

BENCH_OU = "/Bench"  # the product's targets
NAIVE_OU = "/Naive"  # the naive script's targets: other users, so neither sees the other's contacts
TARGET_SELECTOR = f"ou:{BENCH_OU}"


@dataclass(frozen=True)
class Tenant:
    state_file: Path
    admin_email: str
    source_email: str
    source_group: str  # the first source group's name
    extra_groups: tuple[str, ...]  # more source groups of the same user (S5)
    target_emails: tuple[str, ...]
    naive_emails: tuple[str, ...]
    contacts: int  # per source group
    directory_users: int  # users in the primary domain (what a Directory Sync of it reads)


def write_tenant(
    state_file: Path,
    *,
    contacts: int,
    targets: int,
    directory_users: int = 0,
    extra_groups: int = 0,
    extra_group_contacts: int = 0,
    naive_targets: int = 0,
) -> Tenant:
    """Generate the tenant, save it to `state_file` and describe it. Deterministic for given sizes."""
    ws = Workspace()
    seed = seed_workspace(ws, contacts=contacts, extra_users=directory_users)
    rng = random.Random(7)
    target_emails = add_ou_users(ws, BENCH_OU, "bench", targets, id_prefix="9")
    naive_emails = add_ou_users(ws, NAIVE_OU, "naive", naive_targets, id_prefix="8")
    groups = tuple(f"Bench list {g + 1}" for g in range(extra_groups))
    for name in groups:
        group = people.create_group(ws, seed.source_user_id, name)["resourceName"]
        for index in range(extra_group_contacts):
            person = partner_contact(rng, index)
            person["memberships"] = [{"contactGroupMembership": {"contactGroupResourceName": group}}]
            people.create_contact(ws, seed.source_user_id, person)
    ws.save(state_file)
    in_domain = sum(1 for u in ws.directory["users"].values() if u["primaryEmail"].endswith("@" + PRIMARY_DOMAIN))
    return Tenant(
        state_file=state_file,
        admin_email=seed.admin_email,
        source_email=seed.source_email,
        source_group=seed.source_group_name,
        extra_groups=groups,
        target_emails=target_emails,
        naive_emails=naive_emails,
        contacts=contacts,
        directory_users=in_domain,
    )


def add_ou_users(ws: Workspace, path: str, local: str, count: int, *, id_prefix: str) -> tuple[str, ...]:
    """A new OU under `/` holding `count` plain users `{local}NNNNN@` (ids outside the seed's range)."""
    root = ws.directory["orgunits"]["/"]
    name = path.strip("/")
    ws.directory["orgunits"][path] = {
        "name": name, "description": f"{name} users of the bench", "orgUnitPath": path,
        "orgUnitId": f"id:03ph8a2z{local[:5]:0<5}01", "blockInheritance": False,
        "parentOrgUnitPath": "/", "parentOrgUnitId": root["orgUnitId"],
    }
    emails = tuple(f"{local}{i:05d}@{PRIMARY_DOMAIN}" for i in range(count))
    for i, email in enumerate(emails):
        user_id = f"{id_prefix}{i:020d}"  # Google-like 21 digits; the seed's are random, so a clash is negligible
        ws.directory["users"][user_id] = {
            "id": user_id, "primaryEmail": email, "orgUnitPath": path, "aliases": [],
            "name": {"givenName": name, "familyName": f"{i:05d}", "fullName": f"{name} {i:05d}"},
            "creationTime": "2020-01-01T00:00:00.000Z",
        }
    return emails
