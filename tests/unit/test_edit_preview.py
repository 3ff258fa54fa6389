"""What an edit deletes, said before it is saved (`sync_core.service.edit_preview`): pure, so its rules are
properties over any accounts, links and target sets."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from sync_core.service.edit_preview import Consent, EditPreview, edit_preview

ids = st.sampled_from([f"u{i}" for i in range(8)])
accounts_st = st.frozensets(ids).map(lambda users: {u: f"{u}@example.com" for u in users})
counts_st = st.dictionaries(ids, st.integers(min_value=0, max_value=5000), max_size=8)
staying_st = st.none() | st.frozensets(ids)
source_st = st.none() | st.just("a@x.com's “Partners” to b@x.com's “Golf”")


@given(accounts_st, counts_st, staying_st, source_st)
def test_it_deletes_exactly_what_leaves_plus_every_copy_when_the_source_changes(
    accounts: dict[str, str], contacts: dict[str, int], staying: frozenset[str] | None, source: str | None
) -> None:
    p = edit_preview("Partners", accounts=accounts, contacts=contacts, staying=staying, source_change=source)
    kept = set(accounts) if staying is None else set(staying)
    leaving = {u for u in accounts if u not in kept}
    assert {a.user_id for a in p.leaving} == leaving
    assert {a.user_id for a in p.replaced} == (set(accounts) & kept if source else set())
    expected = sum(contacts.get(u, 0) for u in leaving) + (sum(contacts.get(u, 0) for u in accounts if u in kept)
                                                           if source else 0)
    assert p.contacts_removed == expected
    assert p.removes_anything is (expected > 0)
    assert p.within(p.consent()), "what was shown is what is confirmed"


@given(accounts_st, counts_st)
def test_an_edit_that_keeps_every_account_and_the_source_deletes_nothing(
    accounts: dict[str, str], contacts: dict[str, int]
) -> None:
    for staying in (None, set(accounts) | {"someone-new"}):
        p = edit_preview("Partners", accounts=accounts, contacts=contacts, staying=staying)
        assert not p.removes_anything and p.leaving == () and p.replaced == ()
        assert p.within(None), "nothing to confirm"


@given(accounts_st, counts_st, st.frozensets(ids))
def test_an_account_not_shown_when_consent_was_given_is_asked_about_again(
    accounts: dict[str, str], contacts: dict[str, int], shown: frozenset[str]
) -> None:
    p = edit_preview("Partners", accounts=accounts, contacts=contacts, staying=frozenset())
    unseen = {a.user_id for a in p.leaving if a.contacts} - shown
    assert p.within(Consent(shown)) is (not unseen)


@given(accounts_st, counts_st, staying_st, source_st, st.none() | st.frozensets(ids), st.booleans())
def test_what_goes_beyond_a_consent_is_named_and_is_nothing_exactly_when_within_it(
    accounts: dict[str, str], contacts: dict[str, int], staying: frozenset[str] | None, source: str | None,
    shown: frozenset[str] | None, source_shown: bool
) -> None:
    p = edit_preview("Partners", accounts=accounts, contacts=contacts, staying=staying, source_change=source)
    consent = None if shown is None else Consent(shown, source_shown)
    beyond = p.beyond(consent)
    assert (beyond == []) is p.within(consent)
    unseen = {a.email for a in p.leaving if a.contacts and (consent is None or a.user_id not in consent.accounts)}
    assert {item.split(" ")[0] for item in beyond if " leaves the sync " in item} == unseen
    assert p.beyond(p.consent()) == []


def test_a_source_change_needs_its_own_consent() -> None:
    p = edit_preview("Partners", accounts={"u1": "bob@x.com"}, contacts={"u1": 3}, staying=None,
                     source_change="a's “P” to b's “G”")
    assert not p.within(Consent(frozenset({"u1"}), source=False))
    assert p.within(Consent(frozenset(), source=True))
    assert Consent.from_json(p.consent().to_json()) == p.consent()
    assert Consent.from_json(None) is None


def test_a_leaver_that_cannot_be_cleaned_up_loses_nothing() -> None:
    p = edit_preview("Partners", accounts={"u1": "bob@x.com", "u2": "gone@x.com"}, contacts={"u1": 4, "u2": 9},
                     staying=set(), cleaned_up={"u1"})
    assert [(a.email, a.contacts) for a in p.leaving] == [("bob@x.com", 4)]


def test_the_words_name_each_account_and_the_total() -> None:
    p = edit_preview("Partners", accounts={"u1": "zoe@x.com", "u2": "bob@x.com", "u3": "amy@x.com"},
                     contacts={"u1": 1200, "u2": 600}, staying={"u3"})
    assert p.headline() == ("Saving this edit of 'Partners' deletes 1,800 contacts in 2 accounts (what this sync "
                            "put there).")
    assert p.lines() == ["bob@x.com leaves the sync: its 600 contacts from this sync are deleted",
                         "zoe@x.com leaves the sync: its 1,200 contacts from this sync are deleted"]
    assert EditPreview("Partners").lines() == []
