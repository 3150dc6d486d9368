"""The pacer against a simulated rolling-window server: cold and warm runs, quota changes,
ceiling, halt, and the saved pace. Simulated time only; every run prints its figures."""

from __future__ import annotations

import json
import threading
import time

import pytest

from spotify_assets.spotify import ClientConfig, SpotifyConfigError
from spotify_assets.spotify.pacing import (
    ASSUMED_WINDOW_S,
    MAX_WINDOW_S,
    LearnedPace,
    Pacer,
    PacingLimits,
    RateLimited,
)
from spotify_assets_tests.spotify.rolling_sim import Outcome, Scenario, simulate

# The benchmark's cases: a first phase one request at a time (paging the new releases), then 16
# workers; and the same without that phase, with latency jitter.
CASES = {
    "20/1s": (Scenario(20, 1.0, 405, 0.01, sequential=31), 1.3),
    "60/10s": (Scenario(60, 10.0, 242, 0.01, sequential=21), 1.1),
    "90/30s": (Scenario(90, 30.0, 245, 0.05, sequential=21), 1.1),
    "20/1s jitter": (Scenario(20, 1.0, 405, 0.01, jitter=0.9), 1.3),
    "60/10s jitter": (Scenario(60, 10.0, 226, 0.01, jitter=0.9), 1.1),
    "90/30s jitter": (Scenario(90, 30.0, 225, 0.05, jitter=0.9), 1.1),
}


def report(label: str, scenario: Scenario, outcome: Outcome) -> None:
    """Print a run's figures beside the bound (pytest -s or -rA shows them)."""
    ratio = outcome.duration_s / scenario.bound_s
    print(f"{label}: bound {scenario.bound_s:g} s, {outcome.summary()}, {ratio:.3f} x bound")


@pytest.mark.parametrize(("scenario", "slack"), CASES.values(), ids=CASES.keys())
def test_a_cold_run_learns_the_window_with_one_round_of_429s(
    scenario: Scenario, slack: float
) -> None:
    cold = simulate(scenario)
    report("cold", scenario, cold)
    # When the window first fills in the one-at-a-time phase, that lone 429 cannot be told from
    # a spurious one: it teaches nothing, and the next fill (all workers in flight) teaches.
    # Once the pace has held a window, one quota probe over it is refused and confirms it (if
    # the run lasts that long: 90/30 s is over before its third window fills).
    lone_first = scenario.quota < scenario.sequential
    first = min(cold.limited_at)
    round_s = 1.0 + lone_first * 2 * scenario.window_s
    later = [t for t in cold.limited_at if t - first >= round_s]
    assert len(cold.limited_at) - len(later) <= scenario.workers + lone_first
    assert len(later) <= 1 and all(t - first >= scenario.window_s for t in later)
    assert cold.duration_s <= slack * scenario.bound_s
    pace = cold.pacer.pace
    assert pace is not None and pace.confirmed == bool(later)
    assert cold.pacer.to_remember is not None
    assert pace.quota == scenario.quota
    assert scenario.window_s <= pace.window_s <= scenario.window_s * 1.05
    assert cold.pacer.requests_per_second == pytest.approx(pace.quota / pace.window_s)
    assert 0 < cold.pacer.waited_s < cold.duration_s


@pytest.mark.parametrize(("scenario", "slack"), CASES.values(), ids=CASES.keys())
def test_a_warm_run_starts_at_the_saved_pace(scenario: Scenario, slack: float) -> None:
    learned = simulate(scenario).pacer.pace
    assert learned is not None
    warm = simulate(scenario, learned=LearnedPace.from_json(learned.to_json()))
    report("warm", scenario, warm)
    assert len(warm.limited_at) <= 2
    assert warm.duration_s <= slack * scenario.bound_s
    assert len(warm.sent_at) == scenario.requests + len(warm.limited_at)


@pytest.mark.parametrize(
    "scenario",
    [
        Scenario(20, 1.0, 405, 0.01, quota_change=(5.0, 10)),
        Scenario(60, 10.0, 400, 0.01, quota_change=(25.0, 30)),
        Scenario(90, 30.0, 400, 0.05, quota_change=(45.0, 45)),
    ],
    ids=["20/1s to 10", "60/10s to 30", "90/30s to 45"],
)
def test_a_quota_that_drops_mid_run_is_relearned(scenario: Scenario) -> None:
    assert scenario.quota_change is not None
    changed_at, quota = scenario.quota_change
    run = simulate(scenario)
    report("quota drop", scenario, run)
    after = [t for t in run.limited_at if t >= changed_at]
    assert 0 < len(after) <= 2 * scenario.workers
    # All within three windows, but for at most one probe confirming the relearned pace.
    assert sorted(after)[-2] < changed_at + 3 * scenario.window_s
    relearned = run.pacer.pace
    assert relearned is not None
    assert relearned.quota == quota


def test_a_quota_that_rises_keeps_the_learned_pace_without_429s() -> None:
    run = simulate(Scenario(60, 10.0, 400, 0.01, quota_change=(25.0, 90)))
    # The first round, and at most the probe that tests the pace after it held a window (none
    # when the first pause took a 429 per worker).
    assert max(run.limited_at) < 25.0 and len([t for t in run.limited_at if t > 1.0]) <= 1
    assert run.pacer.pace is not None
    assert run.pacer.pace.quota == 60


@pytest.mark.parametrize("ceiling", [15.0, 25.0], ids=["below the quota", "above the quota"])
def test_the_ceiling_is_never_exceeded(ceiling: float) -> None:
    scenario = Scenario(20, 1.0, 200, 0.01)
    run = simulate(scenario, max_requests_per_second=ceiling)
    report(f"ceiling {ceiling:g}/s", scenario, run)
    gaps = [later - earlier for earlier, later in zip(run.sent_at, run.sent_at[1:], strict=False)]
    assert min(gaps) >= 1 / ceiling - 1e-9
    # One request at a time cannot show a filled window: two lone 429s at the same count set
    # the pace, and a refused probe one over it confirms it.
    assert len(run.limited_at) <= (0 if ceiling < scenario.quota else 3)
    if ceiling > scenario.quota:
        assert run.pacer.pace is not None and run.pacer.pace.quota == scenario.quota


def test_retry_after_left_out_assumes_the_documented_30_s_window() -> None:
    scenario = Scenario(60, 10.0, 226, 0.01, retry_after="absent")
    run = simulate(scenario)
    report("no Retry-After", scenario, run)
    # The first pause spends at most one 429 per worker, its probes included; a window probe
    # beyond them waits for three assumed windows held, and the run is over by then.
    assert len(run.limited_at) <= scenario.workers
    assert run.duration_s <= 3 * ASSUMED_WINDOW_S + 1.0
    # The run ends before the pace could be tested: it is remembered, untested, for the next.
    pace = run.pacer.pace
    assert pace is not None and (pace.quota, pace.window_s) == (60, 30.0)
    assert run.pacer.to_remember is not None


def test_halt_stops_waiting_threads_and_later_acquires_at_once() -> None:
    stop = RuntimeError("Spotify's day quota is spent")
    run = simulate(Scenario(90, 30.0, 245, 0.05), halt=(5.0, stop))
    workers = run.errors[:-1]
    assert workers == [stop] * 16
    assert run.stopped_at == [5.0] * 16
    assert max(run.sent_at) < 5.0
    with pytest.raises(RuntimeError, match="day quota"):
        run.pacer.acquire()


def test_halt_wakes_a_thread_waiting_on_the_real_clock() -> None:
    pacer = Pacer(PacingLimits(max_requests_per_second=0.001))
    pacer.acquire()
    raised: list[BaseException] = []

    def second_request() -> None:
        try:
            pacer.acquire()
        except RuntimeError as exc:
            raised.append(exc)

    waiter = threading.Thread(target=second_request)
    waiter.start()
    deadline = time.monotonic() + 5
    while pacer.waited_s == 0 and time.monotonic() < deadline:
        time.sleep(0.001)
    started = time.monotonic()
    stop = RuntimeError("stop")
    pacer.halt(stop)
    waiter.join(timeout=5)
    assert not waiter.is_alive()
    assert raised == [stop]
    assert time.monotonic() - started < 1


def limited(retry_after_s: float | None) -> RateLimited:
    """A 429 as the transport reports it, with this Retry-After."""
    return RateLimited("u", "GET /u", "api", retry_after_s, None, "", attempt=1)


class StepClock:
    """A single-thread clock that moves only when the pacer sleeps on it."""

    def __init__(self) -> None:
        self.now = 100.0

    def time(self) -> float:
        """The current fake time."""
        return self.now

    def sleep(self, seconds: float, interrupt: threading.Event) -> None:
        """Jump forward, as if the whole wait had passed."""
        self.now += seconds


def test_429s_of_one_pause_are_waited_out_once() -> None:
    clock = StepClock()
    pacer = Pacer(clock=clock.time, sleep=clock.sleep)
    pacer.acquire()
    pacer.on_rate_limited(limited(30.0))
    clock.now += 0.5
    pacer.on_rate_limited(limited(29.0))
    pacer.on_rate_limited(limited(31.0))
    pacer.acquire()
    assert clock.now == pytest.approx(100.0 + 0.5 + 31.0)
    assert pacer.waited_s == pytest.approx(31.0)


@pytest.mark.parametrize("retry_after", [None, 0.0])
def test_a_429_without_retry_after_pauses_one_second(retry_after: float | None) -> None:
    clock = StepClock()
    pacer = Pacer(clock=clock.time, sleep=clock.sleep)
    pacer.acquire()
    pacer.on_rate_limited(limited(retry_after))
    pacer.acquire()
    assert clock.now == pytest.approx(101.0)
    assert pacer.waited_s == pytest.approx(1.0)


def test_a_retry_after_longer_than_any_window_is_paused_for_but_not_learned() -> None:
    clock = StepClock()
    pacer = Pacer(PacingLimits(max_retry_after_s=100_000), clock=clock.time, sleep=clock.sleep)
    for _ in range(10):
        pacer.acquire()
        pacer.on_accepted()
    pacer.acquire()
    pacer.on_rate_limited(limited(86_400.0))
    pacer.acquire()
    assert clock.now == pytest.approx(100.0 + 86_400.0)
    assert pacer.pace is None
    assert MAX_WINDOW_S < 86_400


def test_learned_pace_round_trips_through_json_and_holds_no_more() -> None:
    for pace in (LearnedPace(90, 30.6, runs=2), LearnedPace(60, 30.0, window_floor_s=12.5)):
        assert LearnedPace.from_json(json.loads(json.dumps(pace.to_json()))) == pace
    assert set(LearnedPace(90, 30.6).to_json()) == {
        "quota",
        "window_s",
        "confirmed",
        "window_floor_s",
        "runs",
    }


def test_an_older_stores_pace_loads_unconfirmed() -> None:
    old = LearnedPace.from_json({"quota": 3, "window_s": 1.01})
    assert old == LearnedPace(3, 1.01, confirmed=False)


@pytest.mark.parametrize(
    "text",
    [
        "",
        {},
        {"quota": 0, "window_s": 30},
        {"quota": 90, "window_s": -1},
        {"quota": 9.5},
        {"quota": 9, "window_s": 30, "window_floor_s": "x"},
    ],
)
def test_a_damaged_saved_pace_is_refused_with_what_to_do(text: object) -> None:
    with pytest.raises(ValueError, match="delete it"):
        LearnedPace.from_json(text)


def test_a_non_positive_ceiling_is_refused() -> None:
    with pytest.raises(SpotifyConfigError, match="max_requests_per_second"):
        ClientConfig("id", "secret", max_requests_per_second=0)
