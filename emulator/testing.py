"""`running_emulator`: a started emulator with a fresh service-account key file, for tests and demos."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .control import EmulatorControl
from .core import Workspace
from .keys import generate_key, register_key
from .quota import QuotaConfig
from .server import EmulatorServer


@dataclass
class EmulatorHandle:
    url: str
    credentials_file: Path
    ws: Workspace
    control: EmulatorControl
    service_account_email: str
    server: EmulatorServer


@contextmanager
def running_emulator(
    ws: Workspace,
    directory: Path,
    *,
    scopes: list[str] | None = None,
    latency_ms: int = 0,
    quotas: QuotaConfig | None = None,
) -> Iterator[EmulatorHandle]:
    """Start an emulator on a free port; `scopes` are the delegated scopes granted (None = all).

    `quotas`: None enforces no People quota; `QuotaConfig.google(window_seconds=2)` Google's limits over
    a short window (or move the emulated clock: `handle.control.advance_clock(60)` slides the window)."""
    key = generate_key()
    register_key(ws, key, scopes)
    server = EmulatorServer(ws, latency_ms=latency_ms, quotas=quotas)
    credentials_file = key.write(Path(directory) / "service-account.json", server.url + "/token")
    with server:
        yield EmulatorHandle(
            server.url, credentials_file, ws, EmulatorControl(server.url), key.client_email, server
        )
