"""Create/edit modal drafts, kept server-side between the modal's steps.

A draft can hold hundreds of targets, more than a view's 3,000-character `private_metadata`, so the view
carries only the draft's id and version. Drafts live in the database (the service's `DraftBook`, which keeps
them as `StoredDraft`s of opaque JSON), so a modal opened through one `serve` replica can be finished through
another, and they expire a day after their last change.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

from sync_core import service
from sync_core.domain.fields import DEFAULT_FIELDS
from sync_core.domain.schedule import DEFAULT_SCHEDULE

Kind = Literal["personal", "directory"]


@dataclass
class Draft:
    id: str
    user_id: str
    mode: Literal["create", "edit", "request"] = "create"  # request: a member's own sync, for an admin to approve
    original_name: str | None = None  # the job being edited
    channel_id: str | None = None  # where the command came from
    kind: Kind = "personal"
    name: str = ""
    source_email: str | None = None
    source_label: str | None = None
    groups: list[str] | None = None  # the source's contact groups; None = not loaded yet
    groups_error: str | None = None  # why they could not be loaded
    group_name: str | None = None
    target_group_name: str = ""
    add_to_my_contacts: bool = False
    description: str = ""
    alert_channel: str | None = None
    schedule: str = DEFAULT_SCHEDULE
    domains: list[str] = field(default_factory=list)
    include_ous: list[str] = field(default_factory=list)
    exclude_ous: list[str] = field(default_factory=list)
    include_self: bool = False
    include_aliases: bool = False
    directory_fields: str = ""  # the field mapping as typed: 'SOURCE=TARGET,...'
    include_shared_contacts: bool = False
    allow_opt_out: bool = False  # the job's opt_out: may a target leave it from Slack?
    joinable: bool = False  # may anyone join it from Slack?
    # Field rules (README "Field rules"): the fields copied, those the targets keep, adoption by email.
    copy_fields: list[str] = field(default_factory=lambda: list(DEFAULT_FIELDS))
    keep_fields: list[str] = field(default_factory=list)
    match_existing: bool = False
    targets: list[str] = field(default_factory=list)  # selector texts, e.g. "group:sales@example.com"
    editors: list[str] = field(default_factory=list)  # Personal Sync: who may edit the label (selector texts)
    editors_can_delete: bool = False
    editors_saved: list[str] | None = None  # an edit: the editors as saved (left as they are: not sent again)
    target_page: int = 0
    error: str | None = None  # a refusal that arrived after the form was answered (shown at the top)
    # An edit that deletes contacts: what its confirm step showed (`Consent.to_json`); pressing Save there
    # confirms exactly that much, and a save that would delete more shows the step again.
    removal_shown: dict[str, Any] | None = None
    rev: int = 0  # bumped to make Slack re-apply initial values (block ids carry it)
    version: int = 0  # the stored draft's version this was read at (the view's metadata carries it too)

    def opt_out(self) -> service.OptOut:
        """The job's opt_out as the service names it."""
        return service.OptOut.allowed if self.allow_opt_out else service.OptOut.never

    def field_rules(self) -> dict[str, Any]:
        """The field rules under the service's names (adoption off is said, so an edit turns it off)."""
        return {"fields": list(self.copy_fields), "keep_target_fields": list(self.keep_fields),
                "match_existing": "email" if self.match_existing else "none"}

    def add_targets(self, texts: list[str]) -> int:
        added = 0
        for text in texts:
            if text not in self.targets:
                self.targets.append(text)
                added += 1
        return added


class DraftBook:
    """The service's `DraftBook`, holding the bot's `Draft`s (as JSON): any replica can carry on a modal another
    one opened. `save` is refused (False) when the draft moved on since it was read."""

    def __init__(self, book: service.DraftBook) -> None:
        self.book = book

    def new(self, user_id: str, **values: object) -> Draft:
        draft = Draft(id="", user_id=user_id, **values)  # type: ignore[arg-type]
        stored = self.book.new(user_id, encode(draft))
        draft.id, draft.version = stored.id, stored.version
        return draft

    def get(self, draft_id: str) -> Draft | None:
        stored = self.book.get(draft_id)
        return None if stored is None else decode(stored.id, stored.owner, stored.version, stored.payload)

    def save(self, draft: Draft) -> bool:
        """Write the draft if nobody saved it since it was read (its `version`); then it has the new one."""
        version = self.book.save(draft.id, version=draft.version, payload=encode(draft))
        if version is None:
            return False
        draft.version = version
        return True

    def drop(self, draft_id: str) -> None:
        self.book.drop(draft_id)


_NOT_IN_PAYLOAD = ("id", "user_id", "version")  # the row's own columns


def encode(draft: Draft) -> str:
    values = asdict(draft)
    for name in _NOT_IN_PAYLOAD:
        values.pop(name)
    return json.dumps(values, separators=(",", ":"))


def decode(draft_id: str, user_id: str, version: int, payload: str) -> Draft | None:
    """The draft a payload holds; None if it cannot be read (written by another release, say): the modal
    then says it has expired, which is the truth as far as this process can tell."""
    try:
        values = json.loads(payload)
        known = {f.name for f in fields(Draft)} - set(_NOT_IN_PAYLOAD)
        return Draft(id=draft_id, user_id=user_id, version=version,
                     **{k: v for k, v in values.items() if k in known})
    except (ValueError, TypeError, AttributeError):
        return None
