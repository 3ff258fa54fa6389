"""A job's field rules: which People fields it copies, which of those the targets own once filled, and whether
a first sync adopts a target's own contact that already holds a source contact's email address.

Pure: the rules as a value, their check (`FieldRules.of`), the projection of a source contact onto them, and
the words `jobs show` and the run's dry run use. Default rules change nothing: a job that never chose keeps the
bodies and hashes it had, so its links stay valid.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sync_core.domain.directory_fields import copied_targets, parse_mapping
from sync_core.domain.fields import (
    BODY_FIELDS,
    DEFAULT_FIELDS,
    EXTRA_FIELDS,
    PHOTOS,
    UnknownField,
    choices,
    parse_field_list,
)

if TYPE_CHECKING:
    from sync_core.domain.models import SyncJob

JSON = dict[str, Any]

MATCH_EMAIL = "email"
MATCH_CHOICES = (MATCH_EMAIL,)
EMAILS = "emailAddresses"


class RulesError(ValueError):
    """Field rules that cannot be kept; `option` names the option at fault (`fields`, `keep_target_fields`,
    `match_existing`), the message the valid choices."""

    def __init__(self, option: str, message: str) -> None:
        super().__init__(message)
        self.option = option


@dataclass(frozen=True)
class FieldRules:
    fields: tuple[str, ...] = DEFAULT_FIELDS  # People names, in the table's order
    keep: tuple[str, ...] = ()  # copied fields the targets own once filled
    match_existing: str | None = None  # "email": adopt a target's own contact holding the source's email

    @classmethod
    def of(
        cls,
        fields: str | Iterable[str] | None = None,
        keep: str | Iterable[str] | None = None,
        match_existing: str | None = None,
    ) -> FieldRules:
        """The rules an admin typed (None: the default), checked; RulesError names the valid choices."""
        try:
            copied = DEFAULT_FIELDS if fields is None else parse_field_list(fields)
        except UnknownField as exc:
            raise RulesError("fields", str(exc)) from None
        if not copied:
            raise RulesError("fields", f"--fields needs at least one field: choose from {choices()}")
        try:
            kept = () if keep is None else parse_field_list(keep)
        except UnknownField as exc:
            raise RulesError("keep_target_fields", str(exc)) from None
        not_copied = [f for f in kept if f not in copied]
        if not_copied:
            raise RulesError(
                "keep_target_fields",
                f"a kept field must also be copied: {', '.join(not_copied)} is not in the copied fields "
                f"({', '.join(copied)})",
            )
        match = None
        if match_existing is not None:
            match = match_existing.strip().casefold()
            if match in ("", "none", "off"):
                match = None
            elif match not in MATCH_CHOICES:
                raise RulesError(
                    "match_existing", f"unknown --match-existing {match_existing.strip()!r}: choose from email"
                )
            elif EMAILS not in copied:
                raise RulesError("match_existing", "--match-existing email needs emailAddresses in --fields")
        return cls(copied, kept, match)

    @property
    def is_default(self) -> bool:
        return self.fields == DEFAULT_FIELDS and not self.keep

    @property
    def body_fields(self) -> tuple[str, ...]:
        """The body fields the job copies (the photo travels apart)."""
        return tuple(f.name for f in BODY_FIELDS if f.name in self.fields)

    @property
    def extra(self) -> tuple[str, ...]:
        """The copied body fields outside the default set (externalIds, locations): what the job's reads of
        contacts' bodies ask for beyond READ_FIELDS (none under the default rules)."""
        return tuple(f for f in EXTRA_FIELDS if f in self.fields)

    def copying(self, names: Iterable[str]) -> FieldRules:
        """These rules copying `names` too (a Directory Sync's mapping targets): unchanged when it copies them
        all already."""
        wanted = set(self.fields) | set(names)
        if wanted == set(self.fields):
            return self
        return FieldRules(parse_field_list(sorted(wanted)), self.keep, self.match_existing)

    @property
    def managed(self) -> tuple[str, ...]:
        """The body fields the source always decides: copied, not kept."""
        return tuple(f for f in self.body_fields if f not in self.keep)

    @property
    def kept_body(self) -> tuple[str, ...]:
        return tuple(f for f in self.body_fields if f in self.keep)

    @property
    def photo(self) -> str:
        """`copy` (the source's photo, kept in step), `keep` (set when a copy is made, the target's afterwards)
        or `off` (never written)."""
        if PHOTOS not in self.fields:
            return "off"
        return "keep" if PHOTOS in self.keep else "copy"

    def token(self) -> str:
        """What changes when the rules change: part of each contact's hash and of the source version."""
        if self.is_default:
            return ""
        return f"fields={','.join(self.fields)};keep={','.join(self.keep)}"

    def summary(self) -> str:
        """One line for `jobs show` and App Home."""
        copied = "default fields" if self.fields == DEFAULT_FIELDS else ", ".join(self.fields)
        parts = [f"copies {copied}"]
        if self.keep:
            parts.append(f"targets keep {', '.join(self.keep)}")
        if self.match_existing:
            parts.append(f"adopts existing contacts by {self.match_existing}")
        return "; ".join(parts)


DEFAULT_RULES = FieldRules()


def job_field_rules(job: SyncJob) -> FieldRules:
    """The rules a job's run copies by (its columns were checked when they were saved). A Directory Sync copies
    its mapping's targets too, whatever its --fields say: a target outside them would be mapped, then dropped."""
    rules = FieldRules.of(job.copy_fields, job.keep_target_fields or (), job.match_existing)
    if job.directory_fields:  # only a Directory Sync has a mapping
        rules = rules.copying(copied_targets(parse_mapping(job.directory_fields)))
    return rules


def managed_body(body: Mapping[str, Any], rules: FieldRules) -> JSON:
    """The part of a canonical body the source always decides."""
    return {k: v for k, v in body.items() if k in rules.managed}


def filled_kept(body: Mapping[str, Any], rules: FieldRules) -> frozenset[str]:
    """The kept body fields a canonical body holds a value for."""
    return frozenset(k for k in rules.kept_body if body.get(k))


def first_email(body: Mapping[str, Any]) -> str | None:
    """A contact's first email address, casefolded (what --match-existing email matches on)."""
    for entry in body.get(EMAILS, []) or []:
        value = str(entry.get("value", "")).strip()
        if value:
            return value.casefold()
    return None


def all_emails(person: Mapping[str, Any]) -> frozenset[str]:
    return frozenset(
        str(e.get("value", "")).strip().casefold() for e in person.get(EMAILS, []) or [] if e.get("value")
    )
