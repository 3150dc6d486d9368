"""A rolling-window server and worker threads on a simulated clock, to test pacing in no real time.

The worker threads are real threads (the pacer is shared by threads in production too), but they
take turns: exactly one runs at a time, and a thread that sleeps hands over to the one due
earliest (ties in a fixed order), so every simulation is deterministic and instant.
"""

from __future__ import annotations

import itertools
import random
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from spotify_assets.emulator.rolling_window import RollingWindow
from spotify_assets.spotify.pacing import (
    LearnedPace,
    PaceMemory,
    Pacer,
    PacingLimits,
    RateLimited,
)

RetryAfter = Literal["header", "absent", "zero"]
"""What the server's 429s carry: Retry-After, none, or `Retry-After: 0`."""


@dataclass
class _Sleeper:
    """A thread waiting for simulated time `due`, or for `interrupt` to be set."""

    due: float
    order: int
    baton: threading.Event
    interrupt: threading.Event | None

    def wakes_at(self, now: float) -> float:
        """When this sleeper should run: at once if interrupted, else when due."""
        return now if self.interrupt is not None and self.interrupt.is_set() else self.due


class SimClock:
    """Simulated time for threads that run one at a time; `time` and `sleep` go to the pacer."""

    def __init__(self) -> None:
        self.now = 0.0
        self._lock = threading.Lock()
        self._sleepers: list[_Sleeper] = []
        self._order = itertools.count()
        self._finished = threading.Event()

    def time(self) -> float:
        """The simulated time in seconds."""
        return self.now

    def sleep(self, seconds: float, interrupt: threading.Event | None = None) -> None:
        """Let `seconds` of simulated time pass (less if `interrupt` is set) while others run."""
        baton = self._enqueue(self.now + max(0.0, seconds), interrupt)
        self._pass_on()
        baton.wait()

    def run(self, targets: Sequence[Callable[[], None]]) -> list[BaseException | None]:
        """Run each target in its own thread from now until all end; return what each raised."""
        errors: list[BaseException | None] = [None] * len(targets)

        def body(index: int, baton: threading.Event) -> None:
            baton.wait()
            try:
                targets[index]()
            except BaseException as exc:
                errors[index] = exc
            finally:
                self._pass_on()

        threads = [
            threading.Thread(target=body, args=(i, self._enqueue(self.now, None)), daemon=True)
            for i in range(len(targets))
        ]
        for thread in threads:
            thread.start()
        self._pass_on()
        if not self._finished.wait(timeout=60):
            raise AssertionError("the simulation stalled: a thread blocked outside SimClock.sleep")
        for thread in threads:
            thread.join()
        return errors

    def _enqueue(self, due: float, interrupt: threading.Event | None) -> threading.Event:
        """Register a sleeper; return the event it waits on for its turn."""
        sleeper = _Sleeper(due, next(self._order), threading.Event(), interrupt)
        with self._lock:
            self._sleepers.append(sleeper)
        return sleeper.baton

    def _pass_on(self) -> None:
        """Wake the sleeper due first, moving time to it; signal the end when nobody is left."""
        with self._lock:
            if not self._sleepers:
                self._finished.set()
                return
            chosen = min(self._sleepers, key=lambda s: (s.wakes_at(self.now), s.order))
            self._sleepers.remove(chosen)
            self.now = max(self.now, chosen.wakes_at(self.now))
        chosen.baton.set()


class RollingServer:
    """At most `quota` accepted arrivals in any `window_s` seconds, like Spotify: the emulator's
    own RollingWindow, answering as the transport sees it.

    Refused requests are not counted; Retry-After is the time until the oldest accepted request
    leaves the window, rounded up to whole seconds and at least 1 (or absent, or 0).
    """

    def __init__(self, quota: int, window_s: float, *, retry_after: RetryAfter = "header") -> None:
        """Admit `quota` requests per `window_s` seconds; send Retry-After as told."""
        self.window = RollingWindow(quota, window_s)
        self.retry_after = retry_after

    def admit(self, now: float) -> tuple[bool, float | None]:
        """Accept (True, None), or refuse with the Retry-After it sends (None when left out)."""
        retry_after = self.window.admit(now)
        if retry_after is None:
            return True, None
        return False, {"header": float(retry_after), "absent": None, "zero": 0.0}[self.retry_after]


@dataclass(frozen=True)
class Scenario:
    """R requests against Q per W seconds: the first `sequential` one by one (like the paging of
    new releases), the rest by `workers` threads; latency each way varies by +-`jitter` of it.
    The requests numbered in `lone_at` (1-based, in order of sending) get a lone 429 with
    `lone_retry_after_s`, whatever the window holds."""

    quota: int
    window_s: float
    requests: int
    latency_s: float
    workers: int = 16
    jitter: float = 0.0
    quota_change: tuple[float, int] | None = None
    retry_after: RetryAfter = "header"
    seed: int = 9
    sequential: int = 0
    lone_at: tuple[int, ...] = ()
    lone_retry_after_s: float | None = 1.0

    @property
    def bound_s(self) -> float:
        """The fastest schedule without a 429: a quota per window, floor((R - 1) / Q) x W."""
        return (self.requests - 1) // self.quota * self.window_s


@dataclass
class Outcome:
    """What a simulated run did: its duration, every send, every 429 (and those the window
    refused, lone ones aside), each request as (sent, arrived, verdict: ok, window or lone),
    the pace after every change, and how the workers ended."""

    duration_s: float
    sent_at: list[float]
    limited_at: list[float]
    pacer: Pacer
    errors: list[BaseException | None] = field(default_factory=list)
    stopped_at: list[float] = field(default_factory=list)
    window_limited_at: list[float] = field(default_factory=list)
    requests: list[tuple[float, float, str]] = field(default_factory=list)
    paces: list[tuple[float, LearnedPace | None]] = field(default_factory=list)

    def summary(self) -> str:
        """One line for the test log: duration, requests, 429s, what was learned."""
        pace = self.pacer.pace
        learned = f"{pace.quota}/{pace.window_s:g} s" if pace else "nothing"
        return (
            f"{self.duration_s:.2f} s, {len(self.sent_at)} requests, "
            f"{len(self.limited_at)} x 429, learned {learned}, waited {self.pacer.waited_s:.2f} s"
        )


def simulate(
    scenario: Scenario,
    *,
    learned: LearnedPace | None = None,
    memory: PaceMemory | None = None,
    max_requests_per_second: float | None = None,
    halt: tuple[float, BaseException] | None = None,
) -> Outcome:
    """Run the scenario's requests through one shared Pacer, as the transport drives it."""
    clock = SimClock()
    server = RollingServer(scenario.quota, scenario.window_s, retry_after=scenario.retry_after)
    pacer = Pacer(
        PacingLimits(max_workers=scenario.workers, max_requests_per_second=max_requests_per_second),
        learned=learned,
        memory=memory,
        clock=clock.time,
        sleep=clock.sleep,
    )
    rng = random.Random(scenario.seed)
    outcome = Outcome(0.0, [], [], pacer)
    remaining = [scenario.requests]

    def travel() -> None:
        clock.sleep(scenario.latency_s * (1 + scenario.jitter * (2 * rng.random() - 1)))

    def worker() -> None:
        try:
            while remaining[0] > 0:
                remaining[0] -= 1
                attempt = 0
                while True:
                    pacer.acquire()
                    sent = clock.now
                    outcome.sent_at.append(sent)
                    number = len(outcome.sent_at)
                    travel()
                    if scenario.quota_change and clock.now >= scenario.quota_change[0]:
                        server.window.requests = scenario.quota_change[1]
                    verdict = "lone"
                    if number in scenario.lone_at:
                        accepted, retry_after = False, scenario.lone_retry_after_s
                    else:
                        accepted, retry_after = server.admit(clock.now)
                        verdict = "ok" if accepted else "window"
                        if not accepted:
                            outcome.window_limited_at.append(clock.now)
                    outcome.requests.append((sent, clock.now, verdict))
                    travel()
                    if accepted:
                        pacer.on_accepted()
                    else:
                        outcome.limited_at.append(clock.now)
                        attempt += 1
                        pacer.on_rate_limited(
                            RateLimited(
                                "sim", "GET /sim", "api", retry_after, None, "", attempt, 10**6
                            )
                        )
                    pace = pacer.pace
                    if not outcome.paces or outcome.paces[-1][1] != pace:
                        outcome.paces.append((clock.now, pace))
                    if accepted:
                        break
                outcome.duration_s = max(outcome.duration_s, clock.now)
        finally:
            outcome.stopped_at.append(clock.now)

    def halter() -> None:
        assert halt is not None
        clock.sleep(halt[0])
        pacer.halt(halt[1])

    if scenario.sequential:
        remaining[0] = scenario.sequential
        outcome.errors = clock.run([worker])
    remaining[0] = scenario.requests - scenario.sequential
    outcome.errors += clock.run([worker] * scenario.workers + ([halter] if halt else []))
    return outcome
