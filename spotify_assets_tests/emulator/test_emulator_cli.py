"""`python -m spotify_assets.emulator` starts on a free port, says where, and stops cleanly."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest
import requests

from spotify_assets.emulator import EmulatorControl
from spotify_assets.emulator.__main__ import parse_args

LINE = re.compile(
    r"spotify emulator listening on (http://127\.0\.0\.1:(\d+)) "
    r"\(api \1/v1, token \1/api/token\)"
)


def _first_line(process: subprocess.Popen[str], timeout_s: float) -> str:
    """The first stdout line, failing instead of hanging if it never comes."""
    lines: list[str] = []
    assert process.stdout is not None
    stdout = process.stdout
    reader = threading.Thread(target=lambda: lines.append(stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout_s)
    assert lines, "the emulator printed nothing"
    return lines[0]


@pytest.fixture
def cli() -> Iterator[subprocess.Popen[str]]:
    """The emulator CLI in a subprocess on --port 0, development mode, a small catalog."""
    command = [
        sys.executable,
        "-m",
        "spotify_assets.emulator",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
    ]
    command += ["--albums", "12", "--mode", "development", "--rate-limit", "20/1"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_cli_prints_its_address_and_stops_on_signals(
    cli: subprocess.Popen[str], stop_signal: signal.Signals
) -> None:
    line = _first_line(cli, timeout_s=20)
    match = LINE.fullmatch(line.strip())
    assert match, line
    base_url = match.group(1)
    assert int(match.group(2)) > 0
    control = EmulatorControl(base_url)
    assert control.health() == {"status": "ok", "mode": "development", "albums": 12}
    assert control.config()["rate_limit"] == [20, 1.0]
    token = requests.post(
        f"{base_url}/api/token",
        data={"grant_type": "client_credentials"},
        auth=("emulator-client-id", "emulator-client-secret"),
        timeout=5,
    )
    assert token.status_code == 200
    cli.send_signal(stop_signal)
    assert cli.wait(timeout=15) == 0


def test_cli_arguments() -> None:
    config, host, port = parse_args(
        [
            *("--port", "0", "--latency-ms", "5", "--error-rate", "0.1", "--token-ttl-s", "2"),
            *("--client-id", "me", "--client-secret", "s3cret", "--seed", "9"),
        ]
    )
    assert (host, port) == ("127.0.0.1", 0)
    assert (config.latency_ms, config.error_rate, config.token_ttl_s) == (5.0, 0.1, 2.0)
    assert (config.client_id, config.client_secret, config.seed) == ("me", "s3cret", 9)
    assert (config.albums, config.mode, config.rate_limit) == (100, "extended", None)
    with pytest.raises(SystemExit):
        parse_args(["--rate-limit", "fast"])
    with pytest.raises(SystemExit):
        parse_args(["--error-rate", "3"])


def test_cli_arguments_for_quota_feed_days_and_2026_behaviours() -> None:
    config, _, _ = parse_args(
        [
            *("--quota", "500", "--feed-day", "3", "--feed-turnover", "0.2"),
            *("--feed-track-changes", "4", "--search-total", "30000", "--feed-shortfall", "2"),
            *("--app-forbidden", "country", "--auth-errors", "2026", "--rate-limit", "10/2.5"),
        ]
    )
    assert (config.quota, config.feed_day, config.feed_turnover) == (500, 3, 0.2)
    assert (config.feed_track_changes, config.search_total, config.feed_shortfall) == (4, 30000, 2)
    assert (config.app_forbidden, config.auth_errors, config.rate_limit) == (
        "country",
        "2026",
        (10, 2.5),
    )
    defaults = parse_args([])[0]
    assert (defaults.quota, defaults.feed_day, defaults.app_forbidden) == (None, 0, None)
    assert (defaults.rate_limit_retry_after, defaults.lone_429_at) == ("header", ())
    noisy, _, _ = parse_args(["--rate-limit-retry-after", "absent", "--lone-429-at", "10,3"])
    assert (noisy.rate_limit_retry_after, noisy.lone_429_at) == ("absent", (3, 10))
    for bad in (["--rate-limit-retry-after", "never"], ["--lone-429-at", "0"]):
        with pytest.raises(SystemExit):
            parse_args(bad)
    for bad in (["--rate-limit", "5/90"], ["--feed-turnover", "2"], ["--app-forbidden", "x"]):
        with pytest.raises(SystemExit):
            parse_args(bad)
