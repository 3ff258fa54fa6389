"""The README's settings tables, generated from the settings classes: each field's environment variable, its
description (the meaning) and its default, one row per setting, between marker comments in README.md:

    <!-- settings:workspace -->  ...the table...  <!-- /settings:workspace -->

`python -m contactsync.settings_doc` rewrites the tables in place; `--check` only says (exit 1) whether they
are out of date. `tests/unit/test_settings_doc.py` fails when a setting has no description or a table is
stale, so a new setting is documented by writing its `description`.

A field goes in its class's table unless its `json_schema_extra` names another (`{"table": "alerts"}`), and
shows its default as the value says it unless `shown_default` words it (`"Google's"`).
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from pydantic import AliasChoices
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings

from bot.settings import BotSettings
from sync_core.scheduling.scheduler import SchedulerSettings
from sync_core.settings import Settings

README = Path(__file__).resolve().parents[1] / "README.md"
# Every settings class, and the table its fields go in by default.
CLASSES: tuple[tuple[type[BaseSettings], str], ...] = (
    (Settings, "workspace"),
    (BotSettings, "slack"),
    (SchedulerSettings, "alerts"),
)
TABLES = ("workspace", "slack", "alerts")
HEADER = "| variable | meaning | default |\n|---|---|---|"


@dataclass(frozen=True)
class Row:
    variable: str
    meaning: str
    default: str
    table: str

    def markdown(self) -> str:
        cells = (f"`{self.variable}`", self.meaning, self.default)
        return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


class Undocumented(Exception):
    """A setting without a description: the README could not say what it means."""


def variable(name: str, field: FieldInfo, model: type[BaseSettings]) -> str:
    """The environment variable that sets `name`: its alias, else the class's prefix and its name."""
    alias = field.validation_alias
    if isinstance(alias, AliasChoices):
        alias = alias.choices[0]
    if isinstance(alias, str):
        return alias
    return f"{model.model_config.get('env_prefix', '')}{name}".upper()


def shown_default(field: FieldInfo) -> str:
    """The default as the table shows it: `—` for none, numbers as written (60, not 60.0), text quoted."""
    extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
    if "shown_default" in extra:
        return str(extra["shown_default"])
    value = field.default
    if value is None or value in ("", ()):
        return "—"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str):
        return f"`{value}`"
    return str(value)


def rows(classes: tuple[tuple[type[BaseSettings], str], ...] | None = None) -> list[Row]:
    """Every setting of `classes` (else `CLASSES`), in class and field order; `Undocumented` names those
    without a description."""
    found, missing = [], []
    for model, table in classes if classes is not None else CLASSES:
        for name, field in model.model_fields.items():
            extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
            env = variable(name, field, model)
            if not (field.description or "").strip():
                missing.append(env)
                continue
            found.append(Row(env, field.description or "", shown_default(field), str(extra.get("table", table))))
    if missing:
        raise Undocumented(f"settings without a description (the README's meaning): {', '.join(missing)}")
    return found


def render(table: str, all_rows: list[Row] | None = None) -> str:
    """The markdown table `table`."""
    chosen = [row for row in (all_rows if all_rows is not None else rows()) if row.table == table]
    return "\n".join([HEADER, *(row.markdown() for row in chosen)])


def _block(table: str) -> re.Pattern[str]:
    return re.compile(rf"(<!-- settings:{table} -->\n).*?(<!-- /settings:{table} -->)", re.DOTALL)


def updated(text: str, all_rows: list[Row] | None = None) -> str:
    """`text` (the README) with every table between its markers rendered anew; a missing marker pair is a
    `LookupError` naming it."""
    all_rows = all_rows if all_rows is not None else rows()
    for table in TABLES:
        found = _block(table).search(text)
        if found is None:
            raise LookupError(f"README.md has no <!-- settings:{table} --> ... <!-- /settings:{table} --> block")
        text = text[:found.end(1)] + render(table, all_rows) + "\n" + text[found.start(2):]
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m contactsync.settings_doc", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if README.md's tables are out of date")
    parser.add_argument("--readme", type=Path, default=README)
    args = parser.parse_args(argv)
    try:
        current = args.readme.read_text(encoding="utf-8")
        fresh = updated(current)
    except (Undocumented, LookupError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if fresh == current:
        print(f"{args.readme.name}: the settings tables are up to date")
        return 0
    if args.check:
        print(f"{args.readme.name}: the settings tables are out of date; run python -m contactsync.settings_doc",
              file=sys.stderr)
        return 1
    args.readme.write_text(fresh, encoding="utf-8")
    print(f"{args.readme.name}: settings tables rewritten")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
