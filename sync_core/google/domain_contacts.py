"""The domain's shared contacts (external contacts an admin publishes to the directory), read with the People
API's `people.listDirectoryPeople` (source DIRECTORY_SOURCE_TYPE_DOMAIN_CONTACT) as the Workspace admin.

Google: https://developers.google.com/people/api/rest/v1/people/listDirectoryPeople lists "domain profiles and
domain contacts in the authenticated user's domain directory" and needs the scope
https://www.googleapis.com/auth/directory.readonly. Any user of the domain sees the same shared contacts; we act
as the admin ContactSync already impersonates for the Directory (`CONTACTSYNC_ADMIN_EMAIL`), whose People quota
the call is paced by (one critical read per page). With a sync token a read answers only what changed since,
deleted contacts as `metadata.deleted`; an expired token raises SyncTokenExpired (the caller reads in full).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sync_core.domain.fields import METADATA, SYNCED_FIELDS
from sync_core.google.calls import Executor

JSON = dict[str, Any]

DOMAIN_CONTACT = "DIRECTORY_SOURCE_TYPE_DOMAIN_CONTACT"
PAGE_SIZE = 1000  # Google's most per page
# The synced body fields and metadata (deletions); a sync token is bound to the read mask of the read that
# made it, so every read asks for exactly these.
READ_MASK = ",".join((*SYNCED_FIELDS, METADATA))


@dataclass
class DirectoryPeopleRead:
    people: list[JSON] = field(default_factory=list)  # deleted ones carry metadata.deleted (incremental reads)
    next_sync_token: str | None = None
    incremental: bool = False


class DomainContactsClient:
    """`people`: a discovery-built People service's `people()` resource, acting as the admin."""

    def __init__(self, people: Any, executor: Executor) -> None:
        self._people = people
        self._ex = executor

    def read(self, *, sync_token: str | None = None) -> DirectoryPeopleRead:
        """Every shared contact (or, with a sync token, the changes since it), page by page. Raises
        SyncTokenExpired."""
        result = DirectoryPeopleRead(incremental=sync_token is not None)
        page_token: str | None = None
        while True:
            params: JSON = {
                "readMask": READ_MASK,
                "sources": [DOMAIN_CONTACT],
                "pageSize": PAGE_SIZE,
                "requestSyncToken": True,
            }
            if sync_token:
                params["syncToken"] = sync_token
            if page_token:
                params["pageToken"] = page_token
            page = self._ex.execute(self._people.listDirectoryPeople(**params), "people.listDirectoryPeople")
            result.people.extend(page.get("people", []))
            page_token = page.get("nextPageToken")
            if not page_token:
                result.next_sync_token = page.get("nextSyncToken")
                return result
