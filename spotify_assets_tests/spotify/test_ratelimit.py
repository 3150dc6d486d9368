"""The shared rate limiter, on a simulated clock: pauses, learned pace, settling, ceiling."""

from __future__ import annotations

import threading

import pytest

from spotify_assets.spotify.ratelimit import RateLimiter


class FakeClock:
    """A clock that only moves when someone sleeps on it."""

    def __init__(self) -> None:
        self.now = 100.0
        self.lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.now += seconds


def limiter(clock: FakeClock, max_rate: float | None = None) -> RateLimiter:
    return RateLimiter(max_rate, clock=clock, sleep=clock.sleep)


def test_unpaced_until_the_first_429() -> None:
    clock = FakeClock()
    rl = limiter(clock)
    start = clock.now
    for _ in range(100):
        rl.acquire()
    assert clock.now == start
    assert rl.rate is None


def test_a_429_pauses_for_retry_after_and_learns_what_the_api_let_through() -> None:
    clock = FakeClock()
    rl = limiter(clock)
    for _ in range(20):
        rl.acquire()
        clock.sleep(0.01)
        rl.on_accepted()
    assert rl.on_rate_limited(1.0) == 1.0
    assert rl.rate == pytest.approx(20 / 1.2)
    start = clock.now
    rl.acquire()
    assert clock.now - start == pytest.approx(1.0)


def test_429s_during_a_pause_extend_it_without_learning_twice() -> None:
    clock = FakeClock()
    rl = limiter(clock)
    for _ in range(10):
        rl.on_accepted()
    clock.sleep(1.0)
    rl.on_rate_limited(2.0)
    learned = rl.rate
    assert rl.on_rate_limited(1.0) == 0.0
    assert rl.on_rate_limited(5.0) == pytest.approx(3.0)
    assert rl.rate == learned
    start = clock.now
    rl.acquire()
    assert clock.now - start == pytest.approx(5.0)


def test_pacing_spaces_requests_and_recovers_towards_the_quota() -> None:
    clock = FakeClock()
    rl = limiter(clock)
    for _ in range(10):
        rl.on_accepted()
    clock.sleep(1.0)
    rl.on_rate_limited(1.0)
    rl.acquire()
    before = clock.now
    rl.acquire()
    assert clock.now - before == pytest.approx(1 / 5.0, rel=0.01)
    clock.sleep(10.0)
    assert rl.rate == pytest.approx(5.0 * (1 + 0.1 * 10.2 / 2.0), rel=0.01)


def test_a_429_while_paced_backs_off_and_settles() -> None:
    clock = FakeClock()
    rl = limiter(clock)
    rl.on_accepted()
    rl.on_rate_limited(1.0)
    rl.acquire()
    clock.sleep(10.0)
    paced = rl.rate
    assert paced is not None
    rl.on_rate_limited(1.0)
    assert rl.rate == pytest.approx(paced * 0.9)
    settled = rl.rate
    assert settled is not None
    clock.sleep(1.0 + 10.0)
    grown = rl.rate
    assert grown is not None
    assert settled < grown < settled * 1.06


def test_a_ceiling_paces_from_the_start_and_is_never_exceeded() -> None:
    clock = FakeClock()
    rl = limiter(clock, max_rate=4.0)
    start = clock.now
    for _ in range(41):
        rl.acquire()
    assert clock.now - start == pytest.approx(10.0)
    rl.on_rate_limited(1.0)
    clock.sleep(3600)
    assert rl.rate is not None
    assert rl.rate <= 4.0


def test_threads_share_one_pace() -> None:
    clock = FakeClock()
    rl = limiter(clock, max_rate=10.0)
    start = clock.now

    def ten_requests() -> None:
        for _ in range(10):
            rl.acquire()

    threads = [threading.Thread(target=ten_requests) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert clock.now - start == pytest.approx(3.9, abs=0.11)
