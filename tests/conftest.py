"""Root fixtures. Database fixtures live in tests/fixtures_db.py (every store test runs on SQLite and
PostgreSQL); Google fixtures give a running emulator over the seeded demo tenant.

`google` enforces no People quota unless parametrized indirectly with a `QuotaConfig`:
  @pytest.mark.parametrize("google", [QuotaConfig.google(window_seconds=2)], indirect=True)
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from emulator.core import Workspace
from emulator.quota import QuotaConfig
from emulator.seed import SeedInfo, seed_workspace
from emulator.testing import EmulatorHandle, running_emulator

pytest_plugins = ["tests.fixtures_db"]


@dataclass
class Google:
    """A running emulator over the seeded tenant, and what the seed put in it."""

    handle: EmulatorHandle
    seed: SeedInfo

    @property
    def ws(self) -> Workspace:
        return self.handle.ws


@pytest.fixture
def google(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Google]:
    quotas: QuotaConfig | None = getattr(request, "param", None)
    ws = Workspace()
    seed = seed_workspace(ws, contacts=60)
    with running_emulator(ws, tmp_path, quotas=quotas) as handle:
        yield Google(handle, seed)
