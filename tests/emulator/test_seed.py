"""Invariants of the seeded demo tenant (read straight from the workspace state)."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import pytest

from emulator.core import JSON, Workspace
from emulator.seed import SeedInfo, seed_workspace

MY_CONTACTS = "contactGroups/myContacts"


@pytest.fixture(scope="module")
def tenant() -> tuple[Workspace, SeedInfo]:
    ws = Workspace()
    return ws, seed_workspace(ws)


@pytest.fixture
def ws(tenant: tuple[Workspace, SeedInfo]) -> Workspace:
    return tenant[0]


@pytest.fixture
def info(tenant: tuple[Workspace, SeedInfo]) -> SeedInfo:
    return tenant[1]


def user(ws: Workspace, email: str) -> JSON:
    found = ws.user_by_primary(email)
    assert found is not None, email
    return found


def contacts_of(ws: Workspace, user_id: str) -> list[JSON]:
    return list(ws.people_of(user_id)["contacts"].values())


def groups_of(person: JSON) -> set[str]:
    return {
        m["contactGroupMembership"]["contactGroupResourceName"]
        for m in person.get("memberships", [])
        if "contactGroupMembership" in m
    }


def contact_fingerprint(person: JSON) -> tuple[Any, ...]:
    """What a contact says, without the resource names and etags the People store mints."""
    fields = ("names", "emailAddresses", "phoneNumbers", "organizations", "birthdays", "biographies")
    return tuple(
        tuple(sorted(str({k: v for k, v in item.items() if k != "metadata"}) for item in person.get(f, [])))
        for f in fields
    )


# --- directory -----------------------------------------------------------------------------------
def test_tenant_facts(ws: Workspace, info: SeedInfo) -> None:
    directory = ws.directory
    assert directory["customer"]["id"] == info.customer_id
    domains = {d["domainName"]: d for d in directory["domains"]}
    assert set(domains) == {"example.com", "example.org"} == set(info.domains)
    assert domains["example.com"]["isPrimary"] and not domains["example.org"]["isPrimary"]
    assert set(directory["orgunits"]) == set(info.org_unit_paths) == {
        "/", "/Sales", "/Sales/EMEA", "/Engineering", "/Contractors"
    }
    assert len(info.user_emails) >= 12
    assert info.user_count == len(directory["users"])


def test_every_user_is_consistent(ws: Workspace) -> None:
    users = list(ws.directory["users"].values())
    addresses = [a.lower() for u in users for a in (u["primaryEmail"], *u.get("aliases", []))]
    assert len(addresses) == len(set(addresses)), "an address names two users"
    domains = {d["domainName"] for d in ws.directory["domains"]}
    for u in users:
        assert u["id"].isdigit() and len(u["id"]) == 21
        assert u["primaryEmail"].split("@")[1] in domains
        assert u["orgUnitPath"] in ws.directory["orgunits"]
        for relation in u.get("relations", []):
            assert ws.user_by_key(relation["value"]) is not None, relation


def test_org_units_form_a_tree(ws: Workspace) -> None:
    units = ws.directory["orgunits"]
    ids = {u["orgUnitId"] for u in units.values()}
    assert len(ids) == len(units) and all(i.startswith("id:") for i in ids)
    for path, unit in units.items():
        assert unit["orgUnitPath"] == path
        if path == "/":
            assert "parentOrgUnitId" not in unit
        else:
            parent = units[unit["parentOrgUnitPath"]]
            assert unit["parentOrgUnitId"] == parent["orgUnitId"]


def test_special_users(ws: Workspace, info: SeedInfo) -> None:
    assert user(ws, info.admin_email)["isAdmin"] is True
    assert user(ws, info.admin_email)["id"] == info.admin_user_id
    assert user(ws, info.suspended_email)["suspended"] is True
    assert user(ws, info.archived_email)["archived"] is True
    assert user(ws, info.hidden_email)["includeInGlobalAddressList"] is False
    assert info.secondary_domain_email.endswith("@example.org")
    source = user(ws, info.source_email)
    assert source["id"] == info.source_user_id
    assert info.source_alias in source["aliases"]
    assert ws.user_by_key(info.source_alias) is source
    names = [user(ws, e)["name"]["fullName"] for e in info.unicode_emails]
    assert "Zoë Ångström" in names and any("李" in n for n in names)
    assert set(info.emea_emails) < set(info.sales_emails)
    assert all(user(ws, e)["orgUnitPath"].startswith("/Sales") for e in info.sales_emails)


def test_users_carry_profile_fields(ws: Workspace, info: SeedInfo) -> None:
    source = user(ws, info.source_email)
    assert source["phones"] and source["organizations"] and source["addresses"]
    assert any(r["type"] == "manager" for r in source["relations"])
    assert ws.directory["photos"][source["id"]]["mimeType"] == "PNG"


def test_groups_nest_and_reference_real_members(ws: Workspace, info: SeedInfo) -> None:
    groups = {g["email"]: g for g in ws.directory["groups"].values()}
    assert set(groups) == set(info.group_emails)
    for group_id, members in ws.directory["members"].items():
        assert group_id in ws.directory["groups"]
        for member in members:
            pool = ws.directory["groups"] if member["type"] == "GROUP" else ws.directory["users"]
            assert member["id"] in pool, member
    sales_members = ws.directory["members"][groups[info.sales_group_email]["id"]]
    assert {"id": groups[info.emea_group_email]["id"], "type": "GROUP"}.items() <= next(
        m for m in sales_members if m["type"] == "GROUP"
    ).items()
    emea_members = ws.directory["members"][groups[info.emea_group_email]["id"]]
    assert any(m["email"].endswith("@example.org") for m in emea_members)


def test_roles_and_assignments(ws: Workspace, info: SeedInfo) -> None:
    roles = ws.directory["roles"]
    by_name = {r["roleName"]: r for r in roles.values()}
    assert by_name[info.super_admin_role_name]["isSuperAdminRole"] is True
    assert by_name[info.help_desk_role_name]["isSystemRole"] is False
    assignments = list(ws.directory["role_assignments"].values())
    unit_ids = {u["orgUnitId"].removeprefix("id:") for u in ws.directory["orgunits"].values()}
    for a in assignments:
        assert a["roleId"] in roles
        assert a["assignedTo"] in ws.directory["users"] or a["assignedTo"] in ws.directory["groups"]
        assert (a["scopeType"] == "ORG_UNIT") == ("orgUnitId" in a)
        if "orgUnitId" in a:
            assert a["orgUnitId"] in unit_ids
    assert {"roleId": info.super_admin_role_id, "assignedTo": info.admin_user_id,
            "scopeType": "CUSTOMER"}.items() <= assignments[0].items()
    scoped = user(ws, info.ou_scoped_admin_email)["id"]
    assert [a["scopeType"] for a in assignments if a["assignedTo"] == scoped] == ["ORG_UNIT"]


# --- the source user's contacts ------------------------------------------------------------------
def test_source_group_holds_exactly_the_requested_contacts(ws: Workspace, info: SeedInfo) -> None:
    people = contacts_of(ws, info.source_user_id)
    assert len(people) == info.source_total_contacts > info.contact_count
    in_source = [p for p in people if info.source_group_resource_name in groups_of(p)]
    assert len(in_source) == info.contact_count == 300
    in_family = [p for p in people if info.family_group_resource_name in groups_of(p)]
    assert 2 <= len(in_family) <= 10
    assert any(info.source_group_resource_name in groups_of(p) for p in in_family)
    outside = [p for p in people if not groups_of(p) - {MY_CONTACTS}]
    assert outside, "some contacts belong to no user group"
    assert all(MY_CONTACTS in groups_of(p) for p in people)
    store_groups = ws.people_of(info.source_user_id)["groups"]
    assert store_groups[info.source_group_resource_name]["name"] == info.source_group_name
    assert store_groups[info.family_group_resource_name]["name"] == info.family_group_name


def test_contacts_are_varied(ws: Workspace, info: SeedInfo) -> None:
    people = [p for p in contacts_of(ws, info.source_user_id)
              if info.source_group_resource_name in groups_of(p)]
    present = Counter(f for p in people for f in p if f not in ("resourceName", "etag", "metadata"))
    for field in ("names", "emailAddresses", "phoneNumbers", "organizations", "addresses", "birthdays",
                  "urls", "biographies", "relations", "userDefined", "nicknames"):
        assert present[field] >= 5, field
    assert any(len(p.get("emailAddresses", [])) > 1 for p in people)
    assert any(len(p.get("phoneNumbers", [])) > 1 for p in people)
    assert {e["type"] for p in people for e in p.get("emailAddresses", [])} == {"work", "home", "other"}
    assert any("year" not in b["date"] for p in people for b in p.get("birthdays", []))
    assert any("names" not in p for p in people), "a contact with only an address"
    assert any("emailAddresses" not in p and "names" in p for p in people), "a contact with only a name"
    given = {n.get("givenName", "") for p in people for n in p.get("names", [])}
    assert any(not g.isascii() for g in given)


def test_seed_is_deterministic() -> None:
    first, second = Workspace(), Workspace()
    a, b = seed_workspace(first, contacts=40), seed_workspace(second, contacts=40)
    assert first.directory == second.directory
    assert (a.admin_user_id, a.source_user_id, a.help_desk_role_id) == (b.admin_user_id, b.source_user_id,
                                                                       b.help_desk_role_id)
    assert sorted(map(contact_fingerprint, contacts_of(first, a.source_user_id))) == sorted(
        map(contact_fingerprint, contacts_of(second, b.source_user_id))
    )


def test_a_different_seed_gives_different_ids() -> None:
    one, other = Workspace(), Workspace()
    assert seed_workspace(one, contacts=0).admin_user_id != seed_workspace(
        other, contacts=0, seed=7
    ).admin_user_id


def test_ten_thousand_extra_users_are_quick_and_unique() -> None:
    ws = Workspace()
    started = time.perf_counter()
    info = seed_workspace(ws, contacts=0, extra_users=10_000)
    assert time.perf_counter() - started < 5
    users = ws.directory["users"]
    assert len(users) == info.user_count == len(info.user_emails) + 10_000 == info.extra_user_count + 12
    assert len({u["primaryEmail"] for u in users.values()}) == len(users)
    assert {u["orgUnitPath"] for u in users.values()} <= set(info.org_unit_paths)
