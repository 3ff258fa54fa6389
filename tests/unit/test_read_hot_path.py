"""The one-pass forms a target's read uses per contact give what the plain forms give."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from sync_core.domain.contacts import adopted_key, is_adopted, read_tag, tag_and_adoption, tag_key
from sync_core.sync.plan import EchoDigest, echo_digest

UID = "u1"
keys = st.sampled_from([tag_key(UID), adopted_key(UID), tag_key("other"), "app", ""])
entries = st.lists(
    st.fixed_dictionaries({"key": keys}, optional={"value": st.sampled_from(["", "k1", "k2", "1"])}), max_size=4
)


@settings(max_examples=400)
@given(st.one_of(st.builds(dict), st.builds(lambda e: {"clientData": e}, entries), st.just({"clientData": None})))
def test_tag_and_adoption_in_one_pass(person: dict[str, Any]) -> None:
    assert tag_and_adoption(person, tag_key(UID), adopted_key(UID)) == (read_tag(person, UID), is_adopted(person, UID))


pairs = st.lists(st.tuples(st.text(max_size=6), st.text(max_size=6)), max_size=12)


@given(pairs, st.data())
def test_echo_digest_of_all_pairs_is_the_running_digest(given_pairs: list[tuple[str, str]], data: Any) -> None:
    """Built pair by pair in any order (a run's batches), with superseded pairs taken back, or all at once."""
    running = EchoDigest()
    extra = data.draw(pairs)
    for rn, etag in [*extra, *given_pairs]:
        running.add(rn, etag)
    for rn, etag in data.draw(st.permutations(extra)):
        running.remove(rn, etag)
    assert echo_digest(given_pairs) == running.hexdigest()
    assert echo_digest(reversed(given_pairs)) == echo_digest(given_pairs)
