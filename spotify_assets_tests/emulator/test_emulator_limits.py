"""Rolling-window rate limits of any length (on a fake clock) and the daily quota."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from spotify_assets_tests.conftest import EmulatorFactory

from .helpers import Api, FakeClock

NEW_RELEASES = "/browse/new-releases"
QUOTA_BODY = {
    "error": {"status": 429, "message": "API rate limit exceeded", "reason": "QUOTA_EXCEEDED"}
}


@pytest.fixture
def clocked(emulator_factory: EmulatorFactory) -> Iterator[Callable[..., tuple[Api, FakeClock]]]:
    """Start emulators whose clock moves only when the test advances it."""
    apis: list[Api] = []

    def start(**config: Any) -> tuple[Api, FakeClock]:
        clock = FakeClock()
        api = Api(emulator_factory(clock=clock, **config))
        apis.append(api)
        return api, clock

    yield start
    for api in apis:
        api.close()


@pytest.mark.parametrize("window_s", [10.0, 30.0])
def test_rolling_window_of_any_length(
    clocked: Callable[..., tuple[Api, FakeClock]], window_s: float
) -> None:
    api, clock = clocked(rate_limit=(3, window_s))
    assert api.token  # the token endpoint is not rate limited
    statuses = []
    for _ in range(3):  # three requests spread over the first 4 seconds
        statuses.append(api.get(NEW_RELEASES, limit=1).status_code)
        clock.advance(2.0)
    assert statuses == [200, 200, 200]
    refused = api.get(NEW_RELEASES, limit=1)  # at t=6 the first (t=0) is still in the window
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == str(int(window_s - 6))
    assert refused.json() == {"error": {"status": 429, "message": "API rate limit exceeded"}}
    clock.advance(window_s - 6 - 0.5)
    assert api.get(NEW_RELEASES).headers["Retry-After"] == "1"  # 0.5 s left, rounded up
    clock.advance(0.5)  # the first request leaves the window: exactly one slot frees up
    assert api.get(NEW_RELEASES).status_code == 200
    assert api.get(NEW_RELEASES).status_code == 429
    clock.advance(2.0)  # the second leaves too
    assert api.get(NEW_RELEASES).status_code == 200
    stats = api.emulator.stats()
    assert (stats["rate_limited"], stats["http_429"]) == (3, 3)
    assert stats["by_status"] == {"200": 6, "429": 3}  # 5 API + 1 token


def test_fractional_window(clocked: Callable[..., tuple[Api, FakeClock]]) -> None:
    api, clock = clocked(rate_limit=(2, 0.25))
    assert [api.get(NEW_RELEASES).status_code for _ in range(3)] == [200, 200, 429]
    clock.advance(0.1)
    refused = api.get(NEW_RELEASES)
    assert (refused.status_code, refused.headers["Retry-After"]) == (429, "1")  # at least 1
    clock.advance(0.15)
    assert [api.get(NEW_RELEASES).status_code for _ in range(3)] == [200, 200, 429]


def test_refused_requests_do_not_extend_the_ban(
    clocked: Callable[..., tuple[Api, FakeClock]],
) -> None:
    api, clock = clocked(rate_limit=(2, 30.0))
    assert [api.get(NEW_RELEASES).status_code for _ in range(2)] == [200, 200]
    retry_after = []
    for _ in range(5):
        clock.advance(5.0)
        retry_after.append(int(api.get(NEW_RELEASES).headers["Retry-After"]))
    assert retry_after == [25, 20, 15, 10, 5]
    clock.advance(5.0)
    assert api.get(NEW_RELEASES).status_code == 200
    api.emulator.configure(rate_limit=None)
    assert api.get(NEW_RELEASES).status_code == 200


def test_quota_refuses_every_api_request_once_spent(
    emulator_factory: EmulatorFactory,
) -> None:
    api = Api(emulator_factory(quota=3))
    album_id = api.emulator.catalog.albums[0].id
    assert api.get(NEW_RELEASES, auth=False).status_code == 401  # not counted: no token
    assert api.get(NEW_RELEASES).status_code == 200
    assert api.get(f"/albums/{album_id}").status_code == 200
    assert api.get("/albums/short").status_code == 400  # authorized: counted, even as a 400
    for path in (NEW_RELEASES, f"/albums/{album_id}/tracks", "/search"):
        refused = api.get(path)
        assert refused.status_code == 429
        assert refused.headers["Retry-After"] == "86400"
        assert refused.json() == QUOTA_BODY
    assert api.new_token()  # the token endpoint keeps working
    stats = api.emulator.stats()
    assert (stats["quota_used"], stats["quota_exceeded"], stats["http_429"]) == (3, 3, 3)
    assert [entry["reason"] for entry in stats["log"] if entry["status"] == 429] == ["quota"] * 3
    api.emulator.configure(quota=1)  # a changed quota starts afresh
    assert [api.get(NEW_RELEASES).status_code for _ in range(2)] == [200, 429]
    api.emulator.reset()  # so does a reset
    api = Api(api.emulator)
    assert [api.get(NEW_RELEASES).status_code for _ in range(2)] == [200, 429]
    api.emulator.configure(quota=None)
    assert api.get(NEW_RELEASES).status_code == 200
    api.close()


def test_quota_counts_requests_the_rate_window_refuses(
    clocked: Callable[..., tuple[Api, FakeClock]],
) -> None:
    api, clock = clocked(rate_limit=(1, 10.0), quota=3)
    assert [api.get(NEW_RELEASES).status_code for _ in range(3)] == [200, 429, 429]
    clock.advance(10.0)
    final = api.get(NEW_RELEASES)
    assert (final.status_code, final.json()) == (429, QUOTA_BODY)
    stats = api.emulator.stats()
    assert (stats["rate_limited"], stats["quota_exceeded"]) == (2, 1)


@pytest.mark.parametrize(("mode", "header"), [("absent", None), ("zero", "0"), ("header", "10")])
def test_rate_limit_429s_carry_retry_after_as_configured(
    clocked: Callable[..., tuple[Api, FakeClock]], mode: str, header: str | None
) -> None:
    api, _ = clocked(rate_limit=(1, 10.0), rate_limit_retry_after=mode)
    assert api.get(NEW_RELEASES).status_code == 200
    refused = api.get(NEW_RELEASES)
    assert refused.status_code == 429
    assert refused.headers.get("Retry-After") == header
    assert refused.json() == {"error": {"status": 429, "message": "API rate limit exceeded"}}
    assert api.emulator.config.to_json()["rate_limit_retry_after"] == mode


def test_lone_429s_at_chosen_requests_without_any_rate_limit(
    emulator_factory: EmulatorFactory,
) -> None:
    api = Api(emulator_factory(lone_429_at=(2, 4)))
    statuses = [api.get(NEW_RELEASES) for _ in range(5)]
    assert [r.status_code for r in statuses] == [200, 429, 200, 429, 200]
    assert statuses[1].headers["Retry-After"] == "1"
    stats = api.emulator.stats()
    assert (stats["lone_429"], stats["rate_limited"], stats["http_429"]) == (2, 0, 2)
    assert api.emulator.config.to_json()["lone_429_at"] == [2, 4]
    api.emulator.configure(lone_429_at=[1], rate_limit_retry_after="absent")  # counts afresh
    refused = api.get(NEW_RELEASES)
    assert refused.status_code == 429 and "Retry-After" not in refused.headers
    assert api.get(NEW_RELEASES).status_code == 200
    api.emulator.reset()  # so does a reset
    api = Api(api.emulator)
    assert [api.get(NEW_RELEASES).status_code for _ in range(2)] == [429, 200]
    api.close()
