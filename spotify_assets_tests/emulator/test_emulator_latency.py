"""The emulator adds no latency of its own: no 40 ms delayed-ACK stall on keep-alive requests."""

# Uvicorn writes headers and body as two writes; without TCP_NODELAY the second waits for the ACK
# of the first, which a keep-alive client delays by up to 40 ms. Small bodies (a 1-item page, a
# 401) are where that shows, so that is what these tests send, all on one connection.

from __future__ import annotations

import statistics
import time

import pytest

from spotify_assets_tests.conftest import EmulatorFactory

from .helpers import Api

REQUESTS = 30
STALL_S = 0.040
"""What a delayed ACK adds to every request; the bounds below sit well clear of it, so only a
stall (not a busy machine) fails them."""


def _timings(api: Api, path: str, query: dict[str, str], token: str | None = None) -> list[float]:
    """Seconds taken by REQUESTS sequential requests on one keep-alive session."""
    api.get(path, query, token=token)  # connect and fetch the token first
    timings = []
    for _ in range(REQUESTS):
        started = time.perf_counter()
        response = api.get(path, query, token=token)
        timings.append(time.perf_counter() - started)
        assert response.status_code in (200, 401)
    return timings


@pytest.mark.parametrize(
    ("path", "params"),
    [("/browse/new-releases", {"limit": "1"}), ("/search", {"q": "tag:new", "type": "album"})],
)
def test_keep_alive_requests_do_not_stall(api: Api, path: str, params: dict[str, str]) -> None:
    timings = _timings(api, path, params)
    assert statistics.median(timings) < STALL_S * 0.75, timings
    assert api.emulator.stats()["api_requests"] == REQUESTS + 1


def test_small_error_bodies_do_not_stall(api: Api) -> None:
    timings = _timings(api, "/browse/new-releases", {}, token="unknown")
    assert statistics.median(timings) < STALL_S * 0.75, timings


def test_injected_latency_is_the_latency(emulator_factory: EmulatorFactory) -> None:
    api = Api(emulator_factory(latency_ms=40))
    timings = _timings(api, "/browse/new-releases", {"limit": "1"})
    assert min(timings) >= 0.040
    assert statistics.median(timings) < 0.040 + STALL_S * 0.75, timings
    api.close()
