"""The operator's and the newcomer's docs say what the code does: the runbook has an entry for every alert
kind and every result the code defines (naming each kind's buttons), every setting, command, option, module
and class the docs name exists, every link lands, the facts in "Google's limits" are the code's, and nothing
cites design notes outside the repository."""

from __future__ import annotations

import ast
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml

from bot.settings import BotSettings
from contactsync.cli import app
from sync_core.alerting.alert_kinds import ALERT_KINDS
from sync_core.domain.fields import synced_fields_sentence
from sync_core.domain.models import AlertKind, RunStatus
from sync_core.domain.status import TargetStatus
from sync_core.google.quota import DEFAULT_LIMITS, METHOD_COSTS, Metric
from sync_core.scheduling.scheduler import SchedulerSettings
from sync_core.settings import Settings
from tests.ops.markdown import anchors, headings, links, section

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
OPERATIONS = (DOCS / "operations.md").read_text(encoding="utf-8")
ARCHITECTURE = (DOCS / "architecture.md").read_text(encoding="utf-8")
GLOSSARY = (DOCS / "glossary.md").read_text(encoding="utf-8")
OPERATOR_FILES = ("docs/operations.md", "docs/architecture.md", "docs/glossary.md", "docs/prometheus-rules.yml",
                  "compose.yaml", "contactsync.env.example", "Dockerfile")
PRODUCT = ("sync_core", "bot", "contactsync")


def read(relative: str) -> str:
    return (ROOT / relative).read_text(encoding="utf-8")


def entry_parts_present(body: str) -> bool:
    """An entry says what it means, what to check and what to do."""
    return "**Means**" in body and "**Check**" in body and "**Do**" in body


# --- the runbook -------------------------------------------------------------------------------------
def test_the_runbook_has_one_entry_per_alert_kind_naming_its_buttons() -> None:
    entries = dict(section(OPERATIONS, "Alert kinds"))
    named = {re.fullmatch(r"Alert: `(\w+)`", title).group(1): body  # type: ignore[union-attr]
             for title, body in entries.items() if re.fullmatch(r"Alert: `(\w+)`", title)}
    assert set(named) == {k.value for k in AlertKind}, "docs/operations.md#alert-kinds: one entry per AlertKind"
    for kind, definition in ALERT_KINDS.items():
        body = " ".join(named[kind.value].split())
        assert entry_parts_present(body), kind
        for button in definition.buttons:
            label = button.label.split("{")[0].strip()  # "Re-add as {new}" is shown as "Re-add as new@..."
            assert f"*{label}" in body, f"{kind}: the entry does not name its button {button.label!r}"
        if not definition.buttons:
            assert "No button" in body, f"{kind} has no button: the entry says so"


def test_the_runbook_has_one_entry_per_result_and_run_status() -> None:
    entries = dict(section(OPERATIONS, "Results"))
    named = {m.group(1): body for title, body in entries.items() if (m := re.fullmatch(r"`(\w+)`", title))}
    wanted = {s.value for s in TargetStatus} | {s.value for s in RunStatus}
    assert wanted <= set(named), f"docs/operations.md#results lacks {sorted(wanted - set(named))}"
    assert set(named) <= wanted, f"entries for results the code does not have: {sorted(set(named) - wanted)}"
    for name, body in named.items():
        assert entry_parts_present(body) or "**Check** and **Do**" in body, name


def test_every_link_in_the_docs_lands() -> None:
    for relative in ("README.md", "docs/operations.md", "docs/architecture.md", "docs/glossary.md"):
        path = ROOT / relative
        text = path.read_text(encoding="utf-8")
        for link in links(text):
            if re.match(r"^[a-z]+:", link):
                continue  # an outside address
            target, _, anchor = link.partition("#")
            file = (path.parent / target).resolve() if target else path
            assert file.exists(), f"{relative}: the link {link} names nothing in the repository"
            if anchor and file.suffix == ".md":
                assert anchor in anchors(file.read_text(encoding="utf-8")), f"{relative}: no heading for {link}"


def test_the_readme_says_where_things_live() -> None:
    rows = section(read("README.md"), "Where things live")
    assert rows == [], "a table, not subsections"
    text = read("README.md").split("## Where things live", 1)[1].split("\n## ", 1)[0]
    # every folder of sync_core is a part of the architecture, so each one is linked (its migrations go with
    # the store)
    packages = sorted(f"sync_core/{p.parent.name}" for p in (ROOT / "sync_core").glob("*/__init__.py")
                      if p.parent.name != "migrations")
    assert len(packages) >= 10, packages
    for target in ("docs/architecture.md", "docs/glossary.md", "docs/operations.md", "docs/prometheus-rules.yml",
                   *packages, "bot", "contactsync"):
        assert f"]({target})" in text, target


# --- what the docs name exists -------------------------------------------------------------------------
def setting_names() -> set[str]:
    names = {"PORT"}
    for model in (Settings, BotSettings):
        for name, field in model.model_fields.items():
            alias = field.validation_alias
            choices = getattr(alias, "choices", None)
            names |= {str(c) for c in choices} if choices else {str(alias) if alias else name.upper()}
    prefix = SchedulerSettings.model_config.get("env_prefix", "")
    names |= {f"{prefix}{name}".upper() for name in SchedulerSettings.model_fields}
    return names


ENV_NAME = re.compile(
    r"\b((?:CONTACTSYNC|SLACK)_[A-Z0-9_]*[A-Z0-9]|GOOGLE_APPLICATION_CREDENTIALS|DATABASE_URL)\b(?!_)")


def test_every_setting_the_operator_files_name_exists() -> None:
    known = setting_names()
    assert {"DATABASE_URL", "CONTACTSYNC_LEASE_SECONDS", "CONTACTSYNC_SCHEDULER_MAX_CONCURRENT_RUNS",
            "SLACK_SIGNING_SECRET"} <= known  # the reader works
    for relative in OPERATOR_FILES:
        named = set(ENV_NAME.findall(read(relative)))
        unknown = named - known
        assert not unknown, f"{relative} names settings ContactSync does not read: {sorted(unknown)}"


def cli_commands() -> Any:
    """The CLI as click sees it (typer vendors click: a group has `commands`, a command `params`)."""
    command = typer.main.get_command(app)
    assert "run" in command.commands  # type: ignore[attr-defined]
    return command


def command_lines(text: str) -> Iterator[list[str]]:
    """Each `contactsync ...` command the text shows, as words (inline code and code blocks)."""
    for match in re.finditer(r"(?:^|[`\s])contactsync((?: [^`\n#|]*)+)", text, re.MULTILINE):
        words = match.group(1).split()
        if words:
            yield words


def test_every_command_and_option_the_docs_name_exists() -> None:
    group = cli_commands()
    checked = 0
    for relative in ("docs/operations.md", "docs/architecture.md", "docs/glossary.md"):
        for words in command_lines(read(relative)):
            command = group
            path = ["contactsync"]
            for word in words:
                if not hasattr(command, "commands") or word.startswith("-"):
                    break
                if word not in command.commands:
                    break
                command = command.commands[word]
                path.append(word)
            if command is group:
                continue  # prose ("contactsync serve" is a command; "ContactSync posts" is not code)
            options = {opt for param in command.params for opt in getattr(param, "opts", [])}
            options |= {opt for param in command.params for opt in getattr(param, "secondary_opts", [])}
            for word in words:
                flag = word.split("=")[0].rstrip(".,;:)")
                if flag.startswith("--"):
                    assert flag in options, f"{relative}: `{' '.join(path)}` has no option {flag}"
            checked += 1
    assert checked >= 10


def product_names() -> set[str]:
    """Every class, function and module-level name the product defines."""
    names: set[str] = set()
    for package in PRODUCT:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                    names.add(node.name)
                elif isinstance(node, ast.Assign):
                    names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
                elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                    names.add(node.target.id)
    return names


CODE = re.compile(r"`([^`\n]+)`")


def test_every_module_and_name_the_architecture_and_glossary_cite_exists() -> None:
    rules = yaml.safe_load(read("docs/prometheus-rules.yml"))
    defined = product_names() | {rule["alert"] for group in rules["groups"] for rule in group["rules"]}
    for relative, text in (("docs/architecture.md", ARCHITECTURE), ("docs/glossary.md", GLOSSARY),
                           ("docs/operations.md", OPERATIONS)):
        for code in CODE.findall(text):
            first = code.split()[0] if code.split() else ""
            if re.fullmatch(r"(?:sync_core|bot|contactsync|tests|emulator|slack_double)/[\w/.]*", first):
                assert (ROOT / first).exists() or (ROOT / "sync_core" / first).exists(), f"{relative}: {first}"
            elif re.fullmatch(r"(?:google|store|kinds|service|migrations|listeners|blocks)/[\w/.]*", first):
                under = [ROOT / "sync_core" / first, ROOT / "bot" / first]
                assert any(p.exists() for p in under), f"{relative}: {first} is no module of sync_core or bot"
            for name in re.findall(r"\b([A-Z][a-z]+[A-Z]\w*|[A-Z]+_[A-Z_]+)\b", code):
                if name.startswith(("CONTACTSYNC_", "SLACK_", "GOOGLE_", "DATABASE_", "EXPIRED_", "FAILED_",
                                    "RESOURCE_", "DIRECTORY_")):
                    continue  # settings (checked above) and Google's own words
                assert name in defined, f"{relative} names `{name}`, which the product does not define"


def test_the_architecture_has_its_sections_and_one_diagram() -> None:
    titles = [title for level, title in headings(ARCHITECTURE) if level == 2]
    for wanted in ("Layers and the direction of knowledge", "A run, from trigger to record", "Ownership tags",
                   "Leases and heartbeats", "Quota pacing", "Google's limits", "Alerts"):
        assert wanted in titles, wanted
    assert ARCHITECTURE.count("```mermaid") == 1
    diagram = ARCHITECTURE.split("```mermaid", 1)[1].split("```", 1)[0]
    assert diagram.strip().startswith("flowchart")
    for step in ("schedule", "watch", "Slack", "CLI", "SyncEngine", "source", "targets", "records", "alerts"):
        assert step.lower() in diagram.lower(), step


def test_googles_limits_in_the_architecture_are_the_codes() -> None:
    limits = ARCHITECTURE.split("## Google's limits", 1)[1].split("\n## ", 1)[0]
    for metric in Metric:
        row = next((line for line in limits.splitlines() if line.startswith(f"| {metric.value} |")), None)
        assert row is not None, f"no row for {metric.value}"
        default = row.split("|")[2].strip()
        assert default.split()[0].replace(",", "") == str(DEFAULT_LIMITS[metric]), (metric, default)
    for method, cost in METHOD_COSTS.items():
        short = method.split(".", 1)[1] if method.startswith("people.") else method
        assert short.split(".")[-1] in limits, f"{method} is not in the cost table"
        for metric, units in cost.items():
            row = next(line for line in limits.splitlines() if line.startswith(f"| {metric.value} |"))
            assert f": {units}" in row, f"{method} costs {units} {metric.name}: the table does not say so"


def test_the_glossary_lists_names_to_unify_without_renaming_code() -> None:
    to_unify = GLOSSARY.split("## To be unified", 1)[1]
    assert "`job` / `sync`" in to_unify or "job / sync" in to_unify
    defined = product_names()
    # Unified since: one name each, and the glossary no longer lists them as to be unified.
    for gone, kept in (("UnknownJob", "JobNotFound"), ("DraftStore", "DraftBook"), ("SyncJobPublic", "SyncJob"),
                       ("sync_all", "follow_schedules")):
        assert gone not in defined and kept in defined, gone
        assert gone not in GLOSSARY and kept in GLOSSARY.split("## To be unified", 1)[0], gone
    for concept in ("job", "source", "target", "selector", "target kind", "run", "trigger", "lease", "slot",
                    "watch", "link", "tag", "draft", "alert", "deletion guard"):
        assert re.search(rf"\| \*\*{re.escape(concept)}\*\*", GLOSSARY), concept


def test_the_readmes_synced_fields_are_the_field_tables() -> None:
    readme = " ".join(read("README.md").split())
    assert f"Synced fields: {synced_fields_sentence()} (sent again only when it changes)." in readme


# --- nothing points outside the repository ---------------------------------------------------------------
def test_nothing_in_the_repository_cites_design_notes_outside_it() -> None:
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True,
                           text=True, check=True).stdout.split()
    if not files:
        pytest.skip("not a git checkout")
    # Spelled in parts, so this file does not cite them itself.
    outside = ("../" + "shared", "/".join(["shared", ""]), ".".join(["google-facts", "md"]), ".".join(["design", "md"]))
    cited = []
    for name in files:
        path = ROOT / name
        if path.suffix not in {".py", ".md", ".yml", ".yaml", ".toml", ".ini", ".cfg"} or not path.is_file():
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            if any(needle in line for needle in outside):
                cited.append(f"{name}:{number}: {line.strip()[:100]}")
    assert not cited, "cite docs/ instead:\n" + "\n".join(cited)
