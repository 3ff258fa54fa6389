"""The registry of target kinds: one module per kind, one line here. Everything else asks `kind_of`."""

from __future__ import annotations

from sync_core.kinds import domain, email, group, ou, query, role
from sync_core.kinds.base import (
    Picker,
    Resolved,
    Selector,
    SelectorError,
    TargetKind,
    TargetUser,
    echo,
    printable_value,
)

KINDS: dict[str, TargetKind] = {
    email.KIND.name: email.KIND,
    group.KIND.name: group.KIND,
    domain.KIND.name: domain.KIND,
    role.KIND.name: role.KIND,
    ou.KIND.name: ou.KIND,
    query.KIND.name: query.KIND,
}


def kind_of(name: str) -> TargetKind:
    """The kind named `name` or one of its aliases (`ou`); SelectorError for anything else."""
    name = name.strip().lower()
    if name in KINDS:
        return KINDS[name]
    for kind in KINDS.values():
        if name in kind.aliases:
            return kind
    raise SelectorError(f"unknown target kind {name!r}")


def typed(kind_name: str, value: str) -> str:
    """A stored selector as people type it, `ou:/Sales` rather than the stored `orgunit:/Sales`: the prefix is
    the one its kind's help shows. `parse_selector` reads it back."""
    return f"{kind_of(kind_name).help.partition(':')[0]}:{value}"


def usage() -> str:
    """Every kind's form, for help texts and errors: "email:ADDR, group:ADDR, ... or ou:/PATH"."""
    forms = [k.help for k in KINDS.values()]
    return ", ".join(forms[:-1]) + " or " + forms[-1] if len(forms) > 1 else "".join(forms)


def parse_selector(text: str) -> Selector:
    """`email:a@x.com`, `group:sales@x.com`, `domain:x.com`, `role:Help Desk Admin`, `ou:/Sales`, `query:...`.

    Here for every kind: the value (trimmed, before its kind reads it) holds printable characters only, and an
    error quotes at most the first 60 characters of what was typed."""
    prefix, sep, value = text.partition(":")
    if not sep or not value.strip():
        raise SelectorError(f"bad target {echo(text)}: use {usage()}")
    try:
        kind = kind_of(prefix)
    except SelectorError:
        raise SelectorError(f"bad target {echo(text)}: use {usage()}") from None
    try:
        return Selector(kind.name, kind.parse(printable_value(value.strip())))
    except SelectorError as exc:
        raise SelectorError(f"bad target {echo(text)}: {exc}") from None


__all__ = ["KINDS", "Picker", "Resolved", "Selector", "SelectorError", "TargetKind", "TargetUser", "kind_of",
           "parse_selector", "typed", "usage"]
