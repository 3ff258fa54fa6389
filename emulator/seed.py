"""A realistic demo tenant: two domains, nested org units and groups, admin roles, awkward users, and a
source user whose "Partners" contact group holds a few hundred varied contacts.

Everything comes from one seeded `random.Random`, so two seeds with the same arguments describe the same
tenant (People resource names are minted by `emulator.people` and are not part of that promise).
Contacts and contact groups are created only through `emulator.people`, so they obey the same rules as
the ones the product creates.
"""

from __future__ import annotations

import base64
import datetime as dt
import random
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from emulator import people
from emulator.core import JSON, Workspace
from emulator.directory_people import create_domain_contact
from emulator.schema_store import create_schema, set_custom_values

PRIMARY_DOMAIN = "example.com"
SECONDARY_DOMAIN = "example.org"
CUSTOMER_ID = "C03az79cb"
ORG_NAME = "Example Corp"
ORG_UNIT_PATHS = ("/", "/Sales", "/Sales/EMEA", "/Engineering", "/Contractors")

SUPER_ADMIN_ROLE = "_SEED_ADMIN_ROLE"
GROUPS_ADMIN_ROLE = "_GROUPS_ADMIN_ROLE"
HELP_DESK_ROLE = "Help Desk Admin"

SOURCE_GROUP_NAME = "Partners"
FAMILY_GROUP_NAME = "Close Family"  # "Family" is taken by the system group contactGroups/family
OUTSIDE_CONTACTS = 5
FAMILY_ONLY_CONTACTS = 3


@dataclass(frozen=True)
class SeedInfo:
    """The facts tests and demos need about the seeded tenant."""

    customer_id: str
    domains: tuple[str, ...]
    primary_domain: str
    secondary_domain: str
    admin_email: str
    admin_user_id: str
    source_email: str
    source_user_id: str
    source_alias: str
    source_group_resource_name: str
    source_group_name: str
    family_group_resource_name: str
    family_group_name: str
    contact_count: int  # contacts in the source group
    source_total_contacts: int  # every contact of the source user
    suspended_email: str
    archived_email: str
    hidden_email: str
    secondary_domain_email: str
    unicode_emails: tuple[str, ...]
    sales_emails: tuple[str, ...]  # users of /Sales and its sub-units
    emea_emails: tuple[str, ...]  # users of /Sales/EMEA
    user_emails: tuple[str, ...]  # every named (not generated) user
    user_count: int  # named + generated users
    extra_user_count: int
    sales_group_email: str
    emea_group_email: str
    engineering_group_email: str
    all_staff_group_email: str
    contractors_group_email: str
    group_emails: tuple[str, ...]
    super_admin_role_name: str
    help_desk_role_name: str
    groups_admin_role_name: str
    super_admin_role_id: str
    help_desk_role_id: str
    org_unit_paths: tuple[str, ...]
    ou_scoped_admin_email: str  # holds Help Desk Admin on /Engineering only
    custom_schema_name: str  # the custom user schema; named users carry values of it
    domain_contact_count: int  # domain shared contacts (listDirectoryPeople, DOMAIN_CONTACT)


# --- identifiers and small values ----------------------------------------------------------------
class Ids:
    """Google-looking identifiers, unique and reproducible."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def _unique(self, make: Any) -> str:
        while (value := make()) in self.used:
            pass
        self.used.add(value)
        return str(value)

    def user(self) -> str:
        return self._unique(lambda: str(self.rng.randrange(10**20, 10**21)))

    def group(self) -> str:
        alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"
        return self._unique(lambda: "0" + "".join(self.rng.choice(alphabet) for _ in range(14)))

    def orgunit(self) -> str:
        alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"
        return self._unique(lambda: "03ph8a2z" + "".join(self.rng.choice(alphabet) for _ in range(7)))

    def number(self, digits: int) -> str:
        return self._unique(lambda: str(self.rng.randrange(10 ** (digits - 1), 10**digits)))


def timestamp(rng: random.Random, start_year: int = 2015, end_year: int = 2023) -> str:
    start = dt.datetime(start_year, 1, 1, tzinfo=dt.UTC)
    span = (dt.datetime(end_year, 12, 31, tzinfo=dt.UTC) - start).total_seconds()
    stamp = start + dt.timedelta(seconds=rng.randrange(int(span)))
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A valid single-colour PNG, small enough to inline."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(row * height)) + chunk(b"IEND", b""))


def user_photo(rng: random.Random) -> JSON:
    data = png(96, 96, (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    return {
        "photoData": base64.urlsafe_b64encode(data).decode(),
        "mimeType": "PNG",
        "width": 96,
        "height": 96,
    }


# --- directory ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class UserSpec:
    local: str
    given: str
    family: str
    ou: str
    domain: str = PRIMARY_DOMAIN
    title: str = ""
    department: str = ""
    manager: str | None = None  # local part of the manager, same domain unless qualified
    extra: tuple[tuple[str, Any], ...] = ()

    @property
    def email(self) -> str:
        return f"{self.local}@{self.domain}"


NAMED_USERS: tuple[UserSpec, ...] = (
    UserSpec("admin", "Ada", "Admin", "/", title="IT Administrator", department="IT",
             extra=(("isAdmin", True),)),
    UserSpec("carol", "Carol", "Chief", "/Sales", title="VP Sales", department="Sales",
             extra=(("isDelegatedAdmin", True),)),
    UserSpec("alice", "Alice", "Source", "/Sales", title="Partner Manager", department="Sales",
             manager="carol", extra=(("aliases", ["alice.source@example.com"]),)),
    UserSpec("bob", "Bob", "Builder", "/Sales/EMEA", title="Account Executive", department="Sales",
             manager="alice"),
    UserSpec("zoe", "Zoë", "Ångström", "/Sales/EMEA", title="Sales Engineer", department="Sales",
             manager="alice"),
    UserSpec("lilei", "雷", "李", "/Sales/EMEA", domain=SECONDARY_DOMAIN, title="Account Manager",
             department="Sales", manager="alice@example.com"),
    UserSpec("frank", "Frank", "Frozen", "/Sales", title="Sales Rep", department="Sales", manager="carol",
             extra=(("suspended", True), ("suspensionReason", "ADMIN"))),
    UserSpec("dave", "Dave", "Developer", "/Engineering", title="Engineer", department="Engineering",
             manager="erin"),
    UserSpec("erin", "Erin", "Engineer", "/Engineering", title="Engineering Manager",
             department="Engineering", extra=(("isDelegatedAdmin", True),)),
    UserSpec("grace", "Grace", "Archive", "/Engineering", title="Former Engineer",
             department="Engineering", extra=(("archived", True),)),
    UserSpec("heidi", "Heidi", "Hidden", "/Contractors", title="Contractor",
             extra=(("includeInGlobalAddressList", False),)),
    UserSpec("oscar", "Óscar", "Núñez", "/Contractors", domain=SECONDARY_DOMAIN, title="Contractor"),
)


def qualify(local_or_email: str, domain: str) -> str:
    return local_or_email if "@" in local_or_email else f"{local_or_email}@{domain}"


def build_user(spec: UserSpec, user_id: str, rng: random.Random) -> JSON:
    user: JSON = {
        "id": user_id,
        "primaryEmail": spec.email,
        "name": {"givenName": spec.given, "familyName": spec.family,
                 "fullName": f"{spec.given} {spec.family}"},
        "orgUnitPath": spec.ou,
        "aliases": [],
        "creationTime": timestamp(rng),
        "lastLoginTime": timestamp(rng, 2024, 2024),
        "phones": [{"value": f"+1 415-555-{rng.randrange(10000):04d}", "type": "work"}],
        "organizations": [{"name": ORG_NAME, "title": spec.title, "department": spec.department,
                           "costCenter": f"CC-{spec.department or 'General'}",
                           "primary": True, "customType": "", "description": "Employee"}],
        "addresses": [{"type": "work", "formatted": "1 Main St, Springfield",
                       "streetAddress": "1 Main St", "locality": "Springfield", "country": "US"}],
    }
    if spec.manager:
        user["relations"] = [{"value": qualify(spec.manager, spec.domain), "type": "manager"}]
    user.update(dict(spec.extra))
    return user


CUSTOM_SCHEMA: JSON = {
    "schemaName": "Employment",
    "displayName": "Employment",
    "fields": [
        {"fieldName": "EmployeeNumber", "fieldType": "INT64", "displayName": "Employee number"},
        {"fieldName": "Division", "fieldType": "STRING"},
        {"fieldName": "Languages", "fieldType": "STRING", "multiValued": True},
        {"fieldName": "StartDate", "fieldType": "DATE", "readAccessType": "ADMINS_AND_SELF"},
    ],
}
DOMAIN_CONTACTS: tuple[JSON, ...] = (
    {"names": [{"givenName": "Reception", "familyName": "Desk"}],
     "phoneNumbers": [{"value": "+1 415-555-0100", "type": "work"}],
     "emailAddresses": [{"value": "reception@example.com", "type": "work"}]},
    {"names": [{"givenName": "IT", "familyName": "Helpdesk"}],
     "emailAddresses": [{"value": "helpdesk@example.com", "type": "work"}],
     "urls": [{"value": "https://help.example.com", "type": "work"}]},
    {"names": [{"givenName": "Acme", "familyName": "Supplies"}],
     "organizations": [{"name": "Acme Supplies Ltd", "title": "Account Manager", "type": "work"}],
     "emailAddresses": [{"value": "orders@acme.example", "type": "work"}],
     "addresses": [{"streetAddress": "9 Dock Rd", "city": "London", "country": "United Kingdom"}]},
)


def add_directory_mapping_fields(ws: Workspace, users: dict[str, JSON]) -> None:
    """External ids, desk locations and custom schema values of the named users (no random draws: the
    rest of the tenant stays what it was for a given seed)."""
    create_schema(ws, CUSTOM_SCHEMA, schema_id="Xq3bL9kEemployment01")
    for number, (email, user) in enumerate(users.items(), start=1001):
        department = user["organizations"][0].get("department") or "General"
        user["externalIds"] = [{"value": f"E{number}", "type": "organization"}]
        user["locations"] = [{"type": "desk", "area": "Springfield HQ", "buildingId": "HQ",
                              "floorName": str(number % 3 + 1), "deskCode": f"D{number}"}]
        values: JSON = {"EmployeeNumber": number, "Division": department,
                        "StartDate": f"20{10 + number % 14}-0{number % 9 + 1}-01"}
        if email.endswith("@example.org") or number % 4 == 0:
            values["Languages"] = [{"value": "en"}, {"value": "fr" if number % 2 else "zh"}]
        set_custom_values(ws, user, {"Employment": values})


def add_orgunits(ws: Workspace, ids: Ids) -> dict[str, JSON]:
    units: dict[str, JSON] = {}
    for path in ORG_UNIT_PATHS:
        parent_path = path.rsplit("/", 1)[0] or "/"
        unit: JSON = {
            "name": ORG_NAME if path == "/" else path.rsplit("/", 1)[1],
            "description": "" if path == "/" else f"{path.rsplit('/', 1)[1]} team",
            "orgUnitPath": path,
            "orgUnitId": f"id:{ids.orgunit()}",
            "blockInheritance": False,
        }
        if path != "/":
            unit["parentOrgUnitPath"] = parent_path
            unit["parentOrgUnitId"] = units[parent_path]["orgUnitId"]
        units[path] = unit
    ws.directory["orgunits"].update(units)
    return units


def add_domains(ws: Workspace, rng: random.Random) -> None:
    for name, primary in ((PRIMARY_DOMAIN, True), (SECONDARY_DOMAIN, False)):
        created = dt.datetime.fromisoformat(timestamp(rng, 2014, 2015).replace("Z", "+00:00"))
        ws.directory["domains"].append({
            "domainName": name,
            "isPrimary": primary,
            "verified": True,
            "creationTime": str(int(created.timestamp() * 1000)),
            "domainAliases": [],
        })


def add_named_users(ws: Workspace, ids: Ids, rng: random.Random) -> dict[str, JSON]:
    users: dict[str, JSON] = {}
    for spec in NAMED_USERS:
        user = build_user(spec, ids.user(), rng)
        users[spec.email] = user
        ws.directory["users"][user["id"]] = user
    for email in ("admin@example.com", "alice@example.com", "zoe@example.com"):
        ws.directory["photos"][users[email]["id"]] = user_photo(rng)
    return users


def add_extra_users(ws: Workspace, ids: Ids, rng: random.Random, count: int) -> None:
    """Plain generated users spread over the org units (for paging and 10,000-user benchmarks)."""
    units = ORG_UNIT_PATHS[1:]
    created = timestamp(rng)
    for i in range(count):
        user_id = ids.user()
        ws.directory["users"][user_id] = {
            "id": user_id,
            "primaryEmail": f"user{i:05d}@{PRIMARY_DOMAIN}",
            "name": {"givenName": "User", "familyName": f"{i:05d}", "fullName": f"User {i:05d}"},
            "orgUnitPath": units[i % len(units)],
            "aliases": [],
            "creationTime": created,
        }


GROUPS: tuple[tuple[str, str, str], ...] = (
    ("sales@example.com", "Sales", "Everyone selling"),
    ("emea-sales@example.com", "EMEA Sales", "Sales in Europe, Middle East and Africa"),
    ("engineering@example.com", "Engineering", "Builders"),
    ("all-staff@example.com", "All Staff", "Every team"),
    ("contractors@example.org", "Contractors", "External help"),
)

# group -> [(member address, role)]; an address naming a group makes a nested GROUP member
MEMBERSHIPS: dict[str, tuple[tuple[str, str], ...]] = {
    "sales@example.com": (("carol@example.com", "OWNER"), ("alice@example.com", "MANAGER"),
                          ("frank@example.com", "MEMBER"), ("emea-sales@example.com", "MEMBER")),
    "emea-sales@example.com": (("bob@example.com", "MEMBER"), ("zoe@example.com", "MEMBER"),
                               ("lilei@example.org", "MEMBER"), ("alice@example.com", "OWNER")),
    "engineering@example.com": (("erin@example.com", "OWNER"), ("dave@example.com", "MEMBER"),
                                ("grace@example.com", "MEMBER")),
    "all-staff@example.com": (("admin@example.com", "OWNER"), ("sales@example.com", "MEMBER"),
                              ("engineering@example.com", "MEMBER")),
    "contractors@example.org": (("heidi@example.com", "MEMBER"), ("oscar@example.org", "MEMBER")),
}


def add_groups(ws: Workspace, ids: Ids, users: dict[str, JSON]) -> dict[str, JSON]:
    groups: dict[str, JSON] = {}
    for email, name, description in GROUPS:
        group = {"id": ids.group(), "email": email, "name": name, "description": description,
                 "adminCreated": True, "aliases": []}
        groups[email] = group
        ws.directory["groups"][group["id"]] = group
    for email, members in MEMBERSHIPS.items():
        ws.directory["members"][groups[email]["id"]] = [
            member_entry(address, role, users, groups) for address, role in members
        ]
    return groups


def member_entry(address: str, role: str, users: dict[str, JSON], groups: dict[str, JSON]) -> JSON:
    if address in groups:
        return {"id": groups[address]["id"], "email": address, "role": role, "type": "GROUP",
                "status": "ACTIVE"}
    return {"id": users[address]["id"], "email": address, "role": role, "type": "USER", "status": "ACTIVE"}


ROLES: tuple[tuple[str, str, bool, bool, tuple[str, ...]], ...] = (
    # name, description, system role, super admin, privileges
    (SUPER_ADMIN_ROLE, "Google Apps Administrator Seed Role", True, True,
     ("SUPER_ADMIN", "USERS_ALL", "GROUPS_ALL", "ORGANIZATION_UNITS_ALL")),
    (GROUPS_ADMIN_ROLE, "Groups Administrator", True, False, ("GROUPS_ALL", "USERS_RETRIEVE")),
    (HELP_DESK_ROLE, "Resets passwords and reads users of its org unit", False, False,
     ("USERS_RETRIEVE", "USERS_RESET_PASSWORD")),
)


def add_roles(ws: Workspace, ids: Ids) -> dict[str, JSON]:
    roles: dict[str, JSON] = {}
    for name, description, system, super_admin, privileges in ROLES:
        role = {
            "roleId": ids.number(17),
            "roleName": name,
            "roleDescription": description,
            "isSystemRole": system,
            "isSuperAdminRole": super_admin,
            "rolePrivileges": [{"privilegeName": p, "serviceId": "00haapch16h1ysv"} for p in privileges],
        }
        roles[name] = role
        ws.directory["roles"][role["roleId"]] = role
    return roles


def add_role_assignments(
    ws: Workspace, ids: Ids, roles: dict[str, JSON], users: dict[str, JSON], groups: dict[str, JSON],
    units: dict[str, JSON],
) -> None:
    plan: tuple[tuple[str, str, str | None], ...] = (
        (SUPER_ADMIN_ROLE, users["admin@example.com"]["id"], None),
        (HELP_DESK_ROLE, users["erin@example.com"]["id"], "/Engineering"),
        (HELP_DESK_ROLE, users["carol@example.com"]["id"], "/Sales"),
        (GROUPS_ADMIN_ROLE, groups["engineering@example.com"]["id"], None),
    )
    for role_name, assignee, ou in plan:
        assignment: JSON = {
            "roleAssignmentId": ids.number(17),
            "roleId": roles[role_name]["roleId"],
            "assignedTo": assignee,
            "scopeType": "ORG_UNIT" if ou else "CUSTOMER",
        }
        if ou:
            assignment["orgUnitId"] = units[ou]["orgUnitId"].removeprefix("id:")
        ws.directory["role_assignments"][assignment["roleAssignmentId"]] = assignment


# --- contacts of the source user ------------------------------------------------------------------
GIVEN_NAMES = ("Anna", "Ben", "Chloé", "Dmitri", "Eva", "Fatima", "Giulia", "Hiro", "Ingrid", "Jamal",
               "Kateřina", "Lars", "María José", "Nils", "Ólafur", "Priya", "Quentin", "Renée", "Søren",
               "Tomás", "Ursula", "Văn", "Wojciech", "Xiu", "Yusuf", "Zoë", "Ærin", "Björn")
FAMILY_NAMES = ("Andersson", "Bäcker", "Chen", "Dubois", "Eriksen", "Fernández", "García", "Hoàng",
                "Ivanova", "Jäger", "Kowalski", "López", "Müller", "Nakamura", "O'Brien", "Petrović",
                "Quispe", "Rossi", "Sørensen", "Tanaka", "Ülker", "Van der Berg", "Wiśniewski", "Ng")
# Names written in their own scripts, given without an ASCII form.
SCRIPT_NAMES = (("雷", "李"), ("太郎", "山田"), ("Иван", "Петров"), ("Αλέξης", "Παπαδόπουλος"),
                ("محمد", "الفارسي"), ("민준", "김"))
COMPANIES = (("Acme Corp", "acme.test"), ("Globex", "globex.test"), ("Initech", "initech.test"),
             ("Umbrella GmbH", "umbrella.test"), ("Stark Industries", "stark.test"),
             ("Wayne Enterprises", "wayne.test"), ("Société Générale d'Essai", "sge.test"))
TITLES = ("CEO", "CTO", "Head of Partnerships", "Account Manager", "Buyer", "Engineer", "Consultant")
CITIES = (("Berlin", "", "10115", "Germany", "DE"), ("Paris", "", "75001", "France", "FR"),
          ("San Francisco", "CA", "94105", "United States", "US"), ("Tokyo", "", "100-0001", "Japan", "JP"),
          ("São Paulo", "SP", "01000-000", "Brazil", "BR"), ("Zürich", "", "8001", "Switzerland", "CH"))
EMAIL_TYPES = ("work", "home", "other")
PHONE_TYPES = ("mobile", "work", "home", "workFax", "main")
RELATION_TYPES = ("spouse", "assistant", "manager", "child", "friend")


def ascii_slug(text: str) -> str:
    folded = "".join(c for c in text.lower() if c.isascii() and (c.isalnum() or c in " -"))
    return "".join(folded.split()).replace("-", "") or "contact"


def maybe(rng: random.Random, chance: float) -> bool:
    return rng.random() < chance


def contact_names(rng: random.Random, index: int) -> tuple[str, str]:
    if index % 23 == 7:
        return SCRIPT_NAMES[(index // 23) % len(SCRIPT_NAMES)]
    return rng.choice(GIVEN_NAMES), rng.choice(FAMILY_NAMES)


def contact_emails(rng: random.Random, index: int, given: str, family: str, domain: str) -> list[JSON]:
    local = f"{ascii_slug(given)}.{ascii_slug(family)}{index}"
    emails = [{"value": f"{local}@{domain}", "type": "work"}]
    for kind in EMAIL_TYPES[1: 1 + rng.randrange(3)]:
        emails.append({"value": f"{local}@{kind}.mail.test", "type": kind})
    return emails


def contact_phones(rng: random.Random) -> list[JSON]:
    count = rng.choice((0, 1, 1, 2, 3))
    def number() -> str:
        return f"+{rng.choice((1, 33, 44, 49, 81))} {rng.randrange(100, 999)} {rng.randrange(1000, 9999)}"

    return [{"value": number(), "type": PHONE_TYPES[i]} for i in range(count)]


def contact_address(rng: random.Random) -> JSON:
    city, region, postal, country, code = rng.choice(CITIES)
    address = {"type": rng.choice(("work", "home")),
               "streetAddress": f"{rng.randrange(1, 200)} Market Street",
               "city": city, "postalCode": postal, "country": country, "countryCode": code}
    if region:
        address["region"] = region
    return address


def contact_birthday(rng: random.Random) -> JSON:
    date = {"month": rng.randrange(1, 13), "day": rng.randrange(1, 29)}
    if maybe(rng, 0.7):
        date["year"] = rng.randrange(1950, 2000)
    return {"date": date}


def biography(rng: random.Random) -> list[JSON]:
    note = f"Met at the {rng.randrange(2015, 2024)} summit. Likes ☕.\nSecond line of notes."
    return [{"value": note, "contentType": "TEXT_PLAIN"}]


OptionalMaker = Callable[[random.Random, int, str, str], list[JSON]]
# field: (share of contacts that carry it, maker(rng, index, company domain, company name))
OPTIONAL_FIELDS: dict[str, tuple[float, OptionalMaker]] = {
    "phoneNumbers": (0.8, lambda rng, i, d, c: contact_phones(rng)),
    "organizations": (0.85, lambda rng, i, d, c: [{"name": c, "title": rng.choice(TITLES), "type": "work"}]),
    "addresses": (0.4, lambda rng, i, d, c: [contact_address(rng)]),
    "birthdays": (0.3, lambda rng, i, d, c: [contact_birthday(rng)]),
    "urls": (0.35, lambda rng, i, d, c: [{"value": f"https://www.{d}/people/{i}", "type": "work"}]),
    "biographies": (0.25, lambda rng, i, d, c: biography(rng)),
    "relations": (0.15, lambda rng, i, d, c: [{"person": rng.choice(GIVEN_NAMES),
                                               "type": rng.choice(RELATION_TYPES)}]),
    "userDefined": (0.2, lambda rng, i, d, c: [{"key": "Account tier",
                                                "value": rng.choice(("Gold", "Silver"))}]),
    "nicknames": (0.15, lambda rng, i, d, c: [{"value": rng.choice(("Bobby", "Kat", "Doc", "Ace 🙂"))}]),
}


def partner_contact(rng: random.Random, index: int) -> JSON:
    """One varied Person: every optional field appears on a share of the contacts."""
    given, family = contact_names(rng, index)
    company, domain = rng.choice(COMPANIES)
    person: JSON = {"names": [{"givenName": given, "familyName": family}]}
    if index % 41 == 13:  # a bare name: no address, no phone
        return person
    person["emailAddresses"] = contact_emails(rng, index, given, family, domain)
    for field, (chance, make) in OPTIONAL_FIELDS.items():
        value = make(rng, index, domain, company)
        if value and maybe(rng, chance):
            person[field] = value
    return person


def in_groups(person: JSON, *resource_names: str) -> JSON:
    memberships = [{"contactGroupMembership": {"contactGroupResourceName": rn}} for rn in resource_names]
    return {**person, "memberships": memberships}


def email_only_contact(index: int) -> JSON:
    return {"emailAddresses": [{"value": f"no-name-{index}@unnamed.test", "type": "other"}]}


def seed_contacts(ws: Workspace, user_id: str, rng: random.Random, count: int) -> tuple[str, str, int]:
    """Partners (`count` contacts), Family (a few, one shared with Partners), and a few in neither."""
    partners = people.create_group(ws, user_id, SOURCE_GROUP_NAME)["resourceName"]
    family = people.create_group(ws, user_id, FAMILY_GROUP_NAME)["resourceName"]
    my_contacts = "contactGroups/myContacts"
    created = 0
    for index in range(count):
        person = email_only_contact(index) if index % 97 == 50 else partner_contact(rng, index)
        groups = (partners, my_contacts, family) if index == 0 else (partners, my_contacts)
        people.create_contact(ws, user_id, in_groups(person, *groups))
        created += 1
    for index in range(count, count + FAMILY_ONLY_CONTACTS):
        people.create_contact(ws, user_id, in_groups(partner_contact(rng, index), family, my_contacts))
        created += 1
    for index in range(count + FAMILY_ONLY_CONTACTS, count + FAMILY_ONLY_CONTACTS + OUTSIDE_CONTACTS):
        people.create_contact(ws, user_id, in_groups(partner_contact(rng, index), my_contacts))
        created += 1
    return partners, family, created


# --- the whole tenant -----------------------------------------------------------------------------
def emails_under(users: dict[str, JSON], root: str) -> tuple[str, ...]:
    return tuple(sorted(e for e, u in users.items() if u["orgUnitPath"] == root
                        or u["orgUnitPath"].startswith(root + "/")))


def seed_workspace(
    ws: Workspace, *, contacts: int = 300, extra_users: int = 0, seed: int = 20240501
) -> SeedInfo:
    """Fill an empty workspace with the demo tenant and describe it."""
    rng = random.Random(seed)
    ids = Ids(rng)
    with ws.lock:
        ws.directory["customer"] = {"id": CUSTOMER_ID}
        add_domains(ws, rng)
        units = add_orgunits(ws, ids)
        users = add_named_users(ws, ids, rng)
        add_directory_mapping_fields(ws, users)
        groups = add_groups(ws, ids, users)
        roles = add_roles(ws, ids)
        add_role_assignments(ws, ids, roles, users, groups, units)
        add_extra_users(ws, ids, random.Random(seed + 1), extra_users)
        source = users["alice@example.com"]
        partners, family, total = seed_contacts(ws, source["id"], random.Random(seed + 2), contacts)
        for person in DOMAIN_CONTACTS:
            create_domain_contact(ws, person)
    return SeedInfo(
        customer_id=CUSTOMER_ID,
        domains=(PRIMARY_DOMAIN, SECONDARY_DOMAIN),
        primary_domain=PRIMARY_DOMAIN,
        secondary_domain=SECONDARY_DOMAIN,
        admin_email="admin@example.com",
        admin_user_id=users["admin@example.com"]["id"],
        source_email=source["primaryEmail"],
        source_user_id=source["id"],
        source_alias=source["aliases"][0],
        source_group_resource_name=partners,
        source_group_name=SOURCE_GROUP_NAME,
        family_group_resource_name=family,
        family_group_name=FAMILY_GROUP_NAME,
        contact_count=contacts,
        source_total_contacts=total,
        suspended_email="frank@example.com",
        archived_email="grace@example.com",
        hidden_email="heidi@example.com",
        secondary_domain_email="lilei@example.org",
        unicode_emails=("zoe@example.com", "lilei@example.org", "oscar@example.org"),
        sales_emails=emails_under(users, "/Sales"),
        emea_emails=emails_under(users, "/Sales/EMEA"),
        user_emails=tuple(users),
        user_count=len(users) + extra_users,
        extra_user_count=extra_users,
        sales_group_email="sales@example.com",
        emea_group_email="emea-sales@example.com",
        engineering_group_email="engineering@example.com",
        all_staff_group_email="all-staff@example.com",
        contractors_group_email="contractors@example.org",
        group_emails=tuple(groups),
        super_admin_role_name=SUPER_ADMIN_ROLE,
        help_desk_role_name=HELP_DESK_ROLE,
        groups_admin_role_name=GROUPS_ADMIN_ROLE,
        super_admin_role_id=roles[SUPER_ADMIN_ROLE]["roleId"],
        help_desk_role_id=roles[HELP_DESK_ROLE]["roleId"],
        org_unit_paths=ORG_UNIT_PATHS,
        ou_scoped_admin_email="erin@example.com",
        custom_schema_name=CUSTOM_SCHEMA["schemaName"],
        domain_contact_count=len(DOMAIN_CONTACTS),
    )
