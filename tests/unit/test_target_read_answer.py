"""A target's reads ask Google for only part of each answer (TARGET_READ_ANSWER, the `fields` filter): what a
read keeps of a contact must be the same from the trimmed answer as from the whole one."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from emulator.partial import apply_fields, parse_fields
from sync_core.domain.contacts import adopted_entry, tag_entry
from sync_core.domain.field_rules import FieldRules
from sync_core.google.people import TARGET_READ_ANSWER
from sync_core.run.target_model import TargetJob
from sync_core.run.target_sync import TargetSync

UID = "job-uid-1"
SELECTOR = parse_fields(TARGET_READ_ANSWER)
SOURCE = {"type": "CONTACT", "id": "c1", "etag": "#x", "updateTime": "2026-01-01T00:00:00Z"}

groups = st.lists(st.sampled_from(["contactGroups/ours", "contactGroups/myContacts", "contactGroups/other"]),
                  max_size=3, unique=True)
client_data = st.lists(
    st.one_of(
        st.builds(lambda key: tag_entry(UID, key), st.text("0123456789", min_size=1, max_size=5)),
        st.just(adopted_entry(UID)),
        st.builds(lambda k, v: {"key": k, "value": v},
                  st.sampled_from(["contactsync:other", "app"]), st.text(max_size=3)),
    ).map(lambda entry: {**entry, "metadata": {"source": SOURCE}}),
    max_size=3,
)
emails = st.lists(st.sampled_from(["a@x.org", "B@x.org", " c@y.org"]), max_size=2)


@st.composite
def people(draw: Any) -> dict[str, Any]:
    if draw(st.booleans()) and draw(st.booleans()):
        return {"resourceName": "people/c1", "etag": "%e0", "metadata": {"sources": [SOURCE], "deleted": True}}
    person: dict[str, Any] = {
        "resourceName": "people/c" + draw(st.text("0123456789", min_size=1, max_size=4)),
        "etag": "%" + draw(st.text("abc", max_size=4)),
        "metadata": {"sources": [SOURCE], "objectType": "PERSON"},
        "memberships": [
            {"metadata": {"source": SOURCE}, "contactGroupMembership": {"contactGroupId": g.split("/")[1],
                                                                         "contactGroupResourceName": g}}
            for g in draw(groups)
        ],
        "clientData": draw(client_data),
        "emailAddresses": [{"value": e, "type": "work", "metadata": {"primary": True, "source": SOURCE}}
                           for e in draw(emails)],
    }
    return {k: v for k, v in person.items() if v or k in ("resourceName", "etag")}


@settings(max_examples=300)
@given(people(), st.booleans(), st.booleans())
def test_a_trimmed_answer_keeps_what_the_whole_one_does(person: dict[str, Any], incremental: bool, match: bool) -> None:
    job = TargetJob(UID, "Label", False, 25_000, rules=FieldRules(match_existing="email" if match else None))
    sync = TargetSync.__new__(TargetSync)
    sync.job = job  # the keeper needs only the job
    trimmed = apply_fields({"connections": [person]}, SELECTOR)["connections"][0]
    assert sync._keeper(incremental=incremental)(trimmed) == sync._keeper(incremental=incremental)(person)


def test_every_read_of_a_targets_fields_asks_for_the_same_trimmed_answer() -> None:
    """The filter follows the fields read, whoever reads (the sync, an editor's watch, the merge): one sync
    token is never asked two ways. Other reads (the source's, a body) get the whole answer."""
    from sync_core.domain.field_rules import EMAILS
    from sync_core.google.calls import Executor
    from sync_core.google.people import PERSON_FIELDS, TARGET_READ_FIELDS, PeopleApi, PeopleClient

    asked: list[dict[str, Any]] = []

    class Request:
        def execute(self, **_: Any) -> dict[str, Any]:
            return {"connections": [], "nextSyncToken": "t1"}

    class Connections:
        def list(self, **params: Any) -> Request:
            asked.append(params)
            return Request()

    client = PeopleClient(PeopleApi(people=None, connections=Connections(), groups=None), Executor())
    client.read_connections()
    client.read_connections(sync_token="t0", person_fields=TARGET_READ_FIELDS)
    client.read_connections(person_fields=f"{TARGET_READ_FIELDS},{EMAILS}")
    client.read_connections(person_fields=PERSON_FIELDS)
    assert [p.get("fields") for p in asked] == [TARGET_READ_ANSWER] * 3 + [None]


def test_a_page_keeper_gets_each_page_whole_and_nothing_is_held() -> None:
    """`keep_page` (the echo check's tally) is given each page's contacts at once; the answer holds none."""
    from sync_core.google.calls import Executor
    from sync_core.google.people import PeopleApi, PeopleClient

    pages = {None: {"connections": [{"resourceName": "people/c1"}, {"resourceName": "people/c2"}],
                    "nextPageToken": "p2"},
             "p2": {"connections": [{"resourceName": "people/c3"}], "nextSyncToken": "t2"}}

    class Request:
        def __init__(self, page: dict[str, Any]) -> None:
            self.page = page

        def execute(self, **_: Any) -> dict[str, Any]:
            return dict(self.page)

    class Connections:
        def list(self, **params: Any) -> Request:
            return Request(pages[params.get("pageToken")])

    client = PeopleClient(PeopleApi(people=None, connections=Connections(), groups=None), Executor())
    given: list[list[str]] = []
    read = client.read_connections(sync_token="t1", keep_page=lambda people: given.append(
        [p["resourceName"] for p in people]), echoes_only=True)
    assert given == [["people/c1", "people/c2"], ["people/c3"]]
    assert read.people == [] and read.listed == 3 and read.next_sync_token == "t2"
