"""Fixtures of the integration tests; the helpers they use are in tests/integration/helpers.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from sync_core.runtime import Runtime
from tests.conftest import Google

from .helpers import make_runtime


@pytest.fixture
def rt(google: Google, tmp_path: Path) -> Runtime:
    """A runtime on the emulator and a fresh SQLite database."""
    return make_runtime(google, f"sqlite:///{tmp_path / 'cs.db'}")
