"""Spotify's rate limit in one place: when requests may go, what a 429 means, when it stops the
run, what pace the client learns from it, and what it remembers for the next run.

The policy, in plain words
- Spotify counts an app's requests over a rolling window (30 s, it says) and answers 429 beyond
  a quota it does not publish, normally with a Retry-After. One pacer holds back every worker
  thread, since Spotify counts the app's requests, not a thread's. The transport only reports
  each answer here and does what it is told: send, wait, retry, or raise.
- A 429 pauses every worker: for its Retry-After, or LONE_PAUSE_S when it has none (or 0).
- Some 429s stop the whole client: a Retry-After longer than max_retry_after_s, or a body saying
  QUOTA_EXCEEDED, from the API or from the token endpoint alike. Requests sent during a ban can
  lengthen it, so no worker sends another request and threads waiting in `acquire` (the API)
  or for a token get the error at once. A request that meets more 429s than its patience (two
  for the first request to an endpoint the app may have lost: PROBE_PATIENCE) gives up.
- One 429 is evidence, not proof. The pacer learns a quota only from a window that really
  filled: two or more 429s in one pause (requests in flight together were refused) when the
  server refused what followed the first of them, or the same count of accepted requests at
  two pauses. A pause whose 429s are outnumbered by accepted requests that came after a
  refused one (sent and answered after it, before the pause) is one moment's answer to a
  burst, e.g. a proxy hiccup on a server with no limit: it counts as a lone 429. A lone 429
  costs its pause and teaches nothing.
- A pace learned from the run's first filled window is held but not yet confirmed: a burst of
  429s from a server with no limit (a proxy refusing every request in flight at once) looks
  just like a full window, and a pace learned from it would slow every run for days. So once
  it has held a whole window, one request goes over it as a quota probe: refused, the pace is
  confirmed (the price: one 429 more in the run that learns it, within the first pause's
  allowance of one 429 per worker; when that pause spent them all, the next run tests it);
  passed, the window was never full, and the pacer probes upward (quota + 1 each time one
  passes, one probe at a time) until a probe is refused. A pace learned from two lone 429s,
  or read from an older store, is probed the same way. A confirmed pace is held: a warm run
  starts at it and meets no 429 at the limit; a lone 429 later does not lower it, a window
  that fills again does (and confirms what it shows: the server refused at the pace).
- A 429 without Retry-After teaches the quota but not the window. The pacer assumes Spotify's
  documented ASSUMED_WINDOW_S and searches for the true window with probes: one request sent
  when the window would have let it go if it were shorter. A probe that passes proves the
  window at most that long; a refused one (a 429) proves it longer. The first pause may spend
  up to max_workers 429s, those of the requests in flight included; probes spend what is left,
  at growing windows from MIN_PROBE_WINDOW_S, and then the pacer waits out the assumed window.
  After that, a probe only once the pace has held WINDOWS_HELD_BEFORE_PROBE whole windows
  without a 429, and only when it would go a tenth of the window or more before the pace lets
  the next request go anyway. Trade-off: a cold run against Spotify's own 30 s window (bench
  W8) meets up to max_workers 429s in flight at once, so any probe before 30 s would cost it a
  429 beyond that budget. So a cold run whose allowance is spent holds the assumed window three
  times over before it probes, even when the window is much shorter (15 per 1 s: about 90 s
  lost once, then one passing probe finds the window); against a long window a run meets at
  most one probe 429 per three windows held (W8 itself, 90 per 30 s and 3.1 windows of
  requests, meets none: its fourth window never fills). The next run starts from what the
  probes found.
- A confirmed pace is remembered, with how sure it is: whether the window was measured or only
  bracketed by probes, and how many runs it held through; so is a filled window's pace that the
  run did not test (it ended before a probe could go, or its first pause spent a 429 per
  worker), as unconfirmed: the next run holds it and tests it the same way. A pace a probe
  passed is not remembered. It expires a few days after it was learned, however many runs held
  it (see memory.py): a run at a learned pace meets no 429, so nothing else would notice a
  quota that has grown since, or one learned while another client id of the account was using
  part of it. A store that cannot be read costs a cold start, never the run.

The arithmetic
- Every request is logged: sent when `acquire()` returns, answered when reported. A request
  counts in the server's window from its answer (its arrival lies between send and answer, moved
  by latency and jitter) until that plus the window; a refused one does not count.
- The first filled window of a run: the run starts faster than the quota, so its first pause
  comes while the window holds all of the run; once every request sent before it is answered:
  quota Q = those accepted. Retry-After bounds the window: W <= answer of a 429 + Retry-After -
  send of the first request, W > send of the 429 + Retry-After - 1 - answer of the first. The
  whole second between the bounds (+ WINDOW_MARGIN, at most MAX_WINDOW_MARGIN_S) is W, or the
  upper bound when none fits; a Retry-After over MAX_WINDOW_S is another limit, not learned.
- A window that fills again when paced means the quota fell: Q becomes the accepted requests
  still in the window at that 429, at most Q - 1 (so it never loops) and at least Q / 2 (a
  window read too short, e.g. a fractional one read as the whole second below, shows few).
- A probe goes with the Q-th most recent accepted request r in view. A window probe passed: the
  server had a free slot, so r had left: W <= probe answered - r sent. Refused: r was still in:
  W > probe sent - r answered, and the limit is real (confirmed). The window is known once the
  bounds are SETTLED_SHARE (or SETTLED_S) apart. A quota probe passed shows the quota above Q
  only when r was surely still in the window (answered less than the window, less the margin
  added to a whole-second reading, after r was sent): else r may have left, and it proves nothing.
  So it goes only while its answer can still come in time (r's own round trip, twice, before
  then): at a steady pace r is about to leave whenever the window is full, and the moment comes
  once a burst at the pace has been answered.
- Two pauses "count the same" when their quotas differ by at most SAME_COUNT_SHARE (at least 1)
  and their windows by at most SETTLED_SHARE.

Cannot avoid: a cold run's requests in flight when the window first fills (up to the workers)
get a 429. A quota shared with another client, or a run crawling below the quota for over a
window before its first burst, is learned too low or slow (safe, not fast) until it recovers; a
window growing mid-run lowers the quota by one per filled window.
"""

from __future__ import annotations

import heapq
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol

from spotify_assets.spotify.config import defaults
from spotify_assets.spotify.errors import SpotifyRateLimitError, SpotifyRunStoppedError

log = logging.getLogger(__name__)

ASSUMED_WINDOW_S = 30.0
"""The window Spotify documents; assumed when 429s carry no usable Retry-After."""
MAX_WINDOW_S = 120.0
"""A Retry-After longer than this comes from another limit than the rolling window."""
WINDOW_MARGIN = 0.02
"""Share added to a window read as a whole number of seconds, in case it is a little longer..."""
MAX_WINDOW_MARGIN_S = 0.1
"""...but no more than this: each window waited is that much longer, and Spotify documents whole
seconds (30), so on its window a larger margin only costs time (3 windows: 1.5 s at 2%)."""
LONE_PAUSE_S = 1.0
"""How long a 429 without a usable Retry-After pauses every worker."""
MIN_PROBE_WINDOW_S = 1.0
"""The shortest window a probe tries: a pace per second is fast enough for any run here."""
SETTLED_SHARE = 0.1
SETTLED_S = 0.5
"""A probed window is known once its bounds are this share of it (or these seconds) apart."""
WINDOWS_HELD_BEFORE_PROBE = 3
"""Whole windows a pace must hold without a 429 before a window probe beyond the allowance of a
pause: at W8 (281 requests at 90 per 30 s) the third window is full, so a probe within it (at two
windows held, 65 s) was a 429 over the cold run's max_workers; after three the last, part-full
window takes no more 429s."""
SAME_COUNT_SHARE = 0.05
"""Two pauses count the same when their quotas differ by at most this share (and 1)."""
PROBE_PATIENCE = 2
"""429s the first request to an endpoint the app may have lost waits out before falling back:
restricted apps have been seen getting 429, not 403, there (see is_refusal)."""
QUOTA_EXCEEDED = "QUOTA_EXCEEDED"
"""The `reason` of Spotify's quota 429 (since July 2026): the app is banned, often for a day."""

_DEFAULTS = defaults()
Sleep = Callable[[float, threading.Event], object]
"""Waits up to the given seconds, returning early once the event is set (like Event.wait)."""
Endpoint = Literal["api", "token"]


def is_refusal(error: SpotifyRateLimitError) -> bool:
    """Whether a 429 on a probe may mean "this app may not use the endpoint" (so a fallback may
    work), rather than a stop that holds for every endpoint of the app."""
    return not isinstance(error, SpotifyRunStoppedError)


@dataclass(frozen=True)
class LearnedPace:
    """At most `quota` requests in any `window_s` seconds, and how sure the pacer is of it.

    `confirmed`: a probe above the quota was refused, or a window filled at a held pace (a
    run's first filled window only gives an untested pace: see the module).
    `window_floor_s`: None when the window was measured from Retry-After; else the window is
    known only to be longer than this and at most `window_s` (probes narrow it). `runs`: the
    runs it held through.
    """

    quota: int
    window_s: float
    confirmed: bool = True
    window_floor_s: float | None = None
    runs: int = 0

    def __post_init__(self) -> None:
        """Refuse a pace that cannot be paced by, e.g. a hand-edited or corrupted saved value."""
        if isinstance(self.quota, bool) or not isinstance(self.quota, int) or self.quota < 1:
            raise ValueError(f"A pace needs a whole quota >= 1, not {self.quota!r}")
        if not (isinstance(self.window_s, int | float) and 0 < self.window_s <= MAX_WINDOW_S):
            raise ValueError(f"A pace needs 0 < window_s <= {MAX_WINDOW_S:g}, not {self.window_s}")
        floor = self.window_floor_s
        if floor is not None and not (isinstance(floor, int | float) and floor >= 0):
            raise ValueError(f"A pace needs window_floor_s >= 0 or null, not {floor!r}")

    @property
    def window_known(self) -> bool:
        """Whether the window is measured, or bracketed closely enough to stop probing it."""
        floor = self.window_floor_s
        if floor is None or self.window_s <= MIN_PROBE_WINDOW_S + SETTLED_S:
            return True
        return self.window_s - floor <= max(SETTLED_SHARE * self.window_s, SETTLED_S)

    def to_json(self) -> dict[str, Any]:
        """What the app memory stores for the next run (it holds no secret)."""
        return {
            "quota": self.quota,
            "window_s": self.window_s,
            "confirmed": self.confirmed,
            "window_floor_s": self.window_floor_s,
            "runs": self.runs,
        }

    @classmethod
    def from_json(cls, data: Any) -> LearnedPace:
        """Read what `to_json` wrote, or an older store's {quota, window_s} (then unconfirmed:
        older versions learned paces from lone 429s); a ValueError says what is wrong."""
        try:
            floor = data.get("window_floor_s")
            return cls(
                quota=data["quota"],
                window_s=float(data["window_s"]),
                confirmed=data.get("confirmed") is True,
                window_floor_s=None if floor is None else float(floor),
                runs=int(data.get("runs", 0)),
            )
        except (AttributeError, ValueError, KeyError, TypeError) as exc:
            raise ValueError(
                f"The saved pace {str(data)[:100]!r} cannot be read ({exc}); delete it and the "
                "next run learns the pace again."
            ) from exc


class PaceMemory(Protocol):
    """Where a pace waits for the next run (the app memory): the stored entry, or None."""

    def stored_pace(self) -> Mapping[str, Any] | None:
        """The pace a recent run stored, as `LearnedPace.to_json` wrote it; None if none."""

    def store_pace(self, entry: Mapping[str, Any] | None, *, learned: bool = True) -> None:
        """Store `entry` for the next runs, or forget the stored pace (None); `learned` False:
        it is the stored pace, held again, so it keeps the time it was learned."""


@dataclass(frozen=True)
class PacingLimits:
    """The client settings the pacer obeys (ClientConfig's defaults when not given)."""

    max_workers: int = _DEFAULTS["max_workers"]
    max_requests_per_second: float | None = _DEFAULTS["max_requests_per_second"]
    max_retry_after_s: float = _DEFAULTS["max_retry_after_s"]
    max_rate_limit_retries: int = _DEFAULTS["max_rate_limit_retries"]


def _when_to_run_again(seconds: float) -> str:
    """When a run can succeed after a Retry-After of `seconds`, as a UTC minute; a wait past the
    year 9999 (a Retry-After of 10^12 s parses) is said so, rather than failing to make a date."""
    try:
        when = datetime.now(UTC) + timedelta(seconds=seconds)
    except OverflowError:
        return "no date can be given for a wait that long: ask Spotify to lift the ban"
    return f"run again after {when:%Y-%m-%d %H:%M} UTC"


@dataclass(frozen=True)
class RateLimited:
    """A 429 as the transport saw it: where, what Spotify said, and how many this request met."""

    url: str
    label: str
    endpoint: Endpoint
    retry_after_s: float | None
    reason: str | None
    message: str
    attempt: int
    patience: int | None = None

    def stop(self, limit: float) -> SpotifyRunStoppedError:
        """The error that stops the client: what Spotify said, and when a run can succeed."""
        if self.retry_after_s is not None:
            said = f"Spotify asked to wait {self.retry_after_s:.0f} s (Retry-After)"
            after = _when_to_run_again(self.retry_after_s)
        else:
            said, after = "Spotify refused the request", "run again tomorrow"
        if self.reason == QUOTA_EXCEEDED:
            said += " because the app's quota is spent (QUOTA_EXCEEDED)"
        elif self.reason:
            said += f" ({self.reason})"
        return SpotifyRunStoppedError(
            f"{said} on {self.label}; stopped every request of the run, since requests sent "
            f"during a ban can lengthen it (max_retry_after_s is {limit:g}): {after}.",
            url=self.url,
            retry_after_s=self.retry_after_s,
            max_retry_after_s=limit,
            reason=self.reason,
        )

    def give_up(self, limit: float, *, budget_spent: bool) -> SpotifyRateLimitError:
        """The error of a request that met more 429s than its patience, or a spent budget."""
        because = f" ({self.reason})" if self.reason else ""
        if budget_spent:
            why = (
                f"Spotify answered 429 on {self.label}{because} and the client's retry budget is "
                "spent: the run met more failures than retry_budget allows. Run again later."
            )
        else:
            why = (
                f"Spotify kept answering 429 on {self.label}{because} ({self.message}); a "
                "restricted app can get 429 instead of 403 on an endpoint it may no longer use. "
                "Check the app's quota mode in the Spotify developer dashboard."
            )
        return SpotifyRateLimitError(
            why,
            url=self.url,
            retry_after_s=self.retry_after_s,
            max_retry_after_s=limit,
            reason=self.reason,
        )


@dataclass
class _Request:
    """One request in the log: when it left, when its answer came, whether it was a 429, and
    the probe it carried (None for an ordinary request)."""

    sent: float
    answered: float | None = None
    refused: bool = False
    probe: _Probe | None = None


@dataclass(frozen=True)
class _Probe:
    """A request sent beyond the pace: testing a shorter window or a larger quota. `oldest` is
    the quota-th most recent accepted request when it left."""

    kind: Literal["window", "quota"]
    oldest: _Request


@dataclass
class _Episode:
    """The 429s of one shared pause: (sent, answered, Retry-After) each, judged at its end."""

    started: float
    hits: list[tuple[float, float, float | None]] = field(default_factory=list)


def _counted_until(request: _Request, window_s: float) -> float:
    """Until when a request may still count in the server's window (0 for a refused one)."""
    if request.refused:
        return 0.0
    return (request.answered if request.answered is not None else request.sent) + window_s


def _window_of(accepted: list[_Request], episode: _Episode) -> LearnedPace:
    """The quota and window a filled window reveals when `accepted` all lie in it."""
    first = min(accepted, key=lambda r: r.sent)
    timed = [(sent, answered, after) for sent, answered, after in episode.hits if after]
    if not timed:
        floor = max(sent - (first.answered or first.sent) for sent, _, _ in episode.hits)
        window = max(ASSUMED_WINDOW_S, episode.started - first.sent)
        return LearnedPace(len(accepted), min(window, MAX_WINDOW_S), window_floor_s=max(0, floor))
    longest = min(answered + after for _, answered, after in timed) - first.sent
    shortest = max(sent + after - 1 for sent, _, after in timed) - (first.answered or 0.0)
    whole = math.floor(longest)
    margin = min(whole * WINDOW_MARGIN, MAX_WINDOW_MARGIN_S)
    window = min(longest, whole + margin) if whole > max(shortest, 0) else longest
    return LearnedPace(len(accepted), math.ceil(min(window, MAX_WINDOW_S) * 1000) / 1000)


def _first_window(
    log: deque[_Request], episode: _Episode, lone_end: float, lone: list[LearnedPace]
) -> LearnedPace | None:
    """The quota and window a run's first filled window reveals; None when it reveals nothing.

    The run started faster than the quota, so the window holds all of it: unless a lone 429
    paused it (ending at `lone_end`). Then only the requests since that pause surely count; the
    window read from them alone is trusted when the pause outlasted the window of the whole run
    (an upper bound: the older requests had surely left), or outlasted their own window and a
    lone 429 (in `lone`) counted exactly as many over the same window (a window that filled
    one request at a time); else the whole run's window bounds it (safe; slow if it was long).
    """
    accepted = [
        r for r in log if r.answered is not None and not r.refused and r.sent < episode.started
    ]
    recent = [r for r in accepted if r.sent >= lone_end]
    if not recent:
        return None
    if len(recent) == len(accepted):
        return _window_of(accepted, episode)
    bound = _window_of(accepted, episode)  # the oldest request bounds the window from above
    gap = min(r.sent for r in recent) - max(
        r.answered or r.sent for r in accepted if r.sent < lone_end
    )
    since = _window_of(recent, episode)
    agrees = any(b.quota == since.quota and _same(b, since) for b in lone)
    if gap >= bound.window_s or (agrees and gap >= since.window_s):
        return since
    return LearnedPace(len(recent), bound.window_s, window_floor_s=bound.window_floor_s)


def _count_in(log: deque[_Request], episode: _Episode, window_s: float) -> int:
    """The accepted requests sent before a pause that were still in a `window_s` window when
    its first 429 came (its slot reopening Retry-After - 1 s later)."""
    sent, _, after = min(episode.hits, key=lambda hit: hit[0])
    reopens = sent + (after - 1 if after and after - 1 <= window_s else 0.0)
    return sum(
        1
        for r in log
        if r.answered is not None and not r.refused and r.sent < episode.started
        if _counted_until(r, window_s) > reopens
    )


def _answered_around(log: deque[_Request], episode: _Episode) -> bool:
    """Whether the server accepted more requests that came after one of a pause's refused ones
    (sent after it and answered after it, before the pause) than it refused: then the 429s are
    one moment's answer to a burst from a server that answered the rest, not a window that
    filled (a full window refuses whatever arrives after its first refusal).

    A request sent after a refused one but answered before it may have overtaken it on the way
    (a thread or a connection slow to send, common on a loaded machine: a straggler sent first
    and refused last), so it is no evidence. Trade-off: a proxy that answers its 429s slower
    than the requests around them reads as a full window."""
    hits = episode.hits
    accepted = sum(
        1
        for r in log
        if r.answered is not None and not r.refused and r.sent < episode.started
        if any(sent < r.sent and answered < r.answered for sent, answered, _ in hits)
    )
    return accepted > len(hits)


def _still_in(log: deque[_Request], episode: _Episode, pace: LearnedPace) -> LearnedPace:
    """A lower quota after a 429 the pace should have avoided: the accepted requests still in
    the window when it came, at most quota - 1 (so it never loops), and at least half the
    quota: when the window itself was read too short, few requests seem still in it, and one
    such 429 must not make the run crawl."""
    quota = min(pace.quota - 1, _count_in(log, episode, pace.window_s))
    return replace(pace, quota=max(1, quota, pace.quota // 2), runs=0)


def _same(a: LearnedPace, b: LearnedPace) -> bool:
    """Whether two pauses counted the same quota over about the same window."""
    quota_gap = max(1, SAME_COUNT_SHARE * max(a.quota, b.quota))
    window_gap = SETTLED_SHARE * max(a.window_s, b.window_s)
    return abs(a.quota - b.quota) <= quota_gap and abs(a.window_s - b.window_s) <= window_gap


def _surely_within(pace: LearnedPace) -> float:
    """How long a request surely stays in the server's window: the window held, less the margin
    added to one read as whole seconds (a Retry-After counts whole seconds), or the probed floor
    of one not measured."""
    if pace.window_floor_s is not None:
        return pace.window_floor_s
    return max(math.floor(pace.window_s), (1 - SETTLED_SHARE) * pace.window_s)


def _next_probe_window(pace: LearnedPace) -> float:
    """The window the next window probe tries: doubling up from the floor while far below the
    upper bound, then halfway between the bounds."""
    low = pace.window_floor_s or 0.0
    trial = max(MIN_PROBE_WINDOW_S, 2 * low)
    if trial < 0.75 * pace.window_s:
        return trial
    return max(MIN_PROBE_WINDOW_S, (low + pace.window_s) / 2)


class Pacer:
    """Paces every worker thread under one learned quota (and a ceiling), and decides what each
    429 means: `acquire(endpoint)` before each request, then `on_accepted(endpoint)` for any
    answer but a 429 or `on_rate_limited(answer)` for a 429; `remember()` at the end of a run;
    `halt(error)` stops all."""

    def __init__(
        self,
        limits: PacingLimits | None = None,
        *,
        learned: LearnedPace | None = None,
        memory: PaceMemory | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep | None = None,
    ) -> None:
        self._limits = limits or PacingLimits()
        self._memory = memory
        self._loaded = learned if learned is not None else self._recall()
        self._pace = self._loaded
        self._untested = self._loaded is not None and not self._loaded.confirmed
        self._stored = False
        self._clock = clock
        self._wake = threading.Event()
        self._sleep: Sleep = sleep or (lambda seconds, interrupt: interrupt.wait(seconds))
        self._lock = threading.Lock()
        self._mine = threading.local()
        self._log: deque[_Request] = deque()
        self._next_send = self._paused_until = self._last_pause = -math.inf
        self._episode: _Episode | None = None
        self._lone: list[LearnedPace] = []
        self._lone_end = -math.inf
        self._held_since = clock()
        self._allowance = 1 if self._untested else 0
        """429s the probes may still spend: what a run's first pause left of one per worker,
        or one for the test of a stored untested pace."""
        self._probe: _Request | None = None
        self._halted: BaseException | None = None
        self._waiting, self._wait_began, self._waited = 0, 0.0, 0.0

    @property
    def pace(self) -> LearnedPace | None:
        """The pace the pacer holds now (learned, or given); None while unpaced."""
        with self._lock:
            self._settle(self._clock())
            return self._pace

    @property
    def untested(self) -> bool:
        """Whether the pace held comes from a filled window (this run's or a stored one) that no
        quota probe has tested yet: neither passed above it nor been refused."""
        with self._lock:
            return self._untested

    @property
    def to_remember(self) -> LearnedPace | None:
        """The pace worth storing for the next run: the one held now, if confirmed or still
        untested, with one more run counted when it is the pace this run started from."""
        with self._lock:
            self._settle(self._clock())
            pace, untested = self._pace, self._untested
        if pace is None or not (pace.confirmed or untested):
            return None
        loaded = self._loaded
        return replace(pace, runs=(loaded.runs if loaded and self._is_loaded(pace) else 0) + 1)

    def _is_loaded(self, pace: LearnedPace) -> bool:
        """Whether `pace` is the one this run started from (same quota and window)."""
        loaded = self._loaded
        return loaded is not None and (loaded.quota, loaded.window_s) == (pace.quota, pace.window_s)

    @property
    def requests_per_second(self) -> float | None:
        """The pace for progress reports: learned quota per second or ceiling; None if unpaced."""
        with self._lock:
            rates = [self._pace.quota / self._pace.window_s] if self._pace else []
            ceiling = self._limits.max_requests_per_second
            rates += [ceiling] if ceiling else []
            return min(rates, default=None)

    @property
    def waited_s(self) -> float:
        """Seconds so far during which the pacer held back at least one worker (pauses included):
        the run's waiting on the rate limit, counted once however many threads waited."""
        with self._lock:
            ongoing = self._clock() - self._wait_began if self._waiting else 0.0
            return self._waited + ongoing

    def remember(self) -> None:
        """Store the pace worth storing (`to_remember`) for the next run, or forget a stored one
        this run showed wrong (a probe passed above it) or never met: the one it started from,
        or one an earlier call of this client stored."""
        if self._memory is None:
            return
        held = self.pace
        pace = self.to_remember
        if pace is not None:
            # Held as loaded, untouched by this run's evidence: it keeps the time it was learned.
            self._memory.store_pace(pace.to_json(), learned=held is not self._loaded)
            self._stored = True
        elif self._loaded is not None or self._stored:
            self._memory.store_pace(None)

    def acquire(self, endpoint: Endpoint = "api") -> None:
        """Block until this thread may send one request; raise the halt error once halted. The
        token endpoint is not paced (its limit is not the API's), only stopped."""
        waiting = False
        try:
            while True:
                with self._lock:
                    if self._halted is not None:
                        raise self._halted
                    if endpoint == "token":
                        return
                    now = self._clock()
                    self._settle(now)
                    ready, probe = self._ready(now)
                    if ready <= now:
                        self._send(now, probe)
                        return
                    if not waiting:
                        waiting = True
                        self._waiting += 1
                        if self._waiting == 1:
                            self._wait_began = now
                    wake = self._wake
                self._sleep(ready - now, wake)
        finally:
            if waiting:
                with self._lock:
                    self._waiting -= 1
                    if self._waiting == 0:
                        self._waited += self._clock() - self._wait_began

    def on_accepted(self, endpoint: Endpoint = "api") -> None:
        """Record that this thread's request was answered with anything but a 429."""
        if endpoint == "token":
            return
        with self._lock:
            now = self._clock()
            request = self._answer(now, refused=False)
            if request is not None and request.probe is not None:
                self._probed(request, now)

    def on_rate_limited(self, answer: RateLimited) -> float | None:
        """Judge a 429: raise the error that ends the request (halting every worker first when
        it is a stop), else pause and learn. Returns how long this request alone must wait
        before it is sent again: 0 when the shared pause in `acquire` holds it, None when the
        caller should back off as for an outage (a token 429 without Retry-After)."""
        limits = self._limits
        after = answer.retry_after_s
        if answer.reason == QUOTA_EXCEEDED or (
            after is not None and after > limits.max_retry_after_s
        ):
            error = answer.stop(limits.max_retry_after_s)
            self.halt(error)
            raise error
        if answer.endpoint == "token":
            self._check_patience(answer)
            return after or None
        with self._lock:
            now = self._clock()
            request = self._answer(now, refused=True)
            usable = after if after and 0 < after < math.inf else None
            self._paused_until = max(self._paused_until, now + (usable or LONE_PAUSE_S))
            if request is not None and request.probe is not None:
                self._probed(request, now)
            elif usable is None or usable <= MAX_WINDOW_S:
                sent = request.sent if request is not None else now
                if self._episode is None and sent >= self._last_pause:
                    self._episode = _Episode(started=now)
                    self._last_pause = now
                if self._episode is not None:
                    self._episode.hits.append((sent, now, usable))
        self._check_patience(answer)
        return 0.0

    def halt(self, error: BaseException) -> None:
        """Make every `acquire()` raise `error` from now on, waking the threads waiting in it."""
        with self._lock:
            if self._halted is None:
                self._halted = error
            self._wake.set()  # stays set: every later wait returns at once, then raises

    def _check_patience(self, answer: RateLimited) -> None:
        """Raise when the request met more 429s than it may wait out."""
        patience = answer.patience
        if answer.attempt > (self._limits.max_rate_limit_retries if patience is None else patience):
            raise answer.give_up(self._limits.max_retry_after_s, budget_spent=False)

    def _recall(self) -> LearnedPace | None:
        """The pace the memory holds, None when it holds none or one that cannot be read."""
        entry = self._memory.stored_pace() if self._memory is not None else None
        if entry is None:
            return None
        try:
            return LearnedPace.from_json(entry)
        except ValueError as exc:
            log.warning("Ignoring the remembered pace: %s", exc)
            return None

    def _answer(self, now: float, *, refused: bool) -> _Request | None:
        """Mark this thread's request answered and return it (None if it sent none)."""
        request: _Request | None = getattr(self._mine, "request", None)
        self._mine.request = None
        if request is None:
            return None
        request.answered, request.refused = now, refused
        if request is self._probe:
            self._probe = None
        return request

    def _send(self, now: float, probe: _Probe | None) -> None:
        """Log a request leaving now; the thread's unreported last one (a timeout) counts."""
        self._answer(now, refused=False)
        if self._episode is None:
            keep = max(self._pace.window_s if self._pace else 0.0, MAX_WINDOW_S)
            while self._log and _counted_until(self._log[0], keep) < now:
                self._log.popleft()
        request = _Request(sent=now, probe=probe)
        self._log.append(request)
        self._mine.request = request
        if probe is not None:
            self._probe = request
        ceiling = self._limits.max_requests_per_second
        if ceiling is not None:
            self._next_send = now + 1.0 / ceiling

    def _ready(self, now: float) -> tuple[float, _Probe | None]:
        """When the next request may go, and the probe it carries if it goes as one."""
        ready = max(self._paused_until, self._next_send)
        if self._pace is None:
            return ready, None
        opens = self._window_opens(now, self._pace)
        if opens > now:
            probe_at, probe = self._probe_at(now, self._pace)
            # A window probe is worth its risk of a 429 only when it gains a share of the window.
            gain = SETTLED_SHARE * self._pace.window_s if probe and probe.kind == "window" else 0
            if probe is not None and probe_at < opens - gain:
                return max(ready, probe_at), probe
        return max(ready, opens), None

    @staticmethod
    def _opens_at(log: deque[_Request], now: float, pace: LearnedPace) -> float:
        """When `pace` lets the next request go by the log (-inf: now)."""
        counted = (_counted_until(request, pace.window_s) for request in log)
        until = [t for t in counted if t > now]
        over = len(until) - pace.quota
        return -math.inf if over < 0 else heapq.nsmallest(over + 1, until)[-1]

    def _window_opens(self, now: float, pace: LearnedPace) -> float:
        """When the held pace lets the next request go (-inf: now)."""
        return self._opens_at(self._log, now, pace)

    def _probe_at(self, now: float, pace: LearnedPace) -> tuple[float, _Probe | None]:
        """When a probe beyond the full pace may go (one at a time, never during a pause)."""
        if self._probe is not None or self._episode is not None:
            return math.inf, None
        accepted = [r for r in self._log if not r.refused]
        if len(accepted) < pace.quota:
            return math.inf, None
        oldest = heapq.nlargest(pace.quota, accepted, key=lambda r: r.sent)[-1]
        if oldest.answered is None:
            return math.inf, None
        if not pace.window_known:
            at = oldest.answered + _next_probe_window(pace)
            if self._allowance <= 0:
                at = max(at, self._held_since + WINDOWS_HELD_BEFORE_PROBE * pace.window_s)
            return at, _Probe("window", oldest)
        if not pace.confirmed:
            # A test of a filled window's pace only within the pause's allowance: a cold run
            # meets at most one 429 per worker (when the pause spent them all, the next run
            # tests it).
            if self._untested and self._allowance <= 0:
                return math.inf, None
            # Counted over answered requests only: one still on its way may reach the server
            # after the probe, which would then pass for a slot that was not free.
            answered = [r for r in accepted if r.answered is not None]
            if len(answered) < pace.quota:
                return math.inf, None
            oldest = heapq.nlargest(pace.quota, answered, key=lambda r: r.sent)[-1]
            at = max(now, self._held_since + pace.window_s)
            # Only while its answer can come before the oldest may leave the window (allowing
            # twice the oldest's own round trip): a probe passing later proves nothing, and at a
            # steady pace the quota-th answered request is about to leave just when the window
            # is full; the moment comes once a burst at the pace has been answered.
            lead = 2 * ((oldest.answered or oldest.sent) - oldest.sent)
            if at + lead >= oldest.sent + _surely_within(pace):
                return math.inf, None
            return at, _Probe("quota", oldest)
        return math.inf, None

    def _probed(self, request: _Request, now: float) -> None:
        """Learn from a probe's answer: a passing one raises the pace, a refused one bounds it."""
        probe, pace = request.probe, self._pace
        if probe is None or pace is None:
            return
        oldest = probe.oldest
        if request.refused:
            self._held_since = now
            self._allowance = max(0, self._allowance - 1)
            # Refused at the quota (or within a window shorter than it): the limit is real.
            if probe.kind == "quota":
                self._pace = replace(pace, confirmed=True)
            else:
                floor = request.sent - (oldest.answered or oldest.sent)
                window_floor_s = max(pace.window_floor_s or 0.0, floor)
                self._pace = replace(pace, confirmed=True, window_floor_s=window_floor_s)
        else:
            if probe.kind == "quota":
                if now >= oldest.sent + _surely_within(pace):
                    return  # the oldest may have left the window: passing proves nothing
                self._pace = replace(pace, quota=pace.quota + 1)
                self._untested = False  # the server let more through: no limit at that pace
            else:
                bound = math.ceil((now - oldest.sent) * 1000) / 1000
                self._pace = replace(pace, window_s=max(min(pace.window_s, bound), 0.001))
            self._wake.set()  # the pace is looser: threads waiting for the old one look again
            self._wake = threading.Event()

    def _settle(self, now: float) -> None:
        """Once a pause is over (every request sent before it answered), judge its 429s: a
        filled window sets the pace, a lone 429 only counts for comparison with the next."""
        episode = self._episode
        if episode is None or now < self._paused_until:
            return
        self._episode = None
        self._held_since = now
        filled = len(episode.hits) >= 2 and not _answered_around(self._log, episode)
        pace = self._pace
        seen: LearnedPace | None
        if pace is not None:
            seen = _still_in(self._log, episode, pace)
            # At a confirmed pace every 429 comes at about the same count (the pacer keeps the
            # window at the quota): only a window that fills again is evidence there.
            again = not pace.confirmed and any(_same(seen, b) for b in self._lone)
        else:
            seen = _first_window(self._log, episode, self._lone_end, self._lone)
            again = False
            for before in [] if filled else self._lone:
                count = _count_in(self._log, episode, before.window_s)
                if count >= 1 and _same(replace(before, quota=count), before):
                    seen, again = replace(before, quota=count), True
                    break
        if seen is None:
            return
        if not (filled or again):
            self._lone.append(seen)
            self._lone_end = now
            return
        self._lone.clear()
        # A window that fills at a held pace is the server refusing at that pace: confirmed
        # (two bursts of a server with no limit would pass for it; a quota that drops mid-run
        # is relearned at once). The run's first filled window is not: one burst of 429s from a
        # server with no limit (a proxy's hiccup refusing every request in flight) looks just
        # like it, so the pace is held but tested by a quota probe once it has held a window
        # (see _probe_at).
        confirmed = filled and pace is not None
        self._pace = replace(seen, confirmed=confirmed, runs=0)
        self._untested = filled and not confirmed
        self._allowance = self._limits.max_workers - len(episode.hits)
