"""What an edit will delete, said before it is saved. Pure: the store's and the directory's answers in, words out.

An edit that drops targets makes the next run remove every contact the sync put in the accounts that leave,
and one that changes the source (another user, or another group) replaces every copy it made: the old
source's contacts go from every account, the new source's come in their place. Both are the admin's
decision (the mass-deletion guard lets them through), so they are shown first, counted from the job's
links, and saved only once confirmed (`JobService.edit`'s `confirm`; the CLI asks, Slack shows a confirm
step). An edit that deletes nothing is saved as it always was, without a question.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class AccountLoss:
    """One account that loses the sync's contacts: `contacts` is how many the job has linked there."""

    user_id: str
    email: str
    contacts: int


@dataclass(frozen=True)
class Consent:
    """What an admin was shown and confirmed: the accounts that leave, and whether the source changes. A
    save checks the edit's fresh preview against it (`EditPreview.within`), so an account that left the
    target set since the admin looked is asked about again instead of being removed unseen."""

    accounts: frozenset[str] = frozenset()
    source: bool = False

    def to_json(self) -> dict[str, object]:
        return {"accounts": sorted(self.accounts), "source": self.source}

    @classmethod
    def from_json(cls, data: Mapping[str, object] | None) -> Consent | None:
        if not data:
            return None
        accounts = data.get("accounts")
        return cls(frozenset(str(a) for a in accounts) if isinstance(accounts, list) else frozenset(),
                   bool(data.get("source")))


@dataclass(frozen=True)
class EditPreview:
    job_name: str
    leaving: tuple[AccountLoss, ...] = ()  # no longer targeted: every contact of the sync there is deleted
    replaced: tuple[AccountLoss, ...] = ()  # still targeted, but the source changes: every copy is replaced
    source_change: str | None = None  # "alice@example.com's “Partners” to carol@example.com's “Clients”"

    @property
    def contacts_removed(self) -> int:
        return sum(a.contacts for a in (*self.leaving, *self.replaced))

    @property
    def accounts_touched(self) -> int:
        return sum(1 for a in (*self.leaving, *self.replaced) if a.contacts)

    @property
    def removes_anything(self) -> bool:
        """Whether saving deletes contacts somewhere: only then is the admin asked."""
        return self.contacts_removed > 0

    def consent(self) -> Consent:
        return Consent(frozenset(a.user_id for a in self.leaving), self.source_change is not None)

    def within(self, consent: Consent | None) -> bool:
        """Whether everything this edit removes was shown when `consent` was given (counts may have moved;
        an account or a source change that was not shown may not)."""
        if not self.removes_anything:
            return True
        if consent is None:
            return False
        leaving = {a.user_id for a in self.leaving if a.contacts}
        return leaving <= consent.accounts and (consent.source or not any(a.contacts for a in self.replaced))

    def beyond(self, consent: Consent | None) -> list[str]:
        """What this edit deletes that `consent` did not show, one item each (none: it is `within` it)."""
        shown = consent.accounts if consent is not None else frozenset()
        items: list[str] = []
        if self.source_change is not None and not (consent is not None and consent.source) \
                and any(a.contacts for a in self.replaced):
            items.append(f"the source changes from {self.source_change}")
        items += [f"{a.email} leaves the sync ({_count(a.contacts, 'contact')})"
                  for a in self.leaving if a.contacts and a.user_id not in shown]
        return items

    def amount(self) -> str:
        """"1,800 contacts in 6 accounts"."""
        return f"{_count(self.contacts_removed, 'contact')} in {_count(self.accounts_touched, 'account')}"

    def headline(self) -> str:
        return f"Saving this edit of {self.job_name!r} deletes {self.amount()} (what this sync put there)."

    def lines(self) -> list[str]:
        """The effect, one line per account (those that leave first), after what happens to the source."""
        lines: list[str] = []
        if self.source_change is not None:
            lines.append(f"The source changes from {self.source_change}: every copy of the old source's contacts "
                         "is deleted, and the new source's contacts are created in its place.")
        for a in self.leaving:
            what = f"its {_count(a.contacts, 'contact')} from this sync are deleted" if a.contacts else \
                "it holds no contacts of this sync"
            lines.append(f"{a.email} leaves the sync: {what}")
        for a in self.replaced:
            if a.contacts:
                lines.append(f"{a.email}: {_count(a.contacts, 'contact')} replaced by the new source's")
        return lines


def _count(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def edit_preview(
    job_name: str,
    *,
    accounts: Mapping[str, str],
    contacts: Mapping[str, int],
    staying: Collection[str] | None,
    cleaned_up: Collection[str] | None = None,
    source_change: str | None = None,
) -> EditPreview:
    """The preview of an edit.

    `accounts`: {user id: address} of every account the job holds contacts in (its target states);
    `contacts`: {user id: contacts linked there}; `staying`: the user ids the edited targets still select
    (None: the targets do not change); `cleaned_up`: of the leaving accounts, those a run can still clean
    (None: all; a deleted or suspended account is forgotten, and nothing is deleted there);
    `source_change`: the old and the new source in words, when the source user or group changes."""
    keep = set(accounts) if staying is None else set(staying)
    leaving = tuple(
        AccountLoss(user_id, email, contacts.get(user_id, 0))
        for user_id, email in sorted(accounts.items(), key=lambda kv: kv[1])
        if user_id not in keep and (cleaned_up is None or user_id in cleaned_up)
    )
    replaced: tuple[AccountLoss, ...] = ()
    if source_change is not None:
        replaced = tuple(
            AccountLoss(user_id, email, contacts.get(user_id, 0))
            for user_id, email in sorted(accounts.items(), key=lambda kv: kv[1])
            if user_id in keep
        )
    return EditPreview(job_name, leaving, replaced, source_change)
