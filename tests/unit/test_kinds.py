"""Target kinds: every registered kind is complete, and a new kind is one module plus one registry line.

The second half registers a made-up kind in the registry only, and checks that the CLI's parsing, the
service's checks, the modal's pickers and the live count pick it up with no other change.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.blocks.modal import targets_view
from bot.drafts import Draft
from bot.state import picked_targets
from contactsync import cli
from slack_double import check_view
from sync_core.domain.models import SelectorCreate, SelectorKind
from sync_core.domain.status import TargetStatus
from sync_core.kinds import KINDS, kind_of, parse_selector, usage
from sync_core.kinds.base import (
    DirectoryChecker,
    Lookup,
    Picker,
    Resolved,
    Selector,
    SelectorError,
    TargetKind,
    TargetUser,
)
from sync_core.service.checks import parse_targets
from sync_core.service.directory_cache import DirectoryCache, Snapshot

EXAMPLES = {  # a valid value of each kind, as typed, and as stored
    "email": ("Bob@Example.com", "bob@example.com"),
    "group": ("Sales@Example.com", "sales@example.com"),
    "domain": ("Example.ORG", "example.org"),
    "role": (" Help Desk Admin ", "Help Desk Admin"),
    "orgunit": ("/Sales/EMEA", "/Sales/EMEA"),
    "query": (" orgDepartment='Sales' orgTitle:'VP  Sales' ", "orgDepartment='Sales' orgTitle:'VP  Sales'"),
}
PROTOCOL_METHODS = ("parse", "validate", "resolve", "count_ids", "describe", "label", "options")


def test_every_kind_has_an_example_and_a_stored_name() -> None:
    assert set(KINDS) == set(EXAMPLES)
    assert set(KINDS) == {k.value for k in SelectorKind}, "a stored kind needs its SelectorKind value"


@pytest.mark.parametrize("name", sorted(KINDS))
def test_every_registered_kind_is_complete(name: str) -> None:
    kind = KINDS[name]
    assert kind.name == name and isinstance(kind.aliases, tuple)
    for method in PROTOCOL_METHODS:
        assert callable(getattr(kind, method, None)), f"{name} lacks {method}"
        ours = inspect.signature(getattr(kind, method))
        theirs = inspect.signature(getattr(TargetKind, method))
        assert list(ours.parameters) == [p for p in theirs.parameters if p != "self"], f"{name}.{method}"
    assert isinstance(kind.picker, Picker) and kind.picker.field.startswith("pick_") and kind.picker.label
    assert kind.help.split(":", 1)[0] in (name, *kind.aliases), "the help names the prefix people type"
    assert kind.help in usage() and kind.help in cli.TargetsOption.__metadata__[0].help
    typed, stored = EXAMPLES[name]
    prefix = kind.help.split(":", 1)[0]
    selector = parse_selector(f"{prefix}:{typed}")
    assert selector == Selector(name, stored)
    assert parse_selector(selector.label) == selector, "a stored selector parses back to itself"
    assert kind.parse(stored) == stored
    assert SelectorCreate(kind=SelectorKind(name), value=typed).value == stored
    assert stored in kind.describe(stored)
    assert kind.label(DirectoryCache(lambda: None), stored)  # type: ignore[arg-type, return-value]


def test_every_picker_has_its_own_block() -> None:
    fields = [k.picker.field for k in KINDS.values()]
    assert len(set(fields)) == len(fields)
    view = targets_view(Draft(id="d", user_id="U1"), [], total_users=0).to_dict()
    check_view(view)
    blocks = [b["block_id"].rsplit(".", 1)[0] for b in view["blocks"] if b["type"] == "input"]
    assert blocks == [*fields, "editors", "editors_can_delete"]  # then a Personal Sync's editors


@pytest.mark.parametrize("text", ["bogus", "email:", "shoe:42", "email:not-an-address", "domain:-x-", "ou:Sales"])
def test_bad_selectors_name_what_is_wrong(text: str) -> None:
    with pytest.raises(SelectorError, match="bad target"):
        parse_selector(text)


@pytest.mark.parametrize("name", sorted(KINDS))
@pytest.mark.parametrize("bad", ["\n", "\t", "\a", "\x1b", "\u200b", "\x85"])
def test_no_kind_takes_a_control_or_invisible_character(name: str, bad: str) -> None:
    """Checked once, where every surface parses targets (the CLI and the modal): `jobs show` stays one line."""
    typed = EXAMPLES[name][0].strip()
    middle = len(typed) // 2
    with pytest.raises(SelectorError, match="control or invisible characters"):
        parse_selector(f"{name}:{typed[:middle]}{bad}{typed[middle:]}")


def test_an_error_quotes_a_long_target_clipped() -> None:
    with pytest.raises(SelectorError) as caught:
        parse_selector("query:" + "x" * 5000)
    assert "x" * 61 not in str(caught.value) and "…" in str(caught.value) and len(str(caught.value)) < 200


def test_no_surface_dispatches_on_a_kind_name() -> None:
    """No `kind == "group"` (or `kind in ("email", ...)`) outside sync_core/kinds: ask the registry."""
    root = Path(__file__).resolve().parents[2]
    names = "|".join(re.escape(n) for n in [*KINDS, *(a for k in KINDS.values() for a in k.aliases)])
    chain = re.compile(rf"""kind\s*(==|!=|in\s*\()\s*["']({names})["']""")
    found = [f"{path.relative_to(root)}:{n}" for package in ("sync_core", "bot", "contactsync")
             for path in (root / package).rglob("*.py") if "kinds" not in path.parts
             for n, line in enumerate(path.read_text().splitlines(), 1) if chain.search(line)]
    assert found == []


# --- a new kind: one module (here, a class) and one registry line ------------------------------------
@dataclass
class _Dir:
    users: list[dict[str, str]]

    def iter_users(self, *, domain: str | None = None, query: str | None = None) -> Iterator[dict[str, str]]:
        return iter(self.users)


class ShoeSizeKind:
    """Users by shoe size: a kind no other module knows of."""

    name = "shoe"
    aliases: tuple[str, ...] = ("shoesize",)
    help = "shoe:SIZE"
    picker = Picker("pick_shoes", "Shoe sizes")

    def parse(self, value: str) -> str:
        if not value.strip().isdigit():
            raise SelectorError(f"{value!r} is not a shoe size")
        return value.strip()

    def validate(self, directory: DirectoryChecker, value: str) -> Resolved:
        return Resolved()

    def resolve(self, lookup: Lookup, selector: Selector) -> Iterator[TargetUser]:
        yield TargetUser("1", "bob@example.com", TargetStatus.ok)

    def count_ids(self, cache: DirectoryCache, value: str) -> set[str]:
        return {"1", "2"} if value == "42" else set()

    def describe(self, value: str) -> str:
        return f"the users with shoe size {value}"

    def label(self, cache: DirectoryCache, value: str) -> str:
        return f"👟 {value}"

    def options(self, cache: DirectoryCache, query: str) -> list[tuple[str, str]]:
        return [("42", "shoe:42")]


@pytest.fixture
def shoe(monkeypatch: pytest.MonkeyPatch) -> ShoeSizeKind:
    kind = ShoeSizeKind()
    monkeypatch.setitem(KINDS, kind.name, kind)  # the one registry line
    return kind


def test_a_new_kind_needs_only_its_module_and_a_registry_line(shoe: ShoeSizeKind) -> None:
    assert kind_of("shoesize") is shoe
    assert parse_targets(["shoe:42", "email:bob@example.com"])[0] == Selector("shoe", "42")
    with pytest.raises(Exception, match="is not a shoe size"):
        parse_targets(["shoe:big"])
    assert "shoe:SIZE" in usage()

    view = targets_view(Draft(id="d", user_id="U1"), [], total_users=0).to_dict()
    (block,) = [b for b in view["blocks"] if b.get("block_id", "").startswith("pick_shoes.")]
    assert block["label"]["text"] == "Shoe sizes"
    state = {"values": {block["block_id"]: {"pick_shoes": {"type": "multi_external_select",
                                                           "selected_options": [{"value": "shoe:42"}]}}}}
    assert picked_targets({"state": state}) == ["shoe:42"]

    cache = DirectoryCache(lambda: _Dir([]))  # type: ignore[arg-type, return-value]
    cache._snapshot = Snapshot()
    assert cache.resolve_ids([Selector("shoe", "42")]) == set(), "only active users of the snapshot count"
