"""The emulator's Admin SDK Directory API, driven through the real googleapiclient with delegated
service-account credentials, against the seeded demo tenant."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from google.oauth2 import service_account
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from emulator.core import Workspace
from emulator.seed import SeedInfo, seed_workspace
from emulator.testing import EmulatorHandle, running_emulator

SCOPES = [
    "https://www.googleapis.com/auth/admin.directory.user.readonly",
    "https://www.googleapis.com/auth/admin.directory.group.readonly",
    "https://www.googleapis.com/auth/admin.directory.orgunit.readonly",
    "https://www.googleapis.com/auth/admin.directory.rolemanagement.readonly",
    "https://www.googleapis.com/auth/admin.directory.domain.readonly",
]


def directory_client(handle: EmulatorHandle, subject: str = "admin@example.com") -> Any:
    credentials = service_account.Credentials.from_service_account_file(
        str(handle.credentials_file), scopes=SCOPES
    ).with_subject(subject)
    return build(
        "admin", "directory_v1", credentials=credentials, static_discovery=True,
        client_options={"api_endpoint": handle.url},
    )


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[EmulatorHandle, SeedInfo]]:
    """One read-only tenant for the whole module; tests that change state use `fresh`."""
    ws = Workspace()
    info = seed_workspace(ws, contacts=10)
    with running_emulator(ws, tmp_path_factory.mktemp("directory")) as handle:
        yield handle, info


@pytest.fixture
def handle(seeded: tuple[EmulatorHandle, SeedInfo]) -> EmulatorHandle:
    return seeded[0]


@pytest.fixture
def info(seeded: tuple[EmulatorHandle, SeedInfo]) -> SeedInfo:
    return seeded[1]


@pytest.fixture(scope="module")
def admin(seeded: tuple[EmulatorHandle, SeedInfo]) -> Any:
    return directory_client(seeded[0])


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[tuple[EmulatorHandle, SeedInfo, Any]]:
    ws = Workspace()
    info = seed_workspace(ws, contacts=0)
    with running_emulator(ws, tmp_path) as handle:
        yield handle, info, directory_client(handle)


def error_of(excinfo: pytest.ExceptionInfo[HttpError]) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(excinfo.value.content)["error"]
    return body


def assert_legacy_error(
    excinfo: pytest.ExceptionInfo[HttpError], code: int, message: str, reason: str
) -> None:
    assert excinfo.value.resp.status == code
    assert error_of(excinfo) == {
        "code": code,
        "message": message,
        "errors": [{"message": message, "domain": "global", "reason": reason}],
    }


def emails(users: list[dict[str, Any]]) -> list[str]:
    return [u["primaryEmail"] for u in users]


def all_pages(request_for: Any, key: str) -> tuple[list[dict[str, Any]], int]:
    """Follow nextPageToken; returns the items and the number of pages."""
    items: list[dict[str, Any]] = []
    token, pages = None, 0
    while True:
        answer = request_for(token).execute()
        pages += 1
        items += answer.get(key, [])
        token = answer.get("nextPageToken")
        if not token:
            return items, pages


def query_users(admin: Any, query: str, **kwargs: Any) -> list[str]:
    answer = admin.users().list(customer="my_customer", query=query, **kwargs).execute()
    return emails(answer.get("users", []))


# --- users.list ----------------------------------------------------------------------------------
def test_users_list_answers_every_user_in_google_shape(admin: Any, info: SeedInfo) -> None:
    answer = admin.users().list(customer="my_customer").execute()
    assert answer["kind"] == "admin#directory#users"
    assert answer["etag"].startswith('"')
    assert "nextPageToken" not in answer
    assert emails(answer["users"]) == sorted(info.user_emails)
    alice = next(u for u in answer["users"] if u["primaryEmail"] == info.source_email)
    assert alice["id"] == info.source_user_id
    assert alice["kind"] == "admin#directory#user"
    assert alice["customerId"] == info.customer_id
    assert alice["name"] == {"givenName": "Alice", "familyName": "Source", "fullName": "Alice Source"}
    assert alice["orgUnitPath"] == "/Sales"
    assert alice["aliases"] == [info.source_alias]
    assert alice["emails"][0] == {"address": info.source_email, "primary": True}
    assert alice["relations"] == [{"value": "carol@example.com", "type": "manager"}]
    assert alice["thumbnailPhotoUrl"]
    assert {"isAdmin", "isDelegatedAdmin", "suspended", "archived", "includeInGlobalAddressList",
            "phones", "organizations", "addresses", "creationTime", "etag"} <= set(alice)


def test_users_list_by_customer_id_and_by_domain(admin: Any, info: SeedInfo) -> None:
    by_id = admin.users().list(customer=info.customer_id).execute()
    assert len(by_id["users"]) == len(info.user_emails)
    org = admin.users().list(domain=info.secondary_domain).execute()
    assert emails(org["users"]) == ["lilei@example.org", "oscar@example.org"]


@pytest.mark.parametrize(
    ("kwargs", "code", "message", "reason"),
    [
        ({}, 400, "Bad Request", "badRequest"),
        ({"customer": "C0nobody"}, 400, "Bad Request", "badRequest"),
        ({"customer": "example.com"}, 400, "Bad Request", "badRequest"),
        ({"domain": "elsewhere.test"}, 403, "Not Authorized to access this resource/api", "forbidden"),
        ({"customer": "my_customer", "maxResults": 501}, 400,
         "Invalid value '501'. Values must be within the range: [1, 500]", "invalid"),
        ({"customer": "my_customer", "maxResults": 0}, 400,
         "Invalid value '0'. Values must be within the range: [1, 500]", "invalid"),
        ({"customer": "my_customer", "pageToken": "not-a-token"}, 400, "Invalid Input: pageToken", "invalid"),
    ],
)
def test_users_list_refuses_bad_arguments_like_google(
    admin: Any, kwargs: dict[str, Any], code: int, message: str, reason: str
) -> None:
    with pytest.raises(HttpError) as excinfo:
        admin.users().list(**kwargs).execute()
    assert_legacy_error(excinfo, code, message, reason)


def test_org_unit_query_includes_sub_units(admin: Any, info: SeedInfo) -> None:
    assert query_users(admin, "orgUnitPath='/Sales'") == list(info.sales_emails)
    assert set(info.emea_emails) < set(info.sales_emails)
    assert query_users(admin, "orgUnitPath=/Sales/EMEA") == list(info.emea_emails)
    assert query_users(admin, 'orgUnitPath="/Sales/EMEA"') == list(info.emea_emails)
    assert len(query_users(admin, "orgUnitPath=/")) == len(info.user_emails)


def test_org_unit_query_for_an_unknown_unit_is_invalid_input(admin: Any) -> None:
    with pytest.raises(HttpError) as excinfo:
        admin.users().list(customer="my_customer", query="orgUnitPath=/Nowhere").execute()
    assert_legacy_error(excinfo, 400, "Invalid Input: INVALID_OU_ID", "invalid")


def test_boolean_queries(admin: Any, info: SeedInfo) -> None:
    assert query_users(admin, "isSuspended=true") == [info.suspended_email]
    assert info.suspended_email not in query_users(admin, "isSuspended=false")
    assert query_users(admin, "isArchived=true") == [info.archived_email]
    assert query_users(admin, "isAdmin=true") == [info.admin_email]
    assert query_users(admin, "isDelegatedAdmin=True") == ["carol@example.com", "erin@example.com"]
    assert query_users(admin, "orgUnitPath=/Sales isSuspended=false") == [
        e for e in info.sales_emails if e != info.suspended_email
    ]


def test_text_queries_cover_aliases_prefixes_names_and_unicode(admin: Any, info: SeedInfo) -> None:
    assert query_users(admin, "email:ali*") == [info.source_email]
    assert query_users(admin, f"email={info.source_alias}") == [info.source_email]
    assert query_users(admin, "name:'Alice Source'") == [info.source_email]
    assert query_users(admin, "givenName=Zoë") == ["zoe@example.com"]
    assert query_users(admin, "familyName:ångström") == ["zoe@example.com"]
    assert query_users(admin, "name:李") == ["lilei@example.org"]
    assert query_users(admin, "builder") == ["bob@example.com"]
    assert query_users(admin, "directManager=alice@example.com") == [
        "bob@example.com", "lilei@example.org", "zoe@example.com"
    ]
    assert "bob@example.com" in query_users(admin, "manager=carol@example.com")
    assert query_users(admin, "orgTitle:'VP Sales'") == ["carol@example.com"]


@pytest.mark.parametrize(
    "query", ["name:'Alice", "isAdmin:true", "isAdmin=maybe", "shoeSize=42", "orgUnitPath:/Sales", "email="]
)
def test_malformed_queries_are_invalid_input(admin: Any, query: str) -> None:
    with pytest.raises(HttpError) as excinfo:
        admin.users().list(customer="my_customer", query=query).execute()
    assert_legacy_error(excinfo, 400, "Invalid Input", "invalid")


def test_users_list_pages_without_gaps_or_repeats(admin: Any, info: SeedInfo) -> None:
    users, pages = all_pages(
        lambda token: admin.users().list(customer="my_customer", maxResults=5, pageToken=token), "users"
    )
    assert pages == 3
    assert emails(users) == sorted(info.user_emails)


def test_paging_through_many_users_at_the_maximum_page_size(tmp_path: Path) -> None:
    ws = Workspace()
    info = seed_workspace(ws, contacts=0, extra_users=1200)
    with running_emulator(ws, tmp_path) as handle:
        admin = directory_client(handle)
        users, pages = all_pages(
            lambda token: admin.users().list(customer="my_customer", maxResults=500, pageToken=token), "users"
        )
    assert pages == 3
    assert len({u["id"] for u in users}) == len(users) == info.user_count == 1212


def test_paging_survives_a_user_deleted_between_pages(fresh: tuple[EmulatorHandle, SeedInfo, Any]) -> None:
    handle, info, admin = fresh
    first = admin.users().list(customer="my_customer", maxResults=4).execute()
    handle.control.delete_user(emails(first["users"])[-1])
    rest, _ = all_pages(
        lambda token: admin.users().list(
            customer="my_customer", maxResults=4, pageToken=token or first["nextPageToken"]
        ),
        "users",
    )
    assert emails(first["users"]) + emails(rest) == sorted(info.user_emails)


def test_users_list_order_by_family_name_descending(admin: Any) -> None:
    answer = admin.users().list(
        customer="my_customer", orderBy="familyName", sortOrder="DESCENDING"
    ).execute()
    families = [u["name"]["familyName"].lower() for u in answer["users"]]
    assert families == sorted(families, reverse=True)


def test_domain_public_view_hides_admin_fields_and_unlisted_users(admin: Any, info: SeedInfo) -> None:
    answer = admin.users().list(domain=info.primary_domain, viewType="domain_public").execute()
    listed = emails(answer["users"])
    assert info.hidden_email not in listed
    assert info.source_email in listed
    alice = next(u for u in answer["users"] if u["primaryEmail"] == info.source_email)
    assert {"isAdmin", "orgUnitPath", "suspended", "customerId", "aliases"}.isdisjoint(alice)
    assert alice["name"]["fullName"] == "Alice Source"


def test_show_deleted_lists_deleted_users_only(fresh: tuple[EmulatorHandle, SeedInfo, Any]) -> None:
    handle, _, admin = fresh
    handle.control.delete_user("bob@example.com")
    deleted = admin.users().list(customer="my_customer", showDeleted="true").execute()
    assert emails(deleted["users"]) == ["bob@example.com"]
    assert "bob@example.com" not in emails(admin.users().list(customer="my_customer").execute()["users"])
    with pytest.raises(HttpError) as excinfo:
        admin.users().get(userKey="bob@example.com").execute()
    assert excinfo.value.resp.status == 404


# --- users.get -----------------------------------------------------------------------------------
def test_users_get_by_primary_address_id_and_alias(admin: Any, info: SeedInfo) -> None:
    by_email = admin.users().get(userKey=info.source_email).execute()
    assert by_email["id"] == info.source_user_id
    assert admin.users().get(userKey=info.source_user_id).execute()["primaryEmail"] == info.source_email
    assert admin.users().get(userKey=info.source_alias).execute()["id"] == info.source_user_id
    assert admin.users().get(userKey="ALICE@Example.com").execute()["id"] == info.source_user_id


def test_users_get_unknown_user_is_googles_404(admin: Any) -> None:
    with pytest.raises(HttpError) as excinfo:
        admin.users().get(userKey="nobody@example.com").execute()
    assert_legacy_error(excinfo, 404, "Resource Not Found: userKey", "notFound")


def test_users_get_in_a_foreign_domain_is_refused(admin: Any) -> None:
    with pytest.raises(HttpError) as excinfo:
        admin.users().get(userKey="someone@gmail.com").execute()
    assert_legacy_error(excinfo, 403, "Not Authorized to access this resource/api", "forbidden")


def test_renamed_user_keeps_id_and_answers_at_the_old_address(
    fresh: tuple[EmulatorHandle, SeedInfo, Any],
) -> None:
    handle, info, admin = fresh
    handle.control.rename_user("bob@example.com", "robert@example.com")
    old = admin.users().get(userKey="bob@example.com").execute()
    new = admin.users().get(userKey="robert@example.com").execute()
    assert old["id"] == new["id"]
    assert new["primaryEmail"] == "robert@example.com"
    assert "bob@example.com" in new["aliases"]
    assert {"address": "robert@example.com", "primary": True} in new["emails"]
    members = admin.members().list(groupKey=info.emea_group_email).execute()["members"]
    assert "robert@example.com" in [m["email"] for m in members]
    assert query_users(admin, "email=bob@example.com") == ["robert@example.com"]


# --- users.photos.get ----------------------------------------------------------------------------
def test_user_photo_is_web_safe_base64_png(admin: Any, info: SeedInfo) -> None:
    photo = admin.users().photos().get(userKey=info.source_email).execute()
    assert photo["kind"] == "admin#directory#user#photo"
    assert photo["id"] == info.source_user_id
    assert photo["primaryEmail"] == info.source_email
    assert (photo["mimeType"], photo["width"], photo["height"]) == ("PNG", 96, 96)
    assert set(photo["photoData"]) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=")
    assert base64.urlsafe_b64decode(photo["photoData"]).startswith(b"\x89PNG")


def test_user_without_photo_is_404(admin: Any) -> None:
    with pytest.raises(HttpError) as excinfo:
        admin.users().photos().get(userKey="dave@example.com").execute()
    assert_legacy_error(excinfo, 404, "Resource Not Found: photo", "notFound")


# --- groups --------------------------------------------------------------------------------------
def test_groups_list_by_customer_domain_and_member(admin: Any, info: SeedInfo) -> None:
    listed = admin.groups().list(customer="my_customer").execute()
    assert listed["kind"] == "admin#directory#groups"
    assert [g["email"] for g in listed["groups"]] == sorted(info.group_emails)
    sales = next(g for g in listed["groups"] if g["email"] == info.sales_group_email)
    assert sales["directMembersCount"] == "4"
    assert sales["kind"] == "admin#directory#group"
    org = admin.groups().list(domain=info.secondary_domain).execute()
    assert [g["email"] for g in org["groups"]] == [info.contractors_group_email]
    mine = admin.groups().list(userKey=info.source_email).execute()
    assert [g["email"] for g in mine["groups"]] == [info.emea_group_email, info.sales_group_email]


def test_groups_list_pages(admin: Any, info: SeedInfo) -> None:
    groups, pages = all_pages(
        lambda token: admin.groups().list(customer="my_customer", maxResults=2, pageToken=token), "groups"
    )
    assert pages == 3
    assert [g["email"] for g in groups] == sorted(info.group_emails)


def test_groups_list_needs_a_scope(admin: Any) -> None:
    with pytest.raises(HttpError) as excinfo:
        admin.groups().list().execute()
    assert_legacy_error(excinfo, 400, "Bad Request", "badRequest")


def test_groups_get_by_email_and_id_and_unknown(admin: Any, info: SeedInfo) -> None:
    group = admin.groups().get(groupKey=info.sales_group_email).execute()
    assert group["name"] == "Sales"
    assert admin.groups().get(groupKey=group["id"]).execute()["email"] == info.sales_group_email
    with pytest.raises(HttpError) as excinfo:
        admin.groups().get(groupKey="ghosts@example.com").execute()
    assert_legacy_error(excinfo, 404, "Resource Not Found: groupKey", "notFound")


# --- members -------------------------------------------------------------------------------------
def member_emails(answer: dict[str, Any]) -> list[str]:
    return [m["email"] for m in answer.get("members", [])]


def test_members_list_direct_members_with_roles_types_and_status(admin: Any, info: SeedInfo) -> None:
    answer = admin.members().list(groupKey=info.sales_group_email).execute()
    assert answer["kind"] == "admin#directory#members"
    by_email = {m["email"]: m for m in answer["members"]}
    assert set(by_email) == {"carol@example.com", "alice@example.com", "frank@example.com",
                             info.emea_group_email}
    assert by_email[info.emea_group_email]["type"] == "GROUP"
    assert by_email["carol@example.com"]["role"] == "OWNER"
    assert by_email["frank@example.com"]["status"] == "SUSPENDED"
    assert by_email["alice@example.com"]["id"] == info.source_user_id
    assert by_email["alice@example.com"]["kind"] == "admin#directory#member"


def test_members_list_derived_membership_expands_nested_groups(admin: Any, info: SeedInfo) -> None:
    answer = admin.members().list(groupKey=info.sales_group_email, includeDerivedMembership=True).execute()
    listed = member_emails(answer)
    assert len(listed) == len(set(listed))  # alice is in both groups, listed once
    assert set(listed) == {"carol@example.com", "alice@example.com", "frank@example.com",
                           info.emea_group_email, "bob@example.com", "zoe@example.com", "lilei@example.org"}
    two_levels = member_emails(
        admin.members().list(groupKey=info.all_staff_group_email, includeDerivedMembership=True).execute()
    )
    assert {"bob@example.com", "dave@example.com", "admin@example.com"} <= set(two_levels)


def test_members_list_role_filter_and_paging(admin: Any, info: SeedInfo) -> None:
    owners = admin.members().list(groupKey=info.sales_group_email, roles="OWNER,MANAGER").execute()
    assert sorted(member_emails(owners)) == ["alice@example.com", "carol@example.com"]
    members, pages = all_pages(
        lambda token: admin.members().list(groupKey=info.sales_group_email, includeDerivedMembership=True,
                                           maxResults=3, pageToken=token),
        "members",
    )
    assert pages == 3
    assert len({m["email"] for m in members}) == 7


def test_members_list_of_unknown_group_is_404(admin: Any) -> None:
    with pytest.raises(HttpError) as excinfo:
        admin.members().list(groupKey="ghosts@example.com").execute()
    assert_legacy_error(excinfo, 404, "Resource Not Found: groupKey", "notFound")


def test_has_member_direct_nested_and_not(admin: Any, info: SeedInfo) -> None:
    def has(group: str, member: str) -> bool:
        answer: bool = admin.members().hasMember(groupKey=group, memberKey=member).execute()["isMember"]
        return answer

    assert has(info.sales_group_email, "carol@example.com")
    assert has(info.sales_group_email, "bob@example.com")  # through emea-sales
    assert has(info.all_staff_group_email, "zoe@example.com")  # two levels down
    assert not has(info.engineering_group_email, "bob@example.com")
    with pytest.raises(HttpError) as excinfo:
        has(info.sales_group_email, "lilei@example.org")  # nested across domains
    assert_legacy_error(excinfo, 400, "Invalid Input: memberKey", "invalid")
    with pytest.raises(HttpError) as excinfo:
        has(info.sales_group_email, "nobody@example.com")
    assert_legacy_error(excinfo, 404, "Resource Not Found: memberKey", "notFound")


# --- roles and role assignments ------------------------------------------------------------------
def test_roles_list(admin: Any, info: SeedInfo) -> None:
    answer = admin.roles().list(customer="my_customer").execute()
    assert answer["kind"] == "admin#directory#roles"
    roles = {r["roleName"]: r for r in answer["items"]}
    assert set(roles) == {info.super_admin_role_name, info.help_desk_role_name, info.groups_admin_role_name}
    assert roles[info.super_admin_role_name]["isSuperAdminRole"] is True
    assert roles[info.super_admin_role_name]["isSystemRole"] is True
    assert roles[info.help_desk_role_name]["isSystemRole"] is False
    assert roles[info.help_desk_role_name]["rolePrivileges"]


def test_role_assignments_with_customer_and_org_unit_scope(admin: Any, info: SeedInfo) -> None:
    everything = admin.roleAssignments().list(customer="my_customer").execute()
    assert everything["kind"] == "admin#directory#roleAssignments"
    assert len(everything["items"]) == 4
    admin_id = admin.users().get(userKey=info.admin_email).execute()["id"]
    assignments = admin.roleAssignments()
    super_admin = assignments.list(customer="my_customer", userKey=info.admin_email).execute()
    assert [(a["roleId"], a["assignedTo"], a["scopeType"], a["assigneeType"]) for a in super_admin["items"]] \
        == [(info.super_admin_role_id, admin_id, "CUSTOMER", "user")]
    scoped = assignments.list(customer="my_customer", userKey=info.ou_scoped_admin_email).execute()
    [assignment] = scoped["items"]
    engineering = admin.orgunits().get(customerId="my_customer", orgUnitPath="Engineering").execute()
    assert assignment["scopeType"] == "ORG_UNIT"
    assert assignment["roleId"] == info.help_desk_role_id
    assert "id:" + assignment["orgUnitId"] == engineering["orgUnitId"]
    help_desk = admin.roleAssignments().list(customer="my_customer", roleId=info.help_desk_role_id).execute()
    assert {a["scopeType"] for a in help_desk["items"]} == {"ORG_UNIT"}
    assert len(help_desk["items"]) == 2


def test_role_assignments_through_groups_need_the_indirect_flag(admin: Any) -> None:
    direct = admin.roleAssignments().list(customer="my_customer", userKey="dave@example.com").execute()
    assert "items" not in direct
    indirect = admin.roleAssignments().list(
        customer="my_customer", userKey="dave@example.com", includeIndirectRoleAssignments=True
    ).execute()
    assert [a["assigneeType"] for a in indirect["items"]] == ["group"]


def test_role_assignments_refuse_both_filters_and_bad_arguments(admin: Any, info: SeedInfo) -> None:
    with pytest.raises(HttpError) as excinfo:
        admin.roleAssignments().list(
            customer="my_customer", userKey=info.admin_email, roleId=info.super_admin_role_id
        ).execute()
    assert_legacy_error(excinfo, 400, "Bad Request", "badRequest")
    with pytest.raises(HttpError) as excinfo:
        admin.roleAssignments().list(customer="my_customer", maxResults=201).execute()
    assert excinfo.value.resp.status == 400
    with pytest.raises(HttpError) as excinfo:
        admin.roleAssignments().list(customer="C0nobody").execute()
    assert_legacy_error(excinfo, 400, "Bad Request", "badRequest")


def test_role_assignments_page(admin: Any) -> None:
    items, pages = all_pages(
        lambda token: admin.roleAssignments().list(customer="my_customer", maxResults=3, pageToken=token),
        "items",
    )
    assert pages == 2
    assert len({a["roleAssignmentId"] for a in items}) == 4


# --- org units and domains -----------------------------------------------------------------------
def ou_paths(answer: dict[str, Any]) -> list[str]:
    return [u["orgUnitPath"] for u in answer.get("organizationUnits", [])]


def test_orgunits_list_types(admin: Any) -> None:
    children = admin.orgunits().list(customerId="my_customer").execute()
    assert children["kind"] == "admin#directory#orgUnits"
    assert ou_paths(children) == ["/Contractors", "/Engineering", "/Sales"]
    assert ou_paths(admin.orgunits().list(customerId="my_customer", type="all").execute()) == [
        "/Contractors", "/Engineering", "/Sales", "/Sales/EMEA"
    ]
    with_root = admin.orgunits().list(customerId="my_customer", type="allIncludingParent").execute()
    assert ou_paths(with_root)[0] == "/"
    assert len(ou_paths(with_root)) == 5
    below_sales = admin.orgunits().list(customerId="my_customer", orgUnitPath="/Sales", type="all").execute()
    assert ou_paths(below_sales) == ["/Sales/EMEA"]
    assert "organizationUnits" not in admin.orgunits().list(
        customerId="my_customer", orgUnitPath="/Sales/EMEA"
    ).execute()


def test_orgunits_get_by_path_and_id(admin: Any) -> None:
    emea = admin.orgunits().get(customerId="my_customer", orgUnitPath="Sales/EMEA").execute()
    assert emea["kind"] == "admin#directory#orgUnit"
    assert (emea["name"], emea["parentOrgUnitPath"]) == ("EMEA", "/Sales")
    sales = admin.orgunits().get(customerId="my_customer", orgUnitPath="Sales").execute()
    assert emea["parentOrgUnitId"] == sales["orgUnitId"]
    assert admin.orgunits().get(customerId="my_customer", orgUnitPath=sales["orgUnitId"]).execute()[
        "orgUnitPath"
    ] == "/Sales"


def test_orgunits_get_unknown(admin: Any) -> None:
    with pytest.raises(HttpError) as excinfo:
        admin.orgunits().get(customerId="my_customer", orgUnitPath="Nowhere").execute()
    assert_legacy_error(excinfo, 404, "Org unit not found", "notFound")


def test_domains_list(admin: Any, info: SeedInfo) -> None:
    answer = admin.domains().list(customer="my_customer").execute()
    assert answer["kind"] == "admin#directory#domains"
    domains = {d["domainName"]: d for d in answer["domains"]}
    assert set(domains) == set(info.domains)
    assert domains[info.primary_domain]["isPrimary"] is True
    assert domains[info.secondary_domain]["isPrimary"] is False
    assert all(d["verified"] for d in domains.values())


# --- authorisation -------------------------------------------------------------------------------
def test_non_admin_caller_is_refused(handle: EmulatorHandle) -> None:
    dave = directory_client(handle, subject="dave@example.com")
    with pytest.raises(HttpError) as excinfo:
        dave.users().list(customer="my_customer").execute()
    assert_legacy_error(excinfo, 403, "Not Authorized to access this resource/api", "forbidden")


def test_delegated_admin_with_an_org_unit_role_may_call(handle: EmulatorHandle, info: SeedInfo) -> None:
    erin = directory_client(handle, subject=info.ou_scoped_admin_email)
    assert erin.users().get(userKey=info.source_email).execute()["id"] == info.source_user_id


# --- users.list query: the fields the `query:` target kind relies on -------------------------------
def test_org_queries_exact_and_contains(admin: Any) -> None:
    sales = query_users(admin, "orgDepartment='Sales'")
    assert "bob@example.com" in sales and "dave@example.com" not in sales
    assert query_users(admin, "orgDepartment=Sales") == sales
    assert query_users(admin, "orgDepartment=Sal") == []  # `=` is the whole value
    assert query_users(admin, "orgDepartment:Sal*") == sales  # `:prefix*`
    assert "carol@example.com" in query_users(admin, "orgTitle:Sales")  # `:` contains
    assert query_users(admin, "orgTitle:'VP Sales' isSuspended=false") == ["carol@example.com"]


def test_custom_schema_attribute_queries(tmp_path: Path) -> None:
    ws = Workspace()
    seed_workspace(ws, contacts=0)
    bob, dave = ws.user_by_key("bob@example.com"), ws.user_by_key("dave@example.com")
    assert bob is not None and dave is not None
    bob["customSchemas"] = {"EmployeeInfo": {"CostCenter": "1234", "Projects": [{"value": "Apollo"}]}}
    dave["customSchemas"] = {"EmployeeInfo": {"CostCenter": "12345"}}
    with running_emulator(ws, tmp_path) as handle:
        client = directory_client(handle)
        assert query_users(client, "EmployeeInfo.CostCenter=1234") == ["bob@example.com"]
        assert query_users(client, "EmployeeInfo.CostCenter:'123*'") == ["bob@example.com", "dave@example.com"]
        assert query_users(client, "EmployeeInfo.Projects=apollo") == ["bob@example.com"]
        assert query_users(client, "EmployeeInfo.Nothing=1") == []
        with pytest.raises(HttpError) as excinfo:
            client.users().list(customer="my_customer", query="EmployeeInfo.CostCenter=").execute()
        assert error_of(excinfo)["code"] == 400
