"""`TargetSync.release`, a deleted job leaving its contacts to the user: only our tag goes (another app's data
and another job's tag stay), the label's tag too, and a contact the user edits while its batch is on the way
(a stale etag fails the batch) is released once the account is read again. And the words a delete says."""

from __future__ import annotations

from typing import Any

from sync_core.domain.reports import AccountCleanup, LabelFate
from sync_core.domain.status import TargetStatus
from sync_core.google.errors import PreconditionFailed
from sync_core.google.people import ConnectionsRead
from sync_core.run.target_sync import TargetJob, TargetMemory, TargetSync

JSON = dict[str, Any]
OURS, OTHER_JOB, OTHER_APP = "contactsync:ours", "contactsync:other", "crm:id"


class Account:
    """Just enough of one user's People account for a release."""

    def __init__(self) -> None:
        self.people: dict[str, JSON] = {}
        for i in range(5):
            self.people[f"people/c{i}"] = {"resourceName": f"people/c{i}", "etag": f"e{i}",
                                           "clientData": [{"key": OURS, "value": f"src{i}"},
                                                          {"key": OTHER_APP, "value": "42"}]}
        self.people["people/o"] = {"resourceName": "people/o", "etag": "eo",
                                   "clientData": [{"key": OTHER_JOB, "value": "src"}]}
        self.people["people/mine"] = {"resourceName": "people/mine", "etag": "em"}
        self.label = {"resourceName": "contactGroups/l", "etag": "g1", "name": "Partners",
                      "groupType": "USER_CONTACT_GROUP", "clientData": [{"key": OURS, "value": "group"}]}
        self.edit_during_first_batch = True
        self.batches = 0

    def read_connections(self, *, keep: Any) -> ConnectionsRead:
        return ConnectionsRead(people=[k for p in self.people.values() if (k := keep(dict(p))) is not None])

    def batch_set_client_data(self, people: dict[str, JSON]) -> None:
        self.batches += 1
        if self.edit_during_first_batch:  # the user edits a contact of ours meanwhile: its etag moves on
            self.edit_during_first_batch = False
            self.people["people/c3"]["etag"] = "e3-edited"
        if any(self.people[rn]["etag"] != body["etag"] for rn, body in people.items()):
            raise PreconditionFailed("400 FAILED_PRECONDITION stale etag")
        for rn, body in people.items():
            self.people[rn] = {**self.people[rn], "clientData": body["clientData"], "etag": body["etag"] + "+"}

    def list_groups(self) -> list[JSON]:
        return [dict(self.label)]

    def set_group_client_data(self, group: JSON, client_data: list[JSON]) -> JSON:
        assert group["etag"] == self.label["etag"]
        self.label = {**self.label, "clientData": client_data}
        return dict(self.label)


def test_release_takes_off_only_our_tags_and_reads_again_after_a_stale_etag() -> None:
    account = Account()
    job = TargetJob(job_uid="ours", group_name="Partners", add_to_my_contacts=False, max_contacts=25000)

    out = TargetSync(account, job).release(TargetMemory(links={}))  # type: ignore[arg-type]

    assert (out.status, out.updated, out.label) == (TargetStatus.removed, 5, LabelFate.released)
    assert account.batches == 2, "the stale batch, then the rest after a new read"
    for i in range(5):
        assert account.people[f"people/c{i}"]["clientData"] == [{"key": OTHER_APP, "value": "42"}]
    assert account.people["people/o"]["clientData"] == [{"key": OTHER_JOB, "value": "src"}], "not ours to release"
    assert account.label["clientData"] == [] and account.label["name"] == "Partners"


def test_a_delete_says_per_account_what_it_did() -> None:
    def words(**kw: Any) -> str:
        return AccountCleanup("bob@example.com", kw.pop("status", TargetStatus.removed), **kw).summary()

    assert words(kept=False, contacts=300, label=LabelFate.removed) == "removed 300 contacts and the label"
    assert words(kept=False, contacts=1, label=LabelFate.absent) == "removed 1 contact"
    assert words(kept=True, contacts=2, label=LabelFate.theirs) == (
        "released 2 contacts (in their own label): they are the user's own now")
    assert words(kept=True, gone=True) == "the account no longer exists; nothing to clean"
    assert words(kept=False, status=TargetStatus.suspended, reason="403") == "could not be cleaned: suspended (403)"
