"""The service account needs exactly the delegated scopes the README lists, and no more: a sync works with
them alone, and without the contacts scope Google refuses and the refusal says so."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulator.core import Workspace
from emulator.seed import seed_workspace
from emulator.testing import running_emulator
from sync_core.domain.models import RunStatus, RunTrigger
from sync_core.google.errors import Forbidden
from sync_core.settings import GOOGLE_SCOPES_DIRECTORY, GOOGLE_SCOPES_PEOPLE
from tests.conftest import Google

from .helpers import create_job, make_runtime


def test_the_readme_scopes_are_enough(tmp_path: Path) -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    scopes = [*GOOGLE_SCOPES_PEOPLE, *GOOGLE_SCOPES_DIRECTORY]
    assert all(scope in readme for scope in scopes)
    assert all(s.endswith(".readonly") for s in GOOGLE_SCOPES_DIRECTORY)  # the directory is only ever read
    ws = Workspace()
    seed = seed_workspace(ws, contacts=5)
    with running_emulator(ws, tmp_path, scopes=scopes) as handle:
        google = Google(handle, seed)
        rt = make_runtime(google, f"sqlite:///{tmp_path / 'cs.db'}")
        create_job(rt, google, "email:bob@example.com")
        report = rt.engine.run("Partners", trigger=RunTrigger.manual)
        assert report.status is RunStatus.ok, report


def test_without_the_contacts_scope_nothing_is_read_or_written(tmp_path: Path) -> None:
    ws = Workspace()
    seed = seed_workspace(ws, contacts=5)
    with running_emulator(ws, tmp_path, scopes=list(GOOGLE_SCOPES_DIRECTORY)) as handle:
        google = Google(handle, seed)
        rt = make_runtime(google, f"sqlite:///{tmp_path / 'cs.db'}")
        with pytest.raises(Forbidden, match="domain-wide delegation"):
            create_job(rt, google, "email:bob@example.com")  # the source's group cannot even be read
