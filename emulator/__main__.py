"""Run the emulator: `python -m emulator --port 8085 --state FILE.json [--seed] [--latency-ms N]
[--credentials-out PATH] [--save] [--quotas google|off] [--quota-window SECONDS] [--quota LIMIT=N ...]`.

A standalone emulator enforces Google's People quotas by default, so it behaves like Google."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from .core import Workspace
from .gc_tuning import tune_gc
from .keys import generate_key, register_key
from .quota import METRICS, QuotaConfig, parse_limit_override
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
    parser.add_argument(
        "--quotas",
        choices=("google", "off"),
        default="google",
        help="enforce Google's per-user People API quotas (default) or nothing",
    )
    parser.add_argument(
        "--quota-window",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="the quota window; a quota day is 1440 windows",
    )
    parser.add_argument(
        "--quota",
        action="append",
        default=[],
        metavar="LIMIT=N",
        help=f"override one limit (per window; the daily one per day); LIMIT is one of {', '.join(METRICS)}",
    )
    args = parser.parse_args(argv)
    try:
        args.quota_config = quota_config(args.quotas, args.quota_window, args.quota)
    except ValueError as exc:
        parser.error(str(exc))
    return args


def quota_config(mode: str, window_seconds: float, overrides: list[str]) -> QuotaConfig | None:
    if mode == "off":
        return None
    return QuotaConfig.google(window_seconds, **dict(parse_limit_override(o) for o in overrides))


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
    server = EmulatorServer(ws, args.host, args.port, latency_ms=args.latency_ms, quotas=args.quota_config)
    if args.credentials_out is not None:
        key = generate_key()
        register_key(ws, key)
        key.write(args.credentials_out, server.url + "/token")
        print(f"credentials: {args.credentials_out} ({key.client_email})", flush=True)
    tune_gc()  # after loading: the tenant is long-lived
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    server.start()
    quotas = "off" if args.quota_config is None else f"google, {args.quota_config.window_seconds:g}s window"
    print(f"emulator listening on {server.url} (People quotas: {quotas})", flush=True)
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
