"""A modal draft survives the trip through the database's opaque payload unchanged (any replica reads back
exactly what another saved), and a payload it cannot read is an expired form, never a traceback."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.drafts import Draft, decode, encode

texts = st.text(max_size=40)
lists = st.lists(texts, max_size=8)

drafts = st.builds(
    Draft,
    id=st.just("d1"),
    user_id=st.just("U1"),
    mode=st.sampled_from(["create", "edit"]),
    original_name=st.none() | texts,
    channel_id=st.none() | texts,
    kind=st.sampled_from(["personal", "directory"]),
    name=texts,
    source_email=st.none() | texts,
    groups=st.none() | lists,
    groups_error=st.none() | texts,
    group_name=st.none() | texts,
    target_group_name=texts,
    add_to_my_contacts=st.booleans(),
    description=texts,
    alert_channel=st.none() | texts,
    schedule=texts,
    domains=lists,
    include_ous=lists,
    exclude_ous=lists,
    include_self=st.booleans(),
    include_aliases=st.booleans(),
    targets=lists,
    target_page=st.integers(min_value=0, max_value=10**6),
    error=st.none() | texts,
    rev=st.integers(min_value=0, max_value=10**6),
    version=st.integers(min_value=1, max_value=10**6),
)


@given(drafts)
def test_a_draft_round_trips_through_its_payload(draft: Draft) -> None:
    assert decode(draft.id, draft.user_id, draft.version, encode(draft)) == draft


@given(st.text(max_size=60) | st.sampled_from(['{"name": 3, "targets": "x"}', "[]", "null", '{"rev": {}}']))
def test_an_unreadable_payload_is_no_draft(payload: str) -> None:
    found = decode("d1", "U1", 1, payload)
    assert found is None or isinstance(found, Draft)
