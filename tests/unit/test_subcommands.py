"""The `/contactsync` subcommand registry: every entry complete, the help generated from it, and deny by
default (a subcommand not marked read-only needs an admin)."""

from __future__ import annotations

import inspect

import pytest

from bot.listeners import commands
from bot.listeners.commands import SUBCOMMANDS, Subcommand, needs_admin, usage_blocks


def test_every_registered_subcommand_is_complete() -> None:
    assert SUBCOMMANDS, "no subcommands registered"
    help_text = str(usage_blocks())
    for key, entry in SUBCOMMANDS.items():
        assert key == entry.name and key == key.lower() and " " not in key
        assert callable(entry.handler) and len(inspect.signature(entry.handler).parameters) == 4, key
        assert entry.help.strip(), f"{key} has no help line"
        assert f"/contactsync {key}" in help_text, f"{key} is missing from the help text"
        if entry.admin_only:
            assert f"`{key}`" in help_text.split("Only ContactSync admins")[1], f"{key}: not said to be admin-only"


def test_only_listing_showing_mine_and_help_are_open_to_everyone() -> None:
    # `mine` only reads; its buttons (a member's own Leave, Re-join, Join) are checked by their listener.
    assert {name for name, entry in SUBCOMMANDS.items() if entry.read_only} == {"list", "show", "mine", "help"}
    for text in ("create", "edit Partners", "run Partners", "pause X", "resume X", "delete X"):
        assert needs_admin(text), text
    # `request` acts only for the member who asks (their own account as the source): its handler checks who.
    assert {name for name, entry in SUBCOMMANDS.items() if entry.for_members} == {"request"}
    # An unknown one only gets the help text.
    for text in ("list", "show Partners", "mine", "help", "request", "", "frobnicate"):
        assert not needs_admin(text), text


def test_an_unmarked_subcommand_needs_an_admin(monkeypatch: pytest.MonkeyPatch) -> None:
    def handler(*_args: object) -> None:
        raise AssertionError("not called here")

    entry = Subcommand("probe", handler, "a new subcommand whose author forgot to say it only reads")
    assert entry.read_only is False
    monkeypatch.setitem(commands.SUBCOMMANDS, "probe", entry)
    assert needs_admin("probe") and needs_admin("PROBE something")
    monkeypatch.setitem(commands.SUBCOMMANDS, "probe", Subcommand("probe", handler, "reads", read_only=True))
    assert not needs_admin("probe")
