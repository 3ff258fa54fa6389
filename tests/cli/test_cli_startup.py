"""The CLI answers help, --version and usage errors at once: importing it loads no database, migration,
Google or engine module (they come with the commands that use them). Structural, not timed: each case runs
in a fresh interpreter and lists the heavy modules it loaded."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# What `import contactsync.cli` must not pull in: the store's, the migrations', Google's and the engine's.
HEAVY = ("sqlalchemy", "sqlmodel", "alembic", "googleapiclient", "google.auth", "sync_core.run.engine",
         "sync_core.service", "sync_core.store")
# ...and what help and a usage error must not need either: rich (typer's boxed help) and pydantic (typer's
# value coercion), each a fifth of a second of CPU or more.
HELP_HEAVY = (*HEAVY, "rich", "pydantic")


def loaded_after(code: str, watched: tuple[str, ...]) -> list[str]:
    """The modules of `watched` loaded once `code` ran in a fresh interpreter (a SystemExit is fine)."""
    script = (
        "import json, sys\n"
        f"try:\n    exec({code!r})\nexcept SystemExit:\n    pass\n"
        f"print(json.dumps([m for m in {list(watched)!r} if m in sys.modules]))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    return list(json.loads(done.stdout.strip().splitlines()[-1]))


def test_importing_the_cli_loads_no_database_google_or_engine_module() -> None:
    assert loaded_after("import contactsync.cli", HEAVY) == []


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["jobs", "--help"],
        ["jobs", "edit", "--help"],
        ["run", "--help"],
        ["--version"],
        ["jobs", "show"],  # a missing argument
        ["jobs", "create", "--name", "X"],  # a missing option
        ["run", "X", "--bogus"],  # an unknown option
        ["jobs", "nope"],  # an unknown command
    ],
)
def test_help_version_and_usage_errors_load_nothing_heavy(args: list[str]) -> None:
    code = f"from contactsync.cli import app\napp({args!r}, prog_name='contactsync')"
    assert loaded_after(code, HELP_HEAVY) == []
