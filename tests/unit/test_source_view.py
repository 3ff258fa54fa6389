"""`Without` answers every question a target asks of its source as the copy less one key would."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync_core.sync.source_view import Without

KEYS = st.text(alphabet="abc", max_size=2)


@given(items=st.dictionaries(KEYS, st.integers()), left_out=KEYS, probe=KEYS)
def test_it_is_the_dict_less_the_key(items: dict[str, int], left_out: str, probe: str) -> None:
    copy = {k: v for k, v in items.items() if k != left_out}
    view = Without(items, left_out)
    assert view == copy and copy == dict(view)
    assert len(view) == len(copy)
    assert list(view) == list(copy), "in the source's order"
    assert sorted(view) == sorted(copy)
    assert (probe in view) == (probe in copy)
    assert view.get(probe) == copy.get(probe)
    assert list(view.items()) == list(copy.items())


def test_the_left_out_key_is_not_there() -> None:
    view = Without({"me": 1, "you": 2}, "me")
    with pytest.raises(KeyError):
        view["me"]
    assert "me" not in view and view["you"] == 2 and len(view) == 1


def test_it_copies_nothing() -> None:
    items = {"me": 1, "you": 2}
    view = Without(items, "me")
    items["new"] = 3  # never done to a run's source; shows the view reads the dict itself
    assert dict(view) == {"you": 2, "new": 3}
