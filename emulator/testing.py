"""`running_emulator`: a started emulator with a fresh service-account key file, for tests and demos."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .control import EmulatorControl
from .core import Workspace
from .keys import generate_key, register_key
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
    ws: Workspace, directory: Path, *, scopes: list[str] | None = None, latency_ms: int = 0
) -> Iterator[EmulatorHandle]:
    """Start an emulator on a free port; `scopes` are the delegated scopes granted (None = all)."""
    key = generate_key()
    register_key(ws, key, scopes)
    server = EmulatorServer(ws, latency_ms=latency_ms)
    credentials_file = key.write(Path(directory) / "service-account.json", server.url + "/token")
    with server:
        yield EmulatorHandle(
            server.url, credentials_file, ws, EmulatorControl(server.url), key.client_email, server
        )
