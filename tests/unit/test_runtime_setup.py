"""What a process does once, when it commits to running syncs (`Runtime.engine`), and what a CLI command that
runs none is spared."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sync_core.google import cooperative
from sync_core.runtime import Runtime
from sync_core.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]


def test_building_the_engine_prepares_the_cooperative_transport(monkeypatch: pytest.MonkeyPatch) -> None:
    prepared: list[bool] = []
    monkeypatch.setattr(cooperative, "prepare", lambda: prepared.append(True))
    runtime = Runtime(load_settings(DATABASE_URL="sqlite://"))
    vars(runtime)["clients"] = object()  # no Google configured: the engine only keeps its clients

    runtime.engine  # noqa: B018 - built on first use
    runtime.engine  # noqa: B018

    assert prepared == [True]


def test_the_cli_imports_no_aiohttp_until_a_process_prepares_to_run_syncs() -> None:
    code = (
        "import sys\n"
        "import contactsync.cli\n"
        "assert 'aiohttp' not in sys.modules, 'the CLI imported aiohttp'\n"
        "from sync_core.google import cooperative\n"
        "cooperative.prepare()\n"
        "assert 'aiohttp' in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
