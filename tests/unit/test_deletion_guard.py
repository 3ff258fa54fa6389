"""The mass-deletion guard's decision (pure): when it holds, and what a held plan still does."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync_core.domain.contacts import content_hash
from sync_core.sync.deletion_guard import SOURCE_REMOVED, GuardPolicy, applies_deletions, hold_source_removals, holds
from sync_core.sync.plan import LinkState, SourceItem, TargetItem, plan_target

GROUP = frozenset({"contactGroups/ours"})
shares = st.floats(min_value=0.01, max_value=1.0, allow_nan=False)
minimums = st.integers(1, 60)


@st.composite
def counts(draw: st.DrawFn) -> tuple[int, int, int]:
    before = draw(st.integers(0, 500))
    leaving = draw(st.integers(0, before))
    deletions = draw(st.integers(leaving, leaving * 3))  # a leaving account may hold many contacts
    return before, leaving, deletions


@given(counts(), shares, minimums)
def test_it_holds_only_more_than_the_share_and_at_least_the_minimum(
    c: tuple[int, int, int], share: float, minimum: int
) -> None:
    before, leaving, deletions = c
    verdict = holds(GuardPolicy(share, minimum), before=before, leaving=leaving, deletions=deletions)
    if verdict:
        assert leaving > share * before and deletions >= minimum and leaving > 0
    if leaving > share * before and deletions >= minimum:
        assert verdict


@given(counts(), shares, minimums, st.integers(0, 100), st.integers(0, 100))
def test_more_going_never_lets_through_what_less_held(
    c: tuple[int, int, int], share: float, minimum: int, more_leaving: int, more_deletions: int
) -> None:
    before, leaving, deletions = c
    policy = GuardPolicy(share, minimum)
    if holds(policy, before=before, leaving=leaving, deletions=deletions):
        more = min(before, leaving + more_leaving)
        assert holds(policy, before=before, leaving=more, deletions=deletions + more_deletions + (more - leaving))


@given(st.integers(1, 500), minimums)
def test_a_wipe_out_is_held_and_a_share_of_one_never_holds(before: int, minimum: int) -> None:
    assert holds(GuardPolicy(0.5, minimum), before=before, leaving=before, deletions=before) is (before >= minimum)
    assert not holds(GuardPolicy(1.0, minimum), before=before, leaving=before, deletions=before * 3)


@pytest.mark.parametrize(
    ("before", "after", "held"),
    [(100, 40, True), (100, 50, False), (100, 55, False), (30, 10, True), (25, 10, False), (60, 24, True),
     (60, 0, True), (10, 0, False)],
)
def test_the_defaults(before: int, after: int, held: bool) -> None:
    """More than half, and at least 20 contacts: 100 -> 40 holds, 25 -> 10 (15 contacts) does not."""
    assert holds(GuardPolicy(), before=before, leaving=before - after, deletions=before - after) is held


def test_a_policy_out_of_range_is_refused() -> None:
    for share, minimum in [(0.0, 20), (1.5, 20), (0.5, 0)]:
        with pytest.raises(ValueError):
            GuardPolicy(share, minimum)


def _item(key: str, name: str) -> SourceItem:
    body = {"names": [{"givenName": name}]}
    return SourceItem(key, body, content_hash(body))


@st.composite
def shrinking(draw: st.DrawFn) -> tuple[dict[str, SourceItem], list[TargetItem], dict[str, LinkState]]:
    """A target holding (once or twice) copies of the source's last good state, and a source that lost some
    of it, edited some and gained some."""
    had = [f"people/s{i}" for i in range(draw(st.integers(0, 60)))]
    lost = set(draw(st.lists(st.sampled_from(had), unique=True))) if had else set()
    source = {k: _item(k, "Ann") for k in had if k not in lost}
    for k in draw(st.lists(st.sampled_from(sorted(source)), unique=True)) if source else []:
        source[k] = _item(k, "Edited")
    for i in range(draw(st.integers(0, 5))):
        source[f"people/new{i}"] = _item(f"people/new{i}", "New")
    target, links = [], {}
    for n, key in enumerate(had):
        ann = _item(key, "Ann")
        rn = f"people/t{n}"
        target.append(TargetItem(rn, f"e{n}", key, ann.hash, GROUP))
        if draw(st.booleans()):
            links[key] = LinkState(key, rn, ann.hash, f"e{n}")
        if draw(st.integers(0, 9)) == 0:  # a duplicate copy: a crashed run's orphan
            target.append(TargetItem(f"people/d{n}", f"d{n}", key, ann.hash, GROUP))
    target.append(TargetItem("people/theirs", "x", None, "", GROUP))  # the target's own
    return source, target, links


@given(shrinking(), shares, minimums)
def test_a_held_plan_still_creates_and_updates_and_keeps_its_links(
    case: tuple[dict[str, SourceItem], list[TargetItem], dict[str, LinkState]], share: float, minimum: int
) -> None:
    source, target, links = case
    plan = plan_target(job_uid="j", source=source, target=target, links=links, required_groups=GROUP)
    policy = GuardPolicy(share, minimum)
    out = hold_source_removals(plan, policy)
    removed = [d for d in plan.deletes if d.reason == SOURCE_REMOVED]
    gone = {d.source_key for d in removed}
    had = {t.source_key for t in target if t.source_key is not None}
    if not holds(policy, before=len(had), leaving=len(gone), deletions=len(removed)):
        assert out.held == 0 and out.plan is plan
        return
    assert out.held == len(removed) > 0
    assert [d for d in out.plan.deletes if d.reason == SOURCE_REMOVED] == []
    assert out.plan.deletes == [d for d in plan.deletes if d.reason != SOURCE_REMOVED]  # duplicates still go
    assert (out.plan.creates, out.plan.updates, out.plan.keeps, out.plan.relinks, out.plan.photos) == (
        plan.creates, plan.updates, plan.keeps, plan.relinks, plan.photos)
    assert not gone & set(out.plan.dropped_links), "a held contact keeps its link: the next run sees it"
    assert set(plan.dropped_links) - gone == set(out.plan.dropped_links)


@pytest.mark.parametrize(
    ("action", "detail", "applies"),
    [("apply_deletions", {}, True), ("confirm_empty_source", {}, True),
     ("fix", {"fix": "remove", "targets": ["email:bob@example.com"]}, True), ("fix", {"fix": "readd"}, False),
     ("edit", {"targets": {"from": ["email:a@x"], "to": ["email:b@x"]}}, True),
     ("edit", {"source_group_name": {"from": "Partners", "to": "Family"}}, True),
     ("edit", {"schedule": {"from": "every 1h", "to": "every 6h"}}, False), ("edit", {}, False),
     ("pause", {}, False), ("resume", {}, False)],
)
def test_an_admins_decision_lets_the_next_run_delete(action: str, detail: dict[str, object], applies: bool) -> None:
    """Apply, an empty source confirmed, a target removed, an edit of what the job covers: decided, not an
    accident. A schedule edit or a pause decides nothing about deletions."""
    assert applies_deletions(action, detail) is applies
