"""CLI: `python -m spotify_assets.emulator --port 8765 ...` serves until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from spotify_assets.emulator.config import (
    APP_FORBIDDEN_MESSAGES,
    AUTH_ERRORS,
    MODES,
    EmulatorConfig,
    parse_markets,
    parse_rate_limit,
)
from spotify_assets.emulator.server import EmulatorServer


def parse_args(argv: Sequence[str] | None = None) -> tuple[EmulatorConfig, str, int]:
    """Read the command line into (config, host, port)."""
    defaults = EmulatorConfig()
    parser = argparse.ArgumentParser(
        prog="python -m spotify_assets.emulator",
        description="Offline emulator of Spotify's Web API (/v1) and token endpoint (/api/token).",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument("--albums", type=int, default=defaults.albums, help="albums in the feed")
    parser.add_argument("--seed", type=int, default=defaults.seed, help="catalog seed")
    parser.add_argument("--mode", choices=MODES, default=defaults.mode, help="app quota mode")
    parser.add_argument("--latency-ms", type=float, default=defaults.latency_ms)
    parser.add_argument(
        "--rate-limit", type=parse_rate_limit, default=None, metavar="R/W",
        help="at most R accepted requests in any rolling W seconds (default: unlimited)",
    )  # fmt: skip
    parser.add_argument(
        "--error-rate", type=float, default=defaults.error_rate,
        help="fraction of /v1 requests answered 500/502/503, seeded",
    )  # fmt: skip
    parser.add_argument("--token-ttl-s", type=float, default=defaults.token_ttl_s)
    parser.add_argument(
        "--quota", type=int, default=None, metavar="N",
        help="after N authorized API requests every one gets 429 QUOTA_EXCEEDED (default: off)",
    )  # fmt: skip
    parser.add_argument("--feed-day", type=int, default=defaults.feed_day, help="day of the feed")
    parser.add_argument(
        "--feed-turnover", type=float, default=defaults.feed_turnover,
        help="share of the feed that is new each day",
    )  # fmt: skip
    parser.add_argument(
        "--feed-track-changes", type=int, default=defaults.feed_track_changes,
        help="albums that gain one track each day",
    )  # fmt: skip
    parser.add_argument(
        "--search-total", type=int, default=None, help="total that search tag:new claims"
    )
    parser.add_argument(
        "--feed-shortfall", type=int, default=defaults.feed_shortfall, metavar="K",
        help="the feed listing holds K albums fewer than its total",
    )  # fmt: skip
    parser.add_argument(
        "--app-forbidden", choices=tuple(APP_FORBIDDEN_MESSAGES), default=None,
        help="answer every API request 403 as for an app without Premium or country",
    )  # fmt: skip
    parser.add_argument(
        "--auth-errors", choices=AUTH_ERRORS, default=defaults.auth_errors,
        help="401 wording: legacy per-cause messages or the single 2026 one",
    )  # fmt: skip
    parser.add_argument(
        "--markets", type=parse_markets, default=None, metavar="US,SE,DE",
        help="markets albums are sold in: most in all, some in several, one or none; search "
        "with market= lists only the albums sold there (default: Spotify's whole list, "
        "most albums everywhere)",
    )  # fmt: skip
    parser.add_argument("--client-id", default=defaults.client_id)
    parser.add_argument("--client-secret", default=defaults.client_secret)
    args = parser.parse_args(argv)
    try:
        config = EmulatorConfig(
            albums=args.albums,
            seed=args.seed,
            mode=args.mode,
            latency_ms=args.latency_ms,
            rate_limit=args.rate_limit,
            error_rate=args.error_rate,
            token_ttl_s=args.token_ttl_s,
            quota=args.quota,
            feed_day=args.feed_day,
            feed_turnover=args.feed_turnover,
            feed_track_changes=args.feed_track_changes,
            search_total=args.search_total,
            feed_shortfall=args.feed_shortfall,
            app_forbidden=args.app_forbidden,
            auth_errors=args.auth_errors,
            markets=args.markets,
            client_id=args.client_id,
            client_secret=args.client_secret,
        )
    except ValueError as exc:
        parser.error(str(exc))
    return config, args.host, args.port


def main(argv: Sequence[str] | None = None) -> int:
    """Serve until SIGINT or SIGTERM, then stop cleanly and exit 0."""
    config, host, port = parse_args(argv)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    with EmulatorServer(config, host=host, port=port) as emulator:
        print(
            f"spotify emulator listening on {emulator.base_url} "
            f"(api {emulator.api_base_url}, token {emulator.token_url})",
            flush=True,
        )
        while not stop.wait(1.0):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
