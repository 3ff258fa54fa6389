"""A pairs-only read's pages decoded into `ListedPair`s (sync_core.google.people), and tallied by
`EchoTally.count_pairs` exactly as the dict-based tally of the same contacts."""

from __future__ import annotations

import json
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync_core.google.people import ListedPair, decode_pairs_page, listed_pairs
from sync_core.run.target_sync import EchoTally

RESOURCE_NAMES = st.text(alphabet="c0123456789", min_size=1, max_size=6).map(lambda s: f"people/{s}")
ETAGS = st.text(min_size=0, max_size=12)  # any text: Google's are base64, an other server's need not be


@st.composite
def listed_contacts(draw: Any) -> dict[str, Any]:
    """A contact as a pairs-only read may list it: alive, deleted, or with fields the read did not ask for."""
    person: dict[str, Any] = {"resourceName": draw(RESOURCE_NAMES)}
    if draw(st.booleans()):
        person["etag"] = draw(ETAGS)
    kind = draw(st.sampled_from(["alive", "deleted", "not deleted", "extra"]))
    if kind == "deleted":
        person["metadata"] = {"deleted": True}
    elif kind == "not deleted":
        person["metadata"] = {"deleted": False, "sources": [{"type": "CONTACT", "id": "1"}]}
    elif kind == "extra":
        person["clientData"] = [{"key": "contactsync.job.A", "value": "k1"}]
        person["memberships"] = [{"contactGroupMembership": {"contactGroupResourceName": "contactGroups/x"}}]
    return person


def test_a_google_answer_pretty_printed_decodes_to_its_pairs_and_tokens() -> None:
    answer = json.dumps({
        "connections": [
            {"resourceName": "people/c1", "etag": "%EgUBAi43PRoE"},
            {"resourceName": "people/c2", "etag": "%EgUBAi43PRoF", "metadata": {"deleted": True}},
            {"resourceName": "people/c3", "etag": "%EgUBAi43PRoG", "metadata": {}},
        ],
        "nextPageToken": "p2",
        "totalItems": 3,
    }, indent=2).encode()
    page = decode_pairs_page(answer)
    assert page["connections"] == [
        ListedPair("people/c1", "%EgUBAi43PRoE"),
        listed_pairs([{"resourceName": "people/c2", "etag": "%EgUBAi43PRoF", "metadata": {"deleted": True}}])[0],
        ListedPair("people/c3", "%EgUBAi43PRoG", page["connections"][2].metadata),
    ]
    assert [p.deleted for p in page["connections"]] == [False, True, False]
    # Absent tokens are absent, not None: `page.get("totalPeople", page.get("totalItems"))` reads the other.
    assert {k: v for k, v in page.items() if k != "connections"} == {"nextPageToken": "p2", "totalItems": 3}
    last = decode_pairs_page(b'{"nextSyncToken": "s1"}')
    assert last == {"connections": [], "nextSyncToken": "s1"}


def test_an_answer_of_other_types_is_taken_contact_by_contact_and_one_not_json_as_text() -> None:
    odd = orjson.dumps({"connections": [{"resourceName": "people/c1", "etag": 7},
                                        {"resourceName": "people/c2", "metadata": {"deleted": "yes"}}, "junk"],
                        "nextSyncToken": "s1"})
    page = decode_pairs_page(odd)
    assert page["connections"] == listed_pairs([{"resourceName": "people/c1", "etag": "7"},
                                                {"resourceName": "people/c2", "metadata": {"deleted": True}}])
    assert page["nextSyncToken"] == "s1"
    assert decode_pairs_page(b"<html>Bad gateway</html>") == "<html>Bad gateway</html>"


@given(st.lists(st.lists(listed_contacts(), max_size=8), max_size=4))
@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])  # the drawing, not the test, is slow
def test_pairs_tally_as_the_same_contacts_as_dicts_do(pages: list[list[dict[str, Any]]]) -> None:
    """Decoded from the wire or taken from dicts, page by page, the pairs sum, count and report deletions exactly
    as `count_page` does of the dicts themselves (every contact ours: a pairs-only read carries no tag)."""
    by_pairs, from_wire, by_dicts = EchoTally(), EchoTally(), EchoTally()
    for page in pages:
        by_pairs.count_pairs(listed_pairs(page))
        from_wire.count_pairs(decode_pairs_page(orjson.dumps({"connections": page}))["connections"])
        by_dicts.count_page(page, None)
    for tally in (by_pairs, from_wire):
        assert (tally.digest(), tally.ours, tally.gone, tally.theirs, tally.listed) == (
            by_dicts.digest(), by_dicts.ours, by_dicts.gone, by_dicts.theirs, by_dicts.listed)
