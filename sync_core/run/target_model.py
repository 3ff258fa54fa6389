"""What one account's sync takes (the job as the account sees it, what we knew of the account) and what it gives
back (its outcome, and the links of the contacts it wrote). Shared by the account's orchestrator (`target_sync`),
its batch writer and its plan check, and by the run that stores what they return (`run_records`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sync_core.domain.field_rules import DEFAULT_RULES, FieldRules
from sync_core.domain.reports import ContactCounts, LabelFate
from sync_core.domain.status import TargetStatus
from sync_core.google.errors import BadRequest, NotFound, PreconditionFailed, SyncTokenExpired
from sync_core.sync.deletion_guard import GuardPolicy
from sync_core.sync.plan import EchoDigest, LinkState, Plan

# What an incremental sync answers when what we remembered is out of date (a stale etag, a deleted group).
STALE_MEMORY = (PreconditionFailed, SyncTokenExpired, NotFound, BadRequest)

@dataclass
class TargetJob:
    """What one target's sync needs to know of the job."""

    job_uid: str
    group_name: str
    add_to_my_contacts: bool
    max_contacts: int
    # The mass-deletion guard (see deletion_guard); None: this run's deletions go through (an admin applied
    # them, or the run was told to allow them).
    deletion_guard: GuardPolicy | None = None
    rules: FieldRules = DEFAULT_RULES  # which fields it copies, which the targets keep, adoption


class TargetMemory:
    """What we knew of this target before the run. Its links (one per synced contact) are read from the
    store only when the sync needs them: a target already in sync never does."""

    def __init__(
        self,
        group_resource_name: str | None = None,
        sync_token: str | None = None,
        full_read_due: bool = True,
        links: dict[str, LinkState] | None = None,
        *,
        load_links: Callable[[], dict[str, LinkState]] | None = None,
        source_version: str | None = None,
        echo_digest: str | None = None,
        linked: Callable[[list[str]], set[str]] | None = None,
        others_wrote_since: bool = False,
    ) -> None:
        self.group_resource_name = group_resource_name
        self.sync_token = sync_token
        self.full_read_due = full_read_due
        self.source_version = source_version
        self.echo_digest = echo_digest
        # Another job wrote to this account after this job last finished there: the changes since our sync
        # token hold its writes beside ours, so they are not ours alone.
        self.others_wrote_since = others_wrote_since
        self._links = links
        self._load_links = load_links
        self._linked = linked

    def linked(self, resource_names: list[str]) -> set[str]:
        """Which of these contacts we have links to, without loading every link when we need not."""
        if self._links is None and self._linked is not None:
            return self._linked(resource_names)
        names = set(resource_names)
        return {link.target_resource_name for link in self.links.values()} & names

    def forget_links(self) -> None:
        """Let the links go once a plan is made from them (a target holds them no longer while it writes and
        waits for its quota window); asked for again, they are read again from the store. Links given, not
        read from the store, are kept: nothing could read them again."""
        if self._load_links is not None:
            self._links = None

    @property
    def links(self) -> dict[str, LinkState]:
        if self._links is None:
            self._links = self._load_links() if self._load_links is not None else {}
        return self._links


@dataclass(slots=True)  # a run holds many of them, waiting for its next commit (see run_records.TargetBatch)
class LinkWrite:
    source_key: str
    target_resource_name: str
    content_hash: str
    target_etag: str
    photo: str | None = None
    adopted: bool = False  # the target's own contact, adopted: released, never deleted


PhotoLoader = Callable[[str, str], bytes | None]  # (source key, photo fingerprint) -> image bytes
LinkSink = Callable[[list[LinkWrite]], None]  # takes the links of each batch written (see BatchWriter)


@dataclass
class TargetOutcome(ContactCounts):
    status: TargetStatus = TargetStatus.ok
    reason: str = ""
    plan: Plan | None = None
    group_resource_name: str | None = None
    sync_token: str | None = None
    full_read: bool = False
    in_sync: bool = False  # found in sync from its read alone: no plan made, nothing written
    source_version: str | None = None  # set when the target ended in sync with this source version
    link_writes: list[LinkWrite] = field(default_factory=list)  # those not handed to `on_links`: stored with the state
    dropped_links: list[str] = field(default_factory=list)
    group_removed: bool = False
    label: LabelFate = LabelFate.absent  # what a remove or release did with the job's label
    echo: EchoDigest = field(default_factory=EchoDigest)  # what this run wrote to Google, as it will echo

    @property
    def wrote(self) -> bool:
        return self.echo.count > 0

    @property
    def echo_digest(self) -> str | None:
        """What this run wrote, as the next incremental read will report it back."""
        return self.echo.hexdigest()
