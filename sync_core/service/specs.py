"""What a caller hands the service to create or change a job: plain input shapes, checked by the service."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from sync_core.domain.models import OptOut
from sync_core.domain.schedule import DEFAULT_SCHEDULE


@dataclass
class PersonalJobSpec:
    name: str
    source_email: str
    group_name: str
    targets: Sequence[str]
    target_group_name: str | None = None
    add_to_my_contacts: bool = False
    description: str = ""
    schedule: str = DEFAULT_SCHEDULE
    alert_channel: str | None = None
    created_by: str = "cli"
    extra: dict[str, str] = field(default_factory=dict)
    allow_empty: bool = False  # saved even if its targets reach no one now (refused otherwise)
    opt_out: OptOut = OptOut.never  # may a target leave it (Slack's Leave)?
    joinable: bool = False  # may anyone in the Workspace join it (Slack's Join)?
    # Field rules (see sync_core.domain.field_rules); None: the default set, nothing kept, no adoption.
    fields: str | Sequence[str] | None = None
    keep_target_fields: str | Sequence[str] | None = None
    match_existing: str | None = None
    editors: Sequence[str] = ()  # who may edit the label, as target selectors (`email:ann@...`, `group:...`)
    editors_can_delete: bool = False  # an editor's deletion deletes the contact everywhere (else put back)


@dataclass
class DirectoryJobSpec:
    name: str
    domains: Sequence[str]
    targets: Sequence[str]
    include_ous: Sequence[str] = ()
    exclude_ous: Sequence[str] = ()
    target_group_name: str = "Directory"
    include_aliases: bool = False
    include_self: bool = False
    add_to_my_contacts: bool = False
    description: str = ""
    schedule: str = DEFAULT_SCHEDULE
    alert_channel: str | None = None
    created_by: str = "cli"
    allow_empty: bool = False  # saved even if its targets reach no one now (refused otherwise)
    opt_out: OptOut = OptOut.never
    joinable: bool = False
    directory_fields: Sequence[str] = ()  # 'SOURCE=TARGET,...' texts (sync_core.domain.directory_fields)
    include_shared_contacts: bool = False  # the domain's shared contacts join the users
    fields: str | Sequence[str] | None = None
    keep_target_fields: str | Sequence[str] | None = None
    match_existing: str | None = None
    editors: Sequence[str] = ()  # refused: the directory is edited in the Admin console


@dataclass
class JobEdit:
    """What an admin may change on an existing job; None leaves a field as it is."""

    name: str | None = None
    target_group_name: str | None = None
    add_to_my_contacts: bool | None = None
    description: str | None = None
    schedule: str | None = None
    alert_channel: str | None = None
    targets: Sequence[str] | None = None
    source_email: str | None = None  # a new source user (e.g. after a rename): same contacts, no re-creation
    group_name: str | None = None
    domains: Sequence[str] | None = None  # Directory Sync only, as are the four below
    include_ous: Sequence[str] | None = None
    exclude_ous: Sequence[str] | None = None
    include_self: bool | None = None
    include_aliases: bool | None = None
    directory_fields: Sequence[str] | None = None  # replaces the mapping ([""]: none)
    include_shared_contacts: bool | None = None
    opt_out: OptOut | None = None
    joinable: bool | None = None
    # Field rules; None leaves each as it is. `match_existing` "none" turns adoption off.
    fields: str | Sequence[str] | None = None
    keep_target_fields: str | Sequence[str] | None = None
    match_existing: str | None = None
    editors: Sequence[str] | None = None  # replaces the editors ([]: none, a read-only label); personal only
    editors_can_delete: bool | None = None


class ContactsChoice(StrEnum):
    """What a delete does with the contacts the job wrote."""

    remove = "remove"  # deleted at every account (and the label, once empty)
    keep = "keep"  # released: our tags go; the contacts and the label stay, as the users' own
