"""The one table of the People fields ContactSync knows: for each, its People API name, what people call it, the
other names an admin may type for it, how it travels and is compared, whether Directory Sync fills it, and
whether a sync copies it by default.

Everything that names the fields reads them here: the canonical form and content hash (`contacts.py`), the
People client's `personFields` and update mask, the directory mapping, the README's "Synced fields" sentence
(a test compares them). The Google emulator is not the product and keeps its own list.

A field travels one of three ways (`Carried`): in the contact's body (compared in canonical form through the
content hash, written under the update mask), as the photo (its own calls, compared by a fingerprint), or not
at all: memberships are the job's label (and My Contacts where asked), set by the planner, never copied.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

JSON = dict[str, Any]


class Carried(StrEnum):
    """How a field goes from a source contact to its copies."""

    body = "body"  # in the body: canonical entries, compared by content hash, written under the update mask
    photo = "photo"  # by updateContactPhoto/deleteContactPhoto, compared by a fingerprint (the image's URL or etag)
    membership = "membership"  # never copied: the planner sets the job's label (and My Contacts where asked)


# Output-only keys Google adds to any field's entries on read; they are never written and never compared.
OUTPUT_ONLY = frozenset({"metadata", "formattedType", "canonicalForm", "displayNameLastFirst"})


@dataclass(frozen=True)
class PeopleField:
    name: str  # the People API's name (personFields, updateMask, the body's key)
    words: str  # as people read it: "phone numbers"
    aliases: tuple[str, ...] = ()  # other names an admin may type for it
    carried: Carried = Carried.body
    from_directory: bool = False  # Directory Sync fills it (sync_core/run/directory_source.py)
    default: bool = True  # every sync copies it today
    output_only: frozenset[str] = frozenset()  # keys of this field's entries Google derives on read, beyond OUTPUT_ONLY
    # Keys Google derives from the `parts` when any part is present: writing both lets one override the other.
    derived: frozenset[str] = frozenset()
    parts: frozenset[str] = frozenset()

    @property
    def selectable(self) -> bool:
        """Whether a job may choose to copy it or not (memberships are the job's own business)."""
        return self.carried is not Carried.membership

    def canonical_entry(self, entry: Mapping[str, Any]) -> JSON:
        """One entry of a body field, stripped of what Google adds or derives, in a stable form."""
        out = {k: v for k, v in entry.items() if k not in OUTPUT_ONLY and v not in (None, "", [], {})}
        for key in self.output_only:
            out.pop(key, None)
        if self.derived and self.parts & out.keys():
            for key in self.derived:
                out.pop(key, None)
        return out

    def canonical(self, person: Mapping[str, Any]) -> Any:
        """What is compared of this field of `person`: the canonical entries of a body field (the contact's own:
        entries of a linked Google profile are the profile's), the photo's fingerprint, or the set of groups."""
        if self.carried is Carried.photo:
            return photo_fingerprint(person)
        if self.carried is Carried.membership:
            return memberships_of(person)
        entries = (
            self.canonical_entry(e)
            for e in person.get(self.name, []) or []
            if isinstance(e, Mapping) and from_contact_source(e)
        )
        return [e for e in entries if e]


FIELDS: tuple[PeopleField, ...] = (
    PeopleField(
        "names",
        "names",
        from_directory=True,
        output_only=frozenset({"displayName"}),
        derived=frozenset({"unstructuredName"}),
        parts=frozenset({"givenName", "familyName", "middleName", "honorificPrefix", "honorificSuffix"}),
    ),
    PeopleField("nicknames", "nicknames"),
    PeopleField("emailAddresses", "email addresses", aliases=("emails",), from_directory=True),
    PeopleField("phoneNumbers", "phone numbers", aliases=("phones",), from_directory=True),
    PeopleField("organizations", "organizations", from_directory=True),
    PeopleField(
        "addresses",
        "addresses",
        from_directory=True,
        derived=frozenset({"formattedValue"}),
        parts=frozenset({"poBox", "streetAddress", "extendedAddress", "city", "region", "postalCode", "country"}),
    ),
    PeopleField("urls", "URLs"),
    PeopleField("birthdays", "birthdays"),
    PeopleField("biographies", "biographies", aliases=("notes",)),
    PeopleField("relations", "relations", from_directory=True),  # a directory user's manager
    PeopleField("userDefined", "user-defined fields"),
    # Copied only by a job that asks (`--fields`, or a Directory Sync's mapping that targets them): a job that
    # does not reads, compares and writes exactly what it did before they were here.
    PeopleField("externalIds", "external ids", default=False),  # {value, type}; formattedType is Google's
    PeopleField("locations", "locations", default=False),  # {value, type, current, buildingId, floor, ...}
    PeopleField("photos", "contact photo", aliases=("photo",), carried=Carried.photo, from_directory=True),
    PeopleField("memberships", "contact groups", carried=Carried.membership, default=False),
)
BY_NAME: dict[str, PeopleField] = {f.name: f for f in FIELDS}


def _the(carried: Carried) -> PeopleField:
    (found,) = (f for f in FIELDS if f.carried is carried)
    return found


# The People API personFields that travel in the body (in the table's order), and those every sync reads,
# compares and writes unless its rules ask for more (the default ones: their masks and hashes never change).
BODY_FIELDS: tuple[PeopleField, ...] = tuple(f for f in FIELDS if f.carried is Carried.body)
SYNCED_FIELDS: tuple[str, ...] = tuple(f.name for f in BODY_FIELDS if f.default)
# Body fields copied only where a job asks for them (`FieldRules.extra`).
EXTRA_FIELDS: tuple[str, ...] = tuple(f.name for f in BODY_FIELDS if not f.default)
PHOTOS = _the(Carried.photo).name
MEMBERSHIPS = _the(Carried.membership).name
# Not fields of a contact's: our ownership tag lives in clientData, Google's sources and update times in metadata.
TAG_FIELD = "clientData"
METADATA = "metadata"
# What we read of a source contact: the synced fields plus what we need to own and place it (this order, so the
# personFields of a sync token made before the table keep their text).
READ_FIELDS: tuple[str, ...] = (*SYNCED_FIELDS, MEMBERSHIPS, TAG_FIELD, METADATA, PHOTOS)
# What every sync copies today, and what a job could choose from.
DEFAULT_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.default)
SELECTABLE: tuple[PeopleField, ...] = tuple(f for f in FIELDS if f.selectable)


def read_fields(extra: Iterable[str] = ()) -> tuple[str, ...]:
    """What a read of contacts' bodies asks for: READ_FIELDS, then the extra body fields a job copies (none:
    READ_FIELDS itself, so a sync token made before the extra fields existed keeps its text)."""
    wanted = set(extra)
    return (*READ_FIELDS, *(name for name in EXTRA_FIELDS if name in wanted))


def from_contact_source(entry: Mapping[str, Any]) -> bool:
    """Entries that come from a linked Google profile are the profile's, not the contact's."""
    source = entry.get("metadata", {}).get("source", {})
    return source.get("type", "CONTACT") == "CONTACT"


def photo_fingerprint(person: Mapping[str, Any]) -> str | None:
    """The contact's own photo (not a profile's, not the default letter): its URL names the image."""
    for photo in person.get(PHOTOS, []) or []:
        if photo.get("default") or not from_contact_source(photo):
            continue
        if photo.get("url"):
            return str(photo["url"])
    return None


def memberships_of(person: Mapping[str, Any]) -> frozenset[str]:
    names = set()
    for m in person.get(MEMBERSHIPS, []) or []:
        rn = m.get("contactGroupMembership", {}).get("contactGroupResourceName")
        if rn:
            names.add(rn)
    return frozenset(names)


def canonical_body(person: Mapping[str, Any], extra: Iterable[str] = ()) -> JSON:
    """The synced fields of a Person (and the `extra` body fields a job copies), stripped of output-only data,
    in a stable form."""
    wanted = set(extra)
    body: JSON = {}
    for field in BODY_FIELDS:
        if not field.default and field.name not in wanted:
            continue
        entries = field.canonical(person)
        if entries:
            body[field.name] = entries
    return body


# --- what an admin types ------------------------------------------------------------------------------------
class UnknownField(ValueError):
    """A name in a field list that is no field a job may choose; the message lists the valid ones."""

    def __init__(self, name: str) -> None:
        super().__init__(f"unknown field {name!r}: choose from {choices()}")
        self.name = name


def choices() -> str:
    """The names a field list accepts, for an error or a help text: `emailAddresses (emails)`."""
    return ", ".join(f"{f.name} ({', '.join(f.aliases)})" if f.aliases else f.name for f in SELECTABLE)


_TYPED: dict[str, PeopleField] = {
    typed.casefold(): f for f in SELECTABLE for typed in (f.name, *f.aliases)
}


def field_named(name: str) -> PeopleField:
    """The field an admin means by `name` (its People name or an alias, any case); UnknownField otherwise."""
    found = _TYPED.get(name.strip().casefold())
    if found is None:
        raise UnknownField(name.strip())
    return found


def parse_field_list(text: str | Iterable[str]) -> tuple[str, ...]:
    """The People names of a comma-separated list (or of several such texts, as a repeated option gives them),
    each once, in the table's order: `"phones, names"` -> `("names", "phoneNumbers")`. Empty items are
    skipped; an unknown name raises UnknownField naming the valid choices."""
    texts = [text] if isinstance(text, str) else list(text)
    wanted = {field_named(item).name for t in texts for item in t.split(",") if item.strip()}
    return tuple(f.name for f in SELECTABLE if f.name in wanted)


def synced_fields_sentence() -> str:
    """The README's list of what a sync copies by default, in words."""
    body = [f.words for f in BODY_FIELDS if f.default]
    photo = BY_NAME[PHOTOS]
    return ", ".join(body) + (f", and the {photo.words}" if photo.default else "")
