"""Run the emulator: `python -m emulator --port 8085 --state FILE.json [--seed] [--latency-ms N]
[--credentials-out PATH] [--save]`."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from .core import Workspace
from .keys import generate_key, register_key
from .server import EmulatorServer


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m emulator", description="Google Workspace emulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8085)
    parser.add_argument("--state", type=Path, help="state JSON to load if it exists")
    parser.add_argument("--seed", action="store_true", help="seed the demo tenant when no state file exists")
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument("--credentials-out", type=Path, help="write a service-account key file here")
    parser.add_argument("--save", action="store_true", help="write the state back to --state on exit")
    return parser.parse_args(argv)


def load_workspace(state: Path | None, seed: bool) -> Workspace:
    if state is not None and state.exists():
        return Workspace.load(state)
    ws = Workspace()
    if seed:
        from .seed import seed_workspace

        seed_workspace(ws)
    return ws


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    ws = load_workspace(args.state, args.seed)
    server = EmulatorServer(ws, args.host, args.port, latency_ms=args.latency_ms)
    if args.credentials_out is not None:
        key = generate_key()
        register_key(ws, key)
        key.write(args.credentials_out, server.url + "/token")
        print(f"credentials: {args.credentials_out} ({key.client_email})", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    server.start()
    print(f"emulator listening on {server.url}", flush=True)
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        if args.save and args.state is not None:
            ws.save(args.state)
            print(f"state saved to {args.state}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
