"""The README's settings tables are generated from the settings classes (`contactsync.settings_doc`): every
setting has a description, every one is in the README, and the README is what the classes say today."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from contactsync import settings_doc
from contactsync.settings_doc import README, Undocumented, main, render, rows, updated

BLOCK = "intro\n<!-- settings:{t} -->\nold\n<!-- /settings:{t} -->\n"


def test_the_readme_tables_are_what_the_settings_classes_say() -> None:
    text = README.read_text(encoding="utf-8")
    assert updated(text) == text, "README.md's settings tables are out of date: run python -m contactsync.settings_doc"


def test_every_setting_is_in_the_readme_once_with_its_meaning_and_default() -> None:
    text = README.read_text(encoding="utf-8")
    tables = "".join(text.split(f"<!-- settings:{t} -->")[1].split(f"<!-- /settings:{t} -->")[0]
                     for t in settings_doc.TABLES)
    every = rows()
    for row in every:
        assert tables.count(f"| `{row.variable}` |") == 1, row.variable
    assert len({row.variable for row in every}) == len(every)
    shown = {row.variable: (row.meaning, row.default) for row in every}
    # the two that were missing, and the bind address
    assert shown["CONTACTSYNC_ADMIN_CACHE_SECONDS"] == (
        "how long a read of that user group's members is trusted, in seconds", "300")
    assert shown["CONTACTSYNC_HOST"][1] == "`0.0.0.0`"
    assert shown["CONTACTSYNC_SCHEDULER_WATCH_SECONDS"][1] == "60"  # a float default shown as written
    assert shown["CONTACTSYNC_GOOGLE_API_ENDPOINT"][1] == "Google's"  # a worded default
    assert shown["CONTACTSYNC_DELETION_GUARD_SHARE"] == (
        "deletions are held when the source (or the target set) loses more than this share at once (1: never)",
        "0.5")


class Partial(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DEMO_")

    documented: int = Field(3, description="a setting with a | in its meaning")
    undocumented: float = Field(1.5)


def test_a_setting_without_a_description_fails_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(Undocumented, match="DEMO_UNDOCUMENTED$"):
        rows(((Partial, "workspace"),))
    monkeypatch.setattr(settings_doc, "CLASSES", ((Partial, "workspace"),))
    assert main(["--check"]) == 2


def test_a_table_is_rendered_one_row_a_setting_between_its_markers() -> None:
    class Demo(BaseSettings):
        alpha: float = Field(60.0, validation_alias="ALPHA", description="a | b")
        beta: str | None = Field(None, validation_alias="BETA", description="beta",
                                 json_schema_extra={"table": "slack"})

    found = rows(((Demo, "workspace"),))
    assert render("workspace", found).splitlines()[2:] == ["| `ALPHA` | a \\| b | 60 |"]
    assert render("slack", found).splitlines()[2:] == ["| `BETA` | beta | — |"]
    text = "".join(BLOCK.format(t=t) for t in settings_doc.TABLES)
    assert "| `ALPHA` |" in updated(text, found) and "old" not in updated(text, found)
    with pytest.raises(LookupError, match="settings:alerts"):
        updated(BLOCK.format(t="workspace") + BLOCK.format(t="slack"), found)


def test_the_command_rewrites_a_stale_readme_and_check_says_so(tmp_path: Path) -> None:
    stale = tmp_path / "README.md"
    fresh = README.read_text(encoding="utf-8")
    stale.write_text(fresh.replace("| `PORT` | HTTP port | 3000 |\n", ""), encoding="utf-8")
    assert main(["--check", "--readme", str(stale)]) == 1
    assert main(["--readme", str(stale)]) == 0
    assert stale.read_text(encoding="utf-8") == fresh
    assert main(["--check", "--readme", str(stale)]) == 0
