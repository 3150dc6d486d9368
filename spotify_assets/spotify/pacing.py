"""Paces requests under Spotify's rolling-window rate limit, learning the unpublished quota.

Written by hand: no library learns a rolling-window quota from 429s, and one pacer must hold back
every worker thread (Spotify counts the app's requests, not a thread's).

Assumes: at most Q accepted requests arrive in any W seconds (refused ones do not count), and a
429's Retry-After is the wait until the oldest of them leaves the window, rounded up to seconds.
It does not pace before the first 429 (the worker pool bounds concurrency), but for a ceiling.

Learns from a log of its own requests (sent when `acquire()` returns, answered when reported). A
run starts faster than the quota, so its first 429 comes while the window holds all of the run;
when that pause ends every request sent before it has been answered: Q = those accepted. Retry-
After bounds W: W <= answer of a 429 + Retry-After - send of the first request, W > send of the
429 + Retry-After - 1 - answer of the first request. The whole second between the bounds (plus
`WINDOW_MARGIN`) is W, or the upper bound when none fits. A later 429 means the quota fell: Q
becomes the accepted requests still in the window at that 429, at most Q - 1, so it never loops.

Margins where the arithmetic is uncertain: a request counts from its answer, not its send (its
arrival lies in between, moved by latency and jitter); a window read as whole seconds gets 2%
more, at most 0.1 s; Q counts requests the server surely accepted. A Retry-After absent or 0
pauses 1 s (on a first 429, W is then the documented 30 s); one over `MAX_WINDOW_S` is another
limit: not learned.

Cannot avoid: a cold run's requests in flight when the window first fills (up to the workers)
get a 429. A fractional window is paced as the next whole second. A quota shared with another
client, or a run crawling below the quota for over a window before its first burst, is learned
too low or slow (safe, not fast) until a run starts without the saved pace; a window growing
mid-run lowers the quota by one per 429. The learned quota never rises within a run.
"""

from __future__ import annotations

import heapq
import json
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

DEFAULT_WINDOW_S = 30.0
"""The window Spotify documents; assumed when a first 429 carries no usable Retry-After."""

MAX_WINDOW_S = 120.0
"""A Retry-After longer than this comes from another limit than the rolling window."""

WINDOW_MARGIN = 0.02
"""Share added to a window read as a whole number of seconds, in case it is a little longer..."""
MAX_WINDOW_MARGIN_S = 0.1
"""...but no more than this: each window waited is that much longer, and Spotify documents whole
seconds (30), so on its window a larger margin only costs time (3 windows: 1.5 s at 2%)."""

FALLBACK_PAUSE_S = 1.0
"""How long a 429 without a usable Retry-After pauses every worker."""

Sleep = Callable[[float, threading.Event], object]
"""Waits up to the given seconds, returning early once the event is set (like Event.wait)."""


@dataclass(frozen=True)
class LearnedPace:
    """At most `quota` requests in any `window_s` seconds: what a run learned, for the next run."""

    quota: int
    window_s: float

    def __post_init__(self) -> None:
        """Refuse a pace that cannot be paced by, e.g. a hand-edited or corrupted saved value."""
        if isinstance(self.quota, bool) or not isinstance(self.quota, int) or self.quota < 1:
            raise ValueError(f"A pace needs a whole quota >= 1, not {self.quota!r}")
        if not (isinstance(self.window_s, int | float) and 0 < self.window_s <= MAX_WINDOW_S):
            raise ValueError(f"A pace needs 0 < window_s <= {MAX_WINDOW_S:g}, not {self.window_s}")

    def to_json(self) -> str:
        """A small JSON text to store for the next run (it holds no secret)."""
        return json.dumps({"quota": self.quota, "window_s": self.window_s})

    @classmethod
    def from_json(cls, text: str) -> LearnedPace:
        """Read what `to_json` wrote; a ValueError says what is wrong with the stored text."""
        try:
            data = json.loads(text)
            return cls(quota=data["quota"], window_s=float(data["window_s"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(
                f"The saved pace {text[:100]!r} cannot be read ({exc}); delete it and the next "
                "run learns the pace again."
            ) from exc


@dataclass
class _Request:
    """One request in the log: when it left, when its answer came, whether it was a 429."""

    sent: float
    answered: float | None = None
    refused: bool = False


@dataclass
class _Episode:
    """The 429s of one shared pause: (sent, answered, Retry-After) each, learned from at its end."""

    started: float
    cold: bool
    hits: list[tuple[float, float, float | None]] = field(default_factory=list)


def _counted_until(request: _Request, window_s: float) -> float:
    """Until when a request may still count in the server's window (0 for a refused one)."""
    if request.refused:
        return 0.0
    return (request.answered if request.answered is not None else request.sent) + window_s


def _learn_cold(log: deque[_Request], episode: _Episode) -> LearnedPace | None:
    """The quota and window a run's first 429s reveal, or None when they reveal nothing."""
    accepted = [r for r in log if r.answered is not None and not r.refused]
    accepted = [r for r in accepted if r.sent < episode.started]
    if not accepted:
        return None
    first = min(accepted, key=lambda r: r.sent)
    timed = [(sent, answered, after) for sent, answered, after in episode.hits if after]
    if not timed:
        window = max(DEFAULT_WINDOW_S, episode.started - first.sent)
    else:
        longest = min(answered + after for _, answered, after in timed) - first.sent
        shortest = max(sent + after - 1 for sent, _, after in timed) - (first.answered or 0.0)
        whole = math.floor(longest)
        margin = min(whole * WINDOW_MARGIN, MAX_WINDOW_MARGIN_S)
        window = min(longest, whole + margin) if whole > max(shortest, 0) else longest
    return LearnedPace(len(accepted), math.ceil(min(window, MAX_WINDOW_S) * 1000) / 1000)


def _learn_paced(log: deque[_Request], episode: _Episode, pace: LearnedPace) -> LearnedPace:
    """A lower quota after a 429 the learned pace should have avoided."""
    sent, _, after = min(episode.hits, key=lambda hit: hit[0])
    quota = pace.quota - 1
    if after is not None and after - 1 <= pace.window_s:
        reopens = sent + after - 1
        still_in = [
            r
            for r in log
            if r.answered is not None and not r.refused and r.sent < episode.started
            if _counted_until(r, pace.window_s) > reopens
        ]
        quota = min(quota, len(still_in))
    return LearnedPace(max(1, quota), pace.window_s)


class Pacer:
    """Paces every worker thread under one learned quota (and a ceiling, validated by the
    caller): `acquire()` before each request, then `on_accepted()` for any answer but a 429 or
    `on_rate_limited(retry_after_s)` for a 429; `halt(error)` stops all."""

    def __init__(
        self,
        *,
        max_requests_per_second: float | None = None,
        learned: LearnedPace | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep | None = None,
    ) -> None:
        self._ceiling = max_requests_per_second
        self._pace = learned
        self._clock = clock
        self._interrupt = threading.Event()
        self._sleep: Sleep = sleep or (lambda seconds, interrupt: interrupt.wait(seconds))
        self._lock = threading.Lock()
        self._mine = threading.local()
        self._log: deque[_Request] = deque()
        self._next_send = self._paused_until = self._last_pause = -math.inf
        self._episode: _Episode | None = None
        self._halted: BaseException | None = None
        self._waiting, self._wait_began, self._waited = 0, 0.0, 0.0

    @property
    def pace(self) -> LearnedPace | None:
        """What the pacer has learned (or was given), to store for the next run; None if nothing."""
        with self._lock:
            self._settle(self._clock())
            return self._pace

    @property
    def requests_per_second(self) -> float | None:
        """The pace for progress reports: learned quota per second or ceiling; None if unpaced."""
        with self._lock:
            rates = [self._pace.quota / self._pace.window_s] if self._pace else []
            rates += [self._ceiling] if self._ceiling else []
            return min(rates, default=None)

    @property
    def waited_s(self) -> float:
        """Seconds so far during which the pacer held back at least one worker (pauses included):
        the run's waiting on the rate limit, counted once however many threads waited."""
        with self._lock:
            ongoing = self._clock() - self._wait_began if self._waiting else 0.0
            return self._waited + ongoing

    def acquire(self) -> None:
        """Block until this thread may send one request; raise the halt error once halted."""
        waiting = False
        try:
            while True:
                with self._lock:
                    if self._halted is not None:
                        raise self._halted
                    now = self._clock()
                    self._settle(now)
                    ready = max(self._paused_until, self._next_send, self._window_opens(now))
                    if ready <= now:
                        self._send(now)
                        return
                    if not waiting:
                        waiting = True
                        self._waiting += 1
                        if self._waiting == 1:
                            self._wait_began = now
                self._sleep(ready - now, self._interrupt)
        finally:
            if waiting:
                with self._lock:
                    self._waiting -= 1
                    if self._waiting == 0:
                        self._waited += self._clock() - self._wait_began

    def on_accepted(self) -> None:
        """Record that this thread's request was answered with anything but a 429."""
        with self._lock:
            self._answer(self._clock(), refused=False)

    def on_rate_limited(self, retry_after_s: float | None) -> None:
        """Record a 429 with its Retry-After (None when absent): pause every worker, learn."""
        with self._lock:
            now = self._clock()
            sent = self._answer(now, refused=True)
            usable = retry_after_s if retry_after_s and 0 < retry_after_s < math.inf else None
            self._paused_until = max(self._paused_until, now + (usable or FALLBACK_PAUSE_S))
            if usable is not None and usable > MAX_WINDOW_S:
                return
            if self._episode is None and sent >= self._last_pause:
                self._episode = _Episode(started=now, cold=self._pace is None)
                self._last_pause = now
            if self._episode is not None:
                self._episode.hits.append((sent, now, usable))

    def halt(self, error: BaseException) -> None:
        """Make every `acquire()` raise `error` from now on, waking the threads waiting in it."""
        with self._lock:
            if self._halted is None:
                self._halted = error
        self._interrupt.set()

    def _answer(self, now: float, *, refused: bool) -> float:
        """Mark this thread's request answered; return when it was sent (now if it never was)."""
        request: _Request | None = getattr(self._mine, "request", None)
        self._mine.request = None
        if request is None:
            return now
        request.answered, request.refused = now, refused
        return request.sent

    def _send(self, now: float) -> None:
        """Log a request leaving now; the thread's unreported last one (a timeout) counts."""
        self._answer(now, refused=False)
        if self._episode is None:
            keep = self._pace.window_s if self._pace else MAX_WINDOW_S
            while self._log and _counted_until(self._log[0], keep) < now:
                self._log.popleft()
        request = _Request(sent=now)
        self._log.append(request)
        self._mine.request = request
        if self._ceiling is not None:
            self._next_send = now + 1.0 / self._ceiling

    def _window_opens(self, now: float) -> float:
        """When the learned quota lets the next request go (-inf when nothing is learned)."""
        if self._pace is None:
            return -math.inf
        counted = (_counted_until(request, self._pace.window_s) for request in self._log)
        until = [t for t in counted if t > now]
        over = len(until) - self._pace.quota
        return -math.inf if over < 0 else heapq.nsmallest(over + 1, until)[-1]

    def _settle(self, now: float) -> None:
        """Once a pause is over (every request sent before it answered), learn from its 429s."""
        episode = self._episode
        if episode is not None and now >= self._paused_until:
            self._episode = None
            if episode.cold:
                self._pace = _learn_cold(self._log, episode)
            elif self._pace is not None:
                self._pace = _learn_paced(self._log, episode, self._pace)
