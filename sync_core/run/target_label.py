"""The job's label in one account: found (one label, one owner: never shared with another job), made when it is
missing, put back under the job's name when the account renamed it, and, when the job leaves the account,
removed (if empty) or released (our tag taken off).

For ONE user on one thread, like the rest of that account's sync (see `target_sync`).
"""

from __future__ import annotations

from typing import Any

from sync_core.domain.contacts import tag_key, written_by_a_sync
from sync_core.domain.reports import LabelFate
from sync_core.google.errors import Conflict, GoogleError
from sync_core.google.people_account import PeopleAccount

JSON = dict[str, Any]


def is_ours(group: JSON, job_uid: str) -> bool:
    return any(d.get("key") == tag_key(job_uid) for d in group.get("clientData", []) or [])


def is_another_jobs(group: JSON, job_uid: str) -> bool:
    return written_by_a_sync(group) and not is_ours(group, job_uid)


class LabelTaken(Exception):
    """The account holds a label of the job's name that is not this job's (another job made it, or the target
    made its own after renaming ours): one label, one owner."""


class TargetLabel:
    def __init__(self, people: PeopleAccount, job_uid: str, name: str, *, dry_run: bool = False) -> None:
        """`name`: the label's name for the job. A dry run finds the label but never makes or renames it."""
        self.people = people
        self.job_uid = job_uid
        self.name = name
        self.dry_run = dry_run

    def find(self, *, claim: bool = False) -> JSON | None:
        """The job's label here. `claim`: it is about to be written, so a label of its name (in any case)
        that another job made raises LabelTaken instead of being shared."""
        groups = [g for g in self.people.list_groups() if g.get("groupType") == "USER_CONTACT_GROUP"]
        ours = [g for g in groups if is_ours(g, self.job_uid)]
        if ours:
            return ours[0]
        if claim:
            name = self.name.casefold()
            for g in groups:
                if str(g.get("name", "")).casefold() == name and is_another_jobs(g, self.job_uid):
                    raise LabelTaken(f"the label {g.get('name')!r} in this account belongs to another sync; "
                                     "nothing was written here")
        # A label of that name that we didn't tag: use it, never rename or delete it. Google compares label
        # names without case (a user has one "Partners" or one "partners"), so we do too.
        name = self.name.casefold()
        return next((g for g in groups if str(g.get("name", "")).casefold() == name), None)

    def ensure(self) -> str | None:
        """The label to write into, made if missing (None: a dry run, which would make it) and under the job's
        name again if the target renamed it."""
        group = self.find(claim=True)
        if group is None:
            if self.dry_run:
                return None
            tag = [{"key": tag_key(self.job_uid), "value": "group"}]
            return str(self.people.create_group(self.name, tag)["resourceName"])
        if self._misnamed(group) and not self.dry_run:
            self._named_back(group)  # put back a target's rename
        return str(group["resourceName"])

    def kept(self, group_rn: str) -> int:
        """The job's label as the target left it, under the job's name again if they renamed it: how many
        contacts it holds. Raises NotFound when they deleted it."""
        group = self.people.get_group(group_rn)
        if self._misnamed(group) and not self.dry_run:
            group = self._named_back(group)
        return int(group.get("memberCount", 0) or 0)  # Google leaves memberCount out when it is 0

    def remove(self) -> LabelFate:
        """Once our contacts are gone: the label deleted if it is ours and nothing else is left in it."""
        group = self.find()
        if group is None:
            return LabelFate.absent
        if not is_ours(group, self.job_uid):
            return LabelFate.theirs
        try:
            fresh = self.people.get_group(group["resourceName"])
            if int(fresh.get("memberCount", 0)) == 0:
                self.people.delete_group(group["resourceName"])
                return LabelFate.removed
        except GoogleError:
            pass  # the contacts are gone; an empty label left behind is harmless
        return LabelFate.in_use

    def release(self) -> LabelFate:
        """Our tag taken off the label (if it is ours): it stays as the user's own."""
        group = self.find()
        if group is None:
            return LabelFate.absent
        if not is_ours(group, self.job_uid):
            return LabelFate.theirs
        key = tag_key(self.job_uid)
        self.people.set_group_client_data(group, [d for d in group.get("clientData", []) or [] if d.get("key") != key])
        return LabelFate.released

    def _misnamed(self, group: JSON) -> bool:
        """The label is not under the job's name: the target renamed it. A label of the target's own that the
        job writes to (found without case) keeps the case they gave it."""
        name = str(group.get("name", ""))
        if name == self.name:
            return False
        return is_ours(group, self.job_uid) or name.casefold() != self.name.casefold()

    def _named_back(self, group: JSON) -> JSON:
        """Our label under the job's name again, after the target renamed it. If they have since made a label
        of their own under that name, Google refuses (409): one label, one owner, so this target is a
        conflict, reported for an admin to settle (rename the sync's label, or remove the target)."""
        try:
            return self.people.rename_group(group, self.name)
        except Conflict:
            raise LabelTaken(
                f"this account renamed the sync's label to {group.get('name')!r} and has a label of its own "
                f"named {self.name!r}; nothing was written here"
            ) from None
