"""The direction of knowledge: `contactsync, bot -> sync_core.service -> (run, scheduling, google, store) ->
(sync, domain)`. The surfaces reach jobs only through the application service; `sync_core` never knows Slack;
the pure layers (`sync_core.sync`, `sync_core.domain`) do no I/O, so they import none of the layers that do;
nothing in the product imports the emulator or the Slack double (it finds them through settings).

The rules are the tables below (`SURFACE_FORBIDDEN`, `CORE_FORBIDDEN`, `PURE_FORBIDDEN`, `ALLOWED`), read by the
tests; the
picture and the reasons are in docs/architecture.md ("Layers and the direction of knowledge").
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SURFACES = ("bot", "contactsync")
# The job shapes of sync_core.domain.models reach the surfaces re-exported by sync_core.service.
SURFACE_FORBIDDEN = ("sync_core.store", "sync_core.google", "sync_core.run", "sync_core.sync", "sync_core.leases",
                     "sync_core.alerting", "sync_core.domain.models", "emulator", "slack_double")
CORE_FORBIDDEN = ("bot", "slack_sdk", "slack_bolt", "emulator", "slack_double")
PURE = ("sync_core/sync", "sync_core/domain")
PURE_FORBIDDEN = ("sync_core.store", "sync_core.google", "sync_core.run", "sync_core.scheduling",
                  "sync_core.service", "sync_core.leases", "sync_core.observability", "googleapiclient")

# The demos exist to start the emulator and the Slack double next to the real product: the one exception.
ALLOWED = {
    ("contactsync/demo.py", "emulator"),
    ("contactsync/demo_slack.py", "emulator"),
    ("contactsync/demo_slack.py", "slack_double"),
}


def imported(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """(line, module) for every absolute import; `from a import b` yields both `a` and `a.b` (b may be a
    module). Relative imports stay inside their own package."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module
            for alias in node.names:
                yield node.lineno, f"{node.module}.{alias.name}"


def violations(source: str, filename: str, forbidden: Iterable[str]) -> list[tuple[str, int, str]]:
    """(file, line, forbidden package) for each import of a forbidden package or one of its submodules."""
    found: list[tuple[str, int, str]] = []
    for line, module in imported(ast.parse(source, filename)):
        for banned in forbidden:
            hit = (filename, line, banned)
            if (module == banned or module.startswith(banned + ".")) and hit not in found:
                found.append(hit)
    return found


def check_packages(packages: Iterable[str], forbidden: tuple[str, ...]) -> list[tuple[str, int, str]]:
    found = []
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            name = path.relative_to(ROOT).as_posix()
            found += violations(path.read_text(encoding="utf-8"), name, forbidden)
    return found


def report(found: Iterable[tuple[str, int, str]]) -> str:
    return "\n".join(f"{file}:{line} imports {banned}" for file, line, banned in found)


def test_the_cli_and_the_bot_use_only_the_application_service() -> None:
    found = [v for v in check_packages(SURFACES, SURFACE_FORBIDDEN) if (v[0], v[2]) not in ALLOWED]
    assert not found, "go through sync_core.service instead:\n" + report(found)


def test_sync_core_knows_nothing_of_slack_or_the_doubles() -> None:
    found = check_packages(["sync_core"], CORE_FORBIDDEN)
    assert not found, "sync_core must not know Slack or the test doubles:\n" + report(found)


def test_the_pure_layers_import_no_layer_that_does_io() -> None:
    found = check_packages(PURE, PURE_FORBIDDEN)
    assert not found, "sync_core.sync and sync_core.domain must stay free of I/O:\n" + report(found)


def test_every_allowed_exception_is_still_needed() -> None:
    used = {(file, banned) for file, _line, banned in check_packages(SURFACES, SURFACE_FORBIDDEN)}
    assert used >= ALLOWED, f"no longer needed, remove from ALLOWED: {sorted(ALLOWED - used)}"


def test_the_checker_finds_every_form_of_import() -> None:
    source = "\n".join([
        "from __future__ import annotations",
        "import sync_core.store",  # 2
        "from sync_core import store, models",  # 3
        "from sync_core.google.errors import GoogleError",  # 4
        "import emulator.core as emu",  # 5
        "from sync_core.service import JobService",  # 6: allowed
        "from sync_core.storefront import x",  # 7: another name that merely starts alike
        "from . import store",  # 8: relative, inside its own package
        "from sync_core.domain.models import SyncJob",  # 9: the job shapes come through the service
        "from sync_core.domain.schedule import DEFAULT_SCHEDULE",  # 10: the rest of the domain is plain data
        "def f():",
        "    from slack_double import SlackDouble",  # 12: inside a function too
    ])
    found = violations(source, "bot/example.py", SURFACE_FORBIDDEN)
    assert found == [
        ("bot/example.py", 2, "sync_core.store"),
        ("bot/example.py", 3, "sync_core.store"),
        ("bot/example.py", 4, "sync_core.google"),
        ("bot/example.py", 5, "emulator"),
        ("bot/example.py", 9, "sync_core.domain.models"),
        ("bot/example.py", 12, "slack_double"),
    ]
    assert violations("import slack_bolt\nfrom bot.app import build_app\n", "sync_core/x.py", CORE_FORBIDDEN) == [
        ("sync_core/x.py", 1, "slack_bolt"),
        ("sync_core/x.py", 2, "bot"),
    ]
    assert "bot/example.py:4 imports sync_core.google" in report(found)
