"""Adopting a target's own contacts (--match-existing email): one to one, or not at all."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from sync_core.sync.adoption import match_by_email

EMAILS = st.sampled_from(["a@x.test", "b@x.test", "c@x.test", "d@x.test", "e@x.test"])
SOURCES = st.dictionaries(st.sampled_from([f"people/s{i}" for i in range(6)]), st.none() | EMAILS)
OWN = st.dictionaries(st.sampled_from([f"people/o{i}" for i in range(6)]), st.frozensets(EMAILS, max_size=3))


def test_a_match_ignores_case_and_finds_any_of_the_contacts_addresses() -> None:
    found = match_by_email({"s1": "Ann@X.test"}, {"o1": ["home@y.test", "ann@x.TEST"]})
    assert found.adopt == {"s1": "o1"} and not found.ambiguous


def test_two_contacts_for_one_person_or_one_contact_for_two_people_adopt_nothing() -> None:
    twins = match_by_email({"s1": "a@x.test"}, {"o1": ["a@x.test"], "o2": ["A@x.test"]})
    assert twins.adopt == {} and twins.ambiguous == {"s1"}
    shared = match_by_email({"s1": "a@x.test", "s2": "b@x.test"}, {"o1": ["a@x.test", "b@x.test"]})
    assert shared.adopt == {} and shared.ambiguous == {"s1", "s2"}


@given(SOURCES, OWN)
def test_adoptions_are_one_to_one_and_each_holds_the_source_address(
    sources: dict[str, str | None], own: dict[str, frozenset[str]]
) -> None:
    found = match_by_email(sources, own)
    assert len(set(found.adopt.values())) == len(found.adopt), "no contact adopted twice"
    assert not found.adopt.keys() & found.ambiguous
    for key, rn in found.adopt.items():
        assert sources[key] in own[rn]
    for key, address in sources.items():
        holders = {rn for rn, emails in own.items() if address in emails}
        wanted_too = {k for k, a in sources.items() if a is not None and any(a in own[rn] for rn in holders)}
        if address is None or not holders:
            assert key not in found.adopt and key not in found.ambiguous
        elif len(holders) == 1 and wanted_too == {key}:
            assert found.adopt[key] == next(iter(holders))
        else:
            assert key in found.ambiguous
            assert not holders & set(found.adopt.values()), "an ambiguous contact is never touched"
