"""`PeopleAccount`: what a sync needs of one user's People API, and nothing more. `PeopleClient` is the real
one (over Google, or the emulator); the stateful test's in-memory account (tests/unit/
test_target_sync_stateful.py) is another, declared as one, so the two cannot drift apart unnoticed: mypy
checks the real client wherever `TargetSync` is given one, and a fake missing a method cannot be made.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from orjson import Fragment

from sync_core.google.json_model import MadeJson
from sync_core.google.people import PERSON_FIELDS, TARGET_READ_FIELDS, ConnectionsRead, ListedPair

JSON = dict[str, Any]


class PeopleAccount(Protocol):
    # --- reads
    @abstractmethod
    def read_connections(
        self,
        *,
        sync_token: str | None = None,
        person_fields: str = TARGET_READ_FIELDS,
        keep: Callable[[JSON], Any] | None = None,
        keep_page: Callable[[list[JSON]], None] | None = None,
        echoes_only: bool = False,
        keep_pairs: Callable[[list[ListedPair]], None] | None = None,
    ) -> ConnectionsRead:
        """All contacts (or, with a sync token, the changes since it), each through `keep` (or each page's
        through `keep_page`, and none held in the answer). Raises SyncTokenExpired. `echoes_only`: each
        contact's resourceName, etag, clientData and deletion may be all it carries (enough to tell our own
        last writes from anything else); `keep_pairs`, instead of `keep`: each page's contacts as their
        resourceName, etag and deletion alone (enough to tell whether the changes are exactly our last
        writes)."""

    @abstractmethod
    def account_size(self) -> int:
        """How many contacts the account holds."""

    @abstractmethod
    def get_people(self, resource_names: Sequence[str], *, person_fields: str = PERSON_FIELDS) -> list[JSON]:
        """The contacts named (those that still exist), with `person_fields`."""

    # --- contact groups
    @abstractmethod
    def list_groups(self) -> list[JSON]: ...

    @abstractmethod
    def get_group(self, resource_name: str) -> JSON:
        """The group (Google leaves `memberCount` out when it is 0). Raises NotFound."""

    @abstractmethod
    def create_group(self, name: str, client_data: list[JSON]) -> JSON: ...

    @abstractmethod
    def rename_group(self, group: JSON, name: str) -> JSON: ...

    @abstractmethod
    def delete_group(self, resource_name: str) -> None:
        """Delete the group; its members stay, out of it."""

    # --- contact writes
    def quota_wait(self, method: str, *, contacts: int = 0, at_least: float = 0.0) -> float:
        """Seconds until the user's quota has room for a call of `method` (0: now, or within `at_least`; an
        account that is not paced never waits). Counted as waited, against the target's budget: the caller
        parks that long."""
        return 0.0

    @abstractmethod
    def batch_create(self, people: Sequence[JSON | Fragment | MadeJson]) -> list[JSON]: ...

    @abstractmethod
    def batch_update(
        self, people: dict[str, JSON], *, with_memberships: bool, fields: Sequence[str] | None = None
    ) -> dict[str, JSON]:
        """Update by resourceName; the whole batch is refused on one stale etag (PreconditionFailed). `fields`:
        the mask less memberships (None: every synced field and the tag)."""

    @abstractmethod
    def update_photo(self, resource_name: str, data: bytes) -> JSON: ...

    @abstractmethod
    def delete_photo(self, resource_name: str) -> JSON: ...

    @abstractmethod
    def batch_delete(self, resource_names: Sequence[str]) -> None: ...

    @abstractmethod
    def batch_set_client_data(self, people: dict[str, JSON]) -> None:
        """Replace only each contact's clientData (resourceName -> {"etag", "clientData"}): releasing contacts."""

    @abstractmethod
    def batch_release(self, people: dict[str, JSON]) -> None:
        """Replace only each contact's clientData and memberships (resourceName -> {"etag", "clientData",
        "memberships"}): letting adopted contacts go."""

    @abstractmethod
    def set_group_client_data(self, group: JSON, client_data: list[JSON]) -> JSON:
        """Replace only the label's clientData (its name stays as the user has it)."""
