"""A create's request JSON (`Create.wire`, in the batch's streamed body) is its `person`, byte for byte,
whether its body is a run's shared one (serialised once for every target) or a plain dict; sharing the bodies
changes no item."""

from __future__ import annotations

import copy
import pickle

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync_core.domain.contacts import MY_CONTACTS, content_hash
from sync_core.domain.field_rules import DEFAULT_RULES
from sync_core.google.json_model import StreamedJson
from sync_core.google.people import batch_create_body
from sync_core.sync.plan import Create, Creates, SharedBody, SourceItem, share_bodies
from sync_core.sync.projection import project_source

text = st.text(max_size=12)  # any characters: quotes, backslashes, non-ASCII, line separators
entry = st.dictionaries(st.sampled_from(["value", "type", "givenName", "familyName"]), text, max_size=3)
bodies = st.dictionaries(
    st.sampled_from(["names", "emailAddresses", "phoneNumbers", "organizations", "biographies", "urls"]),
    st.lists(entry, max_size=3),
    max_size=6,
)
groups = st.frozensets(st.sampled_from(["contactGroups/a", "contactGroups/b\"x", MY_CONTACTS]), max_size=3)


@given(body=bodies, key=text, job_uid=text, groups=groups)
def test_a_creates_json_is_its_person(body: dict, key: str, job_uid: str, groups: frozenset[str]) -> None:
    for shared in (False, True):
        item = SourceItem(key, SharedBody(body) if shared else dict(body), content_hash(body))
        create = Create(key, item, groups, job_uid)
        assert create.wire == orjson.dumps(create.person)
        # as the request carries it, and twice over (a shared body's JSON is kept once made)
        request = batch_create_body([create, create])
        assert orjson.loads(bytes(request))["contacts"] == [{"contactPerson": create.person}] * 2


# A plan's creates: mostly the run's shared source contacts under the plan's groups, some made otherwise (a
# plain body, a body that holds memberships, other groups or another key than their item's).
create_entries = st.lists(
    st.tuples(bodies, text, st.sampled_from(["shared", "plain", "clash", "other groups", "other key"])),
    max_size=8,
)


@given(entries=create_entries, job_uid=text, groups=groups)
def test_a_batch_of_creates_is_sent_as_each_create_says(entries: list, job_uid: str, groups: frozenset[str]) -> None:
    creates = Creates()
    for body, key, kind in entries:
        made = {**body, "memberships": []} if kind == "clash" else body
        item = SourceItem(key, dict(made) if kind == "plain" else SharedBody(made), content_hash(made))
        creates.append(Create(key + "x" if kind == "other key" else key, item,
                              frozenset({"contactGroups/o"}) if kind == "other groups" else groups, job_uid))
    for _ in range(2):  # and again, with what the shared bodies keep once made
        assert creates.wires() == [c.wire for c in creates]
        assert creates.wires_size() == sum(len(c.wire) for c in creates)
        request, each = batch_create_body(creates), batch_create_body(list(creates))
        assert bytes(request) == bytes(each) and len(request) == len(each) == len(bytes(each))
        assert orjson.loads(bytes(request))["contacts"] == [{"contactPerson": c.person} for c in creates]
        assert b"".join(request.chunks(100)) == bytes(each)


def test_a_body_of_another_length_than_it_was_counted_at_is_never_sent_whole() -> None:
    body = StreamedJson(lambda: iter([b"x" * 150, b"y" * 10]), size=170)
    with pytest.raises(RuntimeError, match="made 160 bytes, not the 170"):
        bytes(body)
    parts = body.chunks(100)
    assert next(parts) == b"x" * 150  # the first write went
    with pytest.raises(RuntimeError):
        next(parts)  # the last one never does: the server sees a body cut short, never a wrong one


@pytest.mark.parametrize("clash", [{"memberships": []}, {"clientData": [{"key": "k", "value": "v"}]}])
def test_a_body_holding_memberships_or_our_tag_is_sent_as_person_says(clash: dict) -> None:
    body = {"names": [{"givenName": "A"}], **clash}
    for made in (SharedBody, dict):
        create = Create("people/1", SourceItem("people/1", made(body), "h"), frozenset({"contactGroups/a"}), "j")
        assert create.wire == orjson.dumps(create.person)
        assert create.wire == orjson.dumps(create.person)  # a shared body's head, once made


@given(body=bodies)
def test_a_shared_body_is_the_dict_it_was_made_from(body: dict) -> None:
    shared = SharedBody(body)
    shared.fields_json()
    shared.head()
    assert shared == body and copy.deepcopy(shared) == body and pickle.loads(pickle.dumps(shared)) == body
    assert orjson.loads(b"{" + shared.fields_json() + b"}") == body


def test_sharing_a_runs_bodies_changes_no_item() -> None:
    items = {k: SourceItem(k, {"names": [{"givenName": k}]}, "h" + k, None) for k in ("people/1", "people/2")}
    shared = share_bodies(items)
    assert shared == items
    assert all(isinstance(item.body, SharedBody) for item in shared.values())
    assert share_bodies(shared)["people/1"] is shared["people/1"]  # already shared: kept as they are
    # in the order of their keys, whatever order they came in (each target's plan walks them in that order)
    assert list(share_bodies(dict(reversed(items.items())))) == ["people/1", "people/2"]
    assert project_source(items, DEFAULT_RULES) == items
