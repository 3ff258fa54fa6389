"""The planner, exhaustively: hypothesis drives random sources, targets and links through it."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from sync_core.domain.contacts import content_hash
from sync_core.sync.plan import (
    Create,
    Creates,
    LinkState,
    Plan,
    SourceItem,
    TargetItem,
    observed_from_links,
    plan_removal,
    plan_target,
    source_version,
)

JOB = "job1"
GROUP = "contactGroups/abc"
REQUIRED = frozenset({GROUP})


def src(key: str, name: str) -> SourceItem:
    body = {"names": [{"givenName": name}]}
    return SourceItem(key, body, content_hash(body))


class FakeAccount:
    """A target account the plan is applied to, as Google would: new etags on every write."""

    def __init__(self, items: list[TargetItem]) -> None:
        self.items = {i.resource_name: i for i in items}
        self._ids = itertools.count(10_000)
        self.touched: set[str] = set()

    def apply(self, plan: Plan, links: dict[str, LinkState]) -> dict[str, LinkState]:
        links = dict(links)
        for d in plan.deletes:
            assert d.resource_name in self.items, "deleted a contact that isn't there"
            self.touched.add(d.resource_name)
            del self.items[d.resource_name]
        for c in plan.creates:
            rn = f"people/c{next(self._ids)}"
            groups = frozenset(m["contactGroupMembership"]["contactGroupResourceName"] for m in c.person["memberships"])
            self.items[rn] = TargetItem(rn, f"e{next(self._ids)}", c.source_key, c.hash, groups)
            links[c.source_key] = LinkState(c.source_key, rn, c.hash, self.items[rn].etag)
        for u in plan.updates:
            old = self.items[u.resource_name]
            assert u.person["etag"] == old.etag
            self.touched.add(u.resource_name)
            groups = frozenset(m["contactGroupMembership"]["contactGroupResourceName"] for m in u.person["memberships"])
            new = TargetItem(u.resource_name, f"e{next(self._ids)}", u.source_key, u.hash, groups)
            self.items[u.resource_name] = new
            links[u.source_key] = LinkState(u.source_key, u.resource_name, u.hash, new.etag)
        for k in plan.relinks:
            links[k.source_key] = LinkState(k.source_key, k.resource_name, k.hash, k.etag)
        for key in plan.dropped_links:
            links.pop(key, None)
        return links


names = st.sampled_from(["Ann", "Bob", "Zoë", "李雷", "Ann "])
source_maps = st.dictionaries(st.sampled_from([f"people/s{i}" for i in range(8)]), names, max_size=8)


@st.composite
def scenarios(draw):
    source = {k: src(k, n) for k, n in draw(source_maps).items()}
    target: list[TargetItem] = []
    links: dict[str, LinkState] = {}
    keys = [f"people/s{i}" for i in range(8)]
    for i in range(draw(st.integers(0, 12))):
        rn = f"people/t{i}"
        owner = draw(st.sampled_from(["ours", "foreign", "other_job"]))
        key = draw(st.sampled_from(keys)) if owner == "ours" else None
        body = {"names": [{"givenName": draw(names)}]}
        groups = draw(st.sampled_from([REQUIRED, frozenset(), frozenset({GROUP, "contactGroups/x"})]))
        target.append(TargetItem(rn, f"etag{i}", key, content_hash(body), groups))
        if key is not None and draw(st.booleans()):
            stale = draw(st.booleans())
            links[key] = LinkState(
                key, rn, "stale" if stale else target[-1].hash, f"etag{i}" if draw(st.booleans()) else "old"
            )
    return source, target, links


def ours_by_key(account: FakeAccount) -> dict[str, list[TargetItem]]:
    out: dict[str, list[TargetItem]] = {}
    for item in account.items.values():
        if item.source_key is not None:
            out.setdefault(item.source_key, []).append(item)
    return out


@settings(max_examples=400, deadline=None)
@given(scenarios())
def test_applying_the_plan_yields_exactly_the_source(scenario):
    source, target, links = scenario
    account = FakeAccount(target)
    plan = plan_target(job_uid=JOB, source=source, target=target, links=links, required_groups=REQUIRED)
    account.apply(plan, links)
    held = ours_by_key(account)
    assert set(held) == set(source)
    for key, items in held.items():
        assert len(items) == 1, "no duplicates survive"
        assert items[0].hash == source[key].hash
        assert items[0].memberships >= REQUIRED


@settings(max_examples=400, deadline=None)
@given(scenarios())
def test_second_plan_is_empty(scenario):
    source, target, links = scenario
    account = FakeAccount(target)
    links = account.apply(
        plan_target(job_uid=JOB, source=source, target=target, links=links, required_groups=REQUIRED), links
    )
    again = plan_target(
        job_uid=JOB, source=source, target=list(account.items.values()), links=links, required_groups=REQUIRED
    )
    assert again.is_empty, again
    assert len(again.keeps) == len(source)


@settings(max_examples=400, deadline=None)
@given(scenarios())
def test_a_contact_without_our_tag_is_never_touched(scenario):
    source, target, links = scenario
    foreign = {t.resource_name for t in target if t.source_key is None}
    plan = plan_target(job_uid=JOB, source=source, target=target, links=links, required_groups=REQUIRED)
    written = {d.resource_name for d in plan.deletes} | {u.resource_name for u in plan.updates}
    assert not (written & foreign)
    removal = plan_removal(target=target)
    assert not ({d.resource_name for d in removal.deletes} & foreign)


@settings(max_examples=200, deadline=None)
@given(scenarios())
def test_incremental_view_plans_like_a_full_read_when_nothing_changed(scenario):
    source, target, links = scenario
    account = FakeAccount(target)
    links = account.apply(
        plan_target(job_uid=JOB, source=source, target=target, links=links, required_groups=REQUIRED), links
    )
    view = observed_from_links(links, [], [], assumed_groups=REQUIRED)
    assert plan_target(job_uid=JOB, source=source, target=view, links=links, required_groups=REQUIRED).is_empty


def test_target_edit_is_put_back_with_the_current_etag():
    s = src("people/s1", "Ann")
    link = LinkState("people/s1", "people/t1", s.hash, "e1")
    edited = TargetItem("people/t1", "e2", "people/s1", content_hash({"names": [{"givenName": "Hacked"}]}), REQUIRED)
    plan = plan_target(job_uid=JOB, source={s.key: s}, target=[edited], links={s.key: link}, required_groups=REQUIRED)
    assert [u.reason for u in plan.updates] == ["target_edited"]
    assert plan.updates[0].person["etag"] == "e2"
    assert plan.updates[0].person["names"] == [{"givenName": "Ann"}]
    assert plan.updates[0].person["clientData"] == [{"key": "contactsync:job1", "value": "people/s1"}]


def test_target_deletion_is_recreated_and_source_edit_updates():
    a, b = src("people/s1", "Ann"), src("people/s2", "Bob")
    links = {
        a.key: LinkState(a.key, "people/t1", a.hash, "e1"),
        b.key: LinkState(b.key, "people/t2", "old-hash", "e2"),
    }
    view = observed_from_links(links, [], ["people/t1"], assumed_groups=REQUIRED)
    plan = plan_target(job_uid=JOB, source={a.key: a, b.key: b}, target=view, links=links, required_groups=REQUIRED)
    assert [c.source_key for c in plan.creates] == [a.key]
    assert [(u.resource_name, u.reason) for u in plan.updates] == [("people/t2", "source_changed")]


def test_lost_membership_is_restored_without_content_change():
    s = src("people/s1", "Ann")
    item = TargetItem("people/t1", "e9", s.key, s.hash, frozenset({"contactGroups/theirs"}))
    plan = plan_target(job_uid=JOB, source={s.key: s}, target=[item], links={}, required_groups=REQUIRED)
    (update,) = plan.updates
    assert update.fix_memberships and update.reason == "membership"
    groups = {m["contactGroupMembership"]["contactGroupResourceName"] for m in update.person["memberships"]}
    assert groups == {GROUP, "contactGroups/theirs"}, "the target's own labels are kept"


def test_adopts_tagged_contacts_when_links_are_lost():
    s = src("people/s1", "Ann")
    item = TargetItem("people/t1", "e1", s.key, s.hash, REQUIRED)
    dup = TargetItem("people/t2", "e2", s.key, s.hash, REQUIRED)
    plan = plan_target(job_uid=JOB, source={s.key: s}, target=[dup, item], links={}, required_groups=REQUIRED)
    assert not plan.creates and not plan.updates
    assert [(d.resource_name, d.reason) for d in plan.deletes] == [("people/t2", "duplicate")]
    assert [k.resource_name for k in plan.relinks] == ["people/t1"]


def test_photo_changes_only_when_the_fingerprint_moves() -> None:
    body = {"names": [{"givenName": "Ann"}]}
    s = SourceItem("people/s1", body, content_hash(body), "photo-v1")
    item = TargetItem("people/t1", "e1", s.key, s.hash, REQUIRED)
    linked = LinkState(s.key, "people/t1", s.hash, "e1", "photo-v1")
    same = plan_target(job_uid=JOB, source={s.key: s}, target=[item], links={s.key: linked}, required_groups=REQUIRED)
    assert same.is_empty and same.keeps[0].photo == "photo-v1"

    moved = SourceItem(s.key, body, s.hash, "photo-v2")
    plan = plan_target(
        job_uid=JOB, source={s.key: moved}, target=[item], links={s.key: linked}, required_groups=REQUIRED
    )
    assert [(p.resource_name, p.photo) for p in plan.photos] == [("people/t1", "photo-v2")]
    assert not plan.updates, "a new photo alone needs no contact update"

    gone = SourceItem(s.key, body, s.hash, None)
    plan = plan_target(
        job_uid=JOB, source={s.key: gone}, target=[item], links={s.key: linked}, required_groups=REQUIRED
    )
    assert [(p.resource_name, p.photo) for p in plan.photos] == [("people/t1", None)]

    created = plan_target(job_uid=JOB, source={s.key: s}, target=[], links={}, required_groups=REQUIRED)
    assert [(p.resource_name, p.photo) for p in created.photos] == [(None, "photo-v1")]
    unknown = plan_target(job_uid=JOB, source={s.key: gone}, target=[item], links={}, required_groups=REQUIRED)
    assert unknown.photos == [], "a photo we never wrote is not ours to remove"


def test_contacts_leave_my_contacts_when_the_job_stops_asking() -> None:
    s = src("people/s1", "Ann")
    item = TargetItem(
        "people/t1", "e1", s.key, s.hash, frozenset({GROUP, "contactGroups/myContacts", "contactGroups/x"})
    )
    plan = plan_target(
        job_uid=JOB,
        source={s.key: s},
        target=[item],
        links={},
        required_groups=REQUIRED,
        unwanted_groups=frozenset({"contactGroups/myContacts"}),
    )
    (update,) = plan.updates
    assert update.fix_memberships
    groups = {m["contactGroupMembership"]["contactGroupResourceName"] for m in update.person["memberships"]}
    assert groups == {GROUP, "contactGroups/x"}


# --- source_version ---------------------------------------------------------------------------------------
_items = st.dictionaries(
    st.text("abc", min_size=1, max_size=3),
    st.tuples(st.text("xyz", max_size=2), st.none() | st.text("p", max_size=2)),
    max_size=6,
)


def _as_items(raw: dict[str, tuple[str, str | None]]) -> dict[str, SourceItem]:
    return {k: SourceItem(k, {}, h, p) for k, (h, p) in raw.items()}


@given(_items, _items)
def test_source_version_is_equal_exactly_when_content_photos_and_settings_are(
    a: dict[str, tuple[str, str | None]], b: dict[str, tuple[str, str | None]]
) -> None:
    same = a == b
    assert (source_version(_as_items(a), "job", True) == source_version(_as_items(b), "job", True)) is same
    assert source_version(_as_items(a), "job", True) != source_version(_as_items(a), "job", False)
    reordered = dict(reversed(list(_as_items(a).items())))
    assert source_version(reordered, "job", True) == source_version(_as_items(a), "job", True)


_GROUPS = [frozenset({"contactGroups/a"}), frozenset({"contactGroups/a", "contactGroups/myContacts"})]


@given(st.lists(st.tuples(st.integers(0, 5), st.booleans(), st.sampled_from(_GROUPS), st.sampled_from(["j1", "j2"])),
                max_size=30),
       st.integers(-35, 35), st.integers(-35, 35), st.sampled_from([1, 2, 200]))
def test_a_plan_s_creates_read_as_the_list_of_creates_appended(
    entries: list[tuple[int, bool, frozenset[str], str]], start: int, stop: int, step: int
) -> None:
    """However they vary (the key their item has or another, their groups, their job), the creates kept as items
    read back as the very `Create`s planned: one by one, in slices (how the writer batches them), by key."""
    appended = []
    creates = Creates()
    for n, own_key, groups, job in entries:
        item = SourceItem(f"people/s{n}", {"names": [{"givenName": f"N{n}"}]}, f"h{n}")
        create = Create(item.key if own_key else f"people/other{n}", item, groups, job)
        appended.append(create)
        if n % 2:
            creates.append(create)
        else:
            creates.add(*create)
    assert list(creates) == appended and len(creates) == len(appended) and creates == appended
    assert [creates[i] for i in range(len(appended))] == appended
    assert list(creates[start:stop:step]) == appended[start:stop:step]
    assert creates.source_keys() == [c.source_key for c in appended]
    assert Plan(creates=appended).creates == creates and Creates(appended) == creates
