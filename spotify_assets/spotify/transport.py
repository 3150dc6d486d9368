"""Sends one HTTP request to Spotify and sees it through transient failures: the retry loop, its
backoff, and the retry budget for outages shared by the whole run.

The retry loop is written by hand rather than delegated to urllib3's `Retry` because Spotify
needs what `Retry` cannot do: every 429 goes to the shared pacer (pacing.py), which pauses every
worker, learns the pace, or stops the whole client instead of sleeping through a day-long
Retry-After; a 404 for an id Spotify just listed may be retried (outside the budget: no outage);
a body cut off mid-stream (which requests reads after urllib3 has returned) must be retried like
any dropped connection; and outages (429 waits included) draw on one run budget. The transport
only reports answers to the pacer and does what it says: send, wait, retry or raise.
"""

from __future__ import annotations

import email.utils
import html
import json
import logging
import math
import random
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3

from spotify_assets.spotify.config import ClientConfig
from spotify_assets.spotify.errors import SpotifyRetryBudgetError, SpotifyUnavailableError
from spotify_assets.spotify.pacing import Endpoint, Pacer, RateLimited
from spotify_assets.spotify.stats import StatsRecorder

log = logging.getLogger(__name__)

RETRYABLE_STATUSES = frozenset({500, 502, 503, 504})
NOT_FOUND_RETRIES = 3
"""Retries (at most max_retries) of a 404 on an id listed in the same run, outside the budget."""


def request_label(method: str, url: str) -> str:
    """A short, secret-free name for a request in messages: method and path."""
    return f"{method} {urlsplit(url).path}"


def parse_retry_after(value: str | None, date: str | None = None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds, decimals tolerated, or an HTTP-date);
    None when absent or unreadable ("inf" and "nan" included: no wait can be taken from them).

    An HTTP-date is counted from the response's own Date header (`date`) when it has one:
    the server's clock, not this machine's, says how far off that date is.
    """
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    when = _http_date(value)
    if when is None:
        return None
    now = _http_date(date) if date is not None else None
    return max(0.0, when - (now if now is not None else time.time()))


def _http_date(value: str) -> float | None:
    """The POSIX time an HTTP-date names, None when it names none."""
    try:
        return email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None


BODY_READ_SIZE = 65536


def read_whole(response: requests.Response, *, by: float) -> None:
    """Read the whole body of a streamed response now, before `by` (time.monotonic()), so that a
    body cut off is retried, and one sent a few bytes at a time is a timeout: requests' read
    timeout bounds each wait for bytes, not the answer, and a trickle could hold a worker for
    minutes. Errors are requests' own, as they would be without streaming; the connection is
    closed on any of them."""
    try:
        response._content = _body_by(response.raw, by)  # what requests keeps once it read it
    except BaseException:
        response.close()
        raise
    response.raw.release_conn()


def _body_by(raw: urllib3.HTTPResponse, by: float) -> bytes:
    """The body `raw` sends, a Timeout when more of it is still to come after `by` (a body whose
    last bytes came just after `by` is kept: nothing was left to wait for)."""
    chunks = []
    try:
        while chunk := raw.read1(BODY_READ_SIZE, decode_content=True):
            chunks.append(chunk)
            if time.monotonic() > by and raw.length_remaining != 0:  # None: length unknown
                raise requests.Timeout("the answer was not whole within the read timeout")
    except urllib3.exceptions.ReadTimeoutError as exc:
        raise requests.Timeout(str(exc)) from exc
    except urllib3.exceptions.HTTPError as exc:
        raise requests.ConnectionError(str(exc)) from exc
    return b"".join(chunks)


def json_document(response: requests.Response) -> Any:
    """The JSON document a response's body holds: UTF-8 as JSON must be (a byte-order mark
    tolerated), else in the charset its headers name (a proxy's error body); ValueError when it
    holds none."""
    try:
        text = response.content.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = response.text
    return json.loads(text)


def not_an_answer(document: Any) -> str | None:
    """Why a 200's document cannot be the answer asked for, None when it can be.

    Every answer of Spotify's with status 200 is a JSON object without an `error` member; an
    empty body, an HTML page, JSON cut short (a proxy's, with a matching Content-Length, even
    one cut right after a `}`) or an error object sent with 200 is a glitch on the way, asked
    again like a dropped connection rather than failing the run.
    """
    if not isinstance(document, dict):
        return f"a JSON {type(document).__name__}, not an object"
    error = document.get("error")
    if error is not None:
        message = error.get("message", error) if isinstance(error, dict) else error
        return f"an error in its body ({str(message)[:200]})"
    return None


def error_detail(response: requests.Response) -> tuple[str, str | None]:
    """The message of an error response and its `reason`, whatever shape the body has.

    Spotify's Web API sends `{"error": {"status", "message"}}`, its accounts service the OAuth shape
    `{"error": "...", "error_description": "..."}`, and proxies or CDNs in between send HTML.
    """
    try:
        body = json_document(response)
    except ValueError:
        body = None
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            reason = error.get("reason")
            return str(error.get("message", "")), (str(reason) if reason else None)
        if isinstance(error, str):
            return f"{error}: {body.get('error_description', '')}".rstrip(": "), None
    text = response.text
    heading = re.search(r"<(?:title|h1)[^>]*>(.*?)</", text, re.IGNORECASE | re.DOTALL)
    if heading:
        text = heading.group(1)
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", text)).split())
    return (text[:200] or response.reason or "no message"), None


@dataclass(frozen=True)
class Backoff:
    """The wait before a retry: "full jitter", a uniform draw between 0 and an exponential ceiling,
    which spreads the retries of many workers instead of letting them hit a recovering server in
    lockstep."""

    base_s: float
    max_s: float
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def seconds(self, attempt: int) -> float:
        """Seconds to wait before retry number `attempt` (1-based)."""
        return self.rng.uniform(0.0, self.ceiling(attempt))

    def at_least_half(self, attempt: int) -> float:
        """A wait between half the ceiling and the ceiling ("equal jitter"): waits that add up
        for sure, still spread so that clients behind one proxy do not retry in lockstep."""
        ceiling = self.ceiling(attempt)
        return ceiling / 2 + self.rng.uniform(0.0, ceiling / 2)

    def ceiling(self, attempt: int) -> float:
        """The longest wait before retry number `attempt`: doubling from base_s, up to max_s."""
        return min(self.max_s, self.base_s * 2.0 ** (attempt - 1))


class RetryBudget:
    """A count of retries the whole client may still spend on outages, shared by its threads,
    and how many one request may spend (`per_request`, max_retries).

    Per-request limits alone let a run against a failing API spend `max_retries` on every one of
    its thousands of requests; the budget makes such a run fail fast instead.
    """

    def __init__(self, total: int, per_request: int) -> None:
        self._left = total
        self._per_request = per_request
        self._lock = threading.Lock()

    def take(self) -> bool:
        """Spend one retry; False when the budget is exhausted."""
        with self._lock:
            if self._left <= 0:
                return False
            self._left -= 1
            return True

    def ends(
        self, failures: int, what: str, *, url: str, status: int | None
    ) -> SpotifyUnavailableError | None:
        """The error that ends a request whose outage (`what`, its `failures`-th failure in a
        row) outlasted its own retries, or the run's budget (SpotifyRetryBudgetError: the service
        fails for the whole run, so nothing more is asked); None when a retry is allowed, which
        spends one from the budget."""
        spent = failures <= self._per_request and not self.take()
        if failures <= self._per_request and not spent:
            return None
        why = "and the run's retry budget is spent" if spent else f"after {failures} attempts"
        return (SpotifyRetryBudgetError if spent else SpotifyUnavailableError)(
            f"{what} {why}; the service is having trouble, try the run again later.",
            url=url,
            status=status,
        )


@dataclass(frozen=True)
class Answer:
    """What Spotify answered: the response, and for a 200 the JSON object it holds (parsed once,
    here, where a 200 that holds none is asked again)."""

    response: requests.Response
    body: dict[str, Any] | None = None


class Transport:
    """Sends requests with timeouts, backoff on 5xx/timeouts/dropped connections and 200s that
    hold no answer, and 429 handling.

    Statuses other than 429 and 5xx (and a 404 the caller calls transient) come back to the caller
    as they are; only transient failures are handled here. Every attempt is counted in `stats`.
    """

    def __init__(
        self,
        session: requests.Session,
        config: ClientConfig,
        *,
        stats: StatsRecorder,
        pacer: Pacer,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._session = session
        self._pacer = pacer
        self._config = config
        self._backoff = Backoff(config.backoff_base_s, config.backoff_max_s)
        self._budget = RetryBudget(config.retry_budget, config.max_retries)
        self._not_found_asks = min(NOT_FOUND_RETRIES, config.max_retries)
        self._stats = stats
        self._timeouts = (config.connect_timeout_s, config.read_timeout_s)
        self._sleep = sleep

    def send(
        self,
        method: str,
        url: str,
        *,
        endpoint: Endpoint,
        params: Mapping[str, str | int] | None = None,
        headers: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        patience: int | None = None,
        not_found_is_transient: bool = False,
    ) -> Answer:
        """Send until the answer is neither 429 nor a transient failure, or the limits run out.

        `patience` caps the 429s this request waits out (default: max_rate_limit_retries), for
        probes of endpoints the app may have lost. With `not_found_is_transient`, a 404 is retried
        a few times, outside the budget: Spotify has answered 404 for ids it listed a moment ago.
        """
        label = request_label(method, url)
        failures = 0
        not_found = 0
        rate_limited = 0
        while True:
            self._pacer.acquire(endpoint)
            self._stats.add(requests=1, **{f"{endpoint}_requests": 1})
            problem: str
            status: int | None = None
            try:
                sent_at = time.monotonic()
                response = self._session.request(
                    method,
                    url,
                    params=params,
                    headers=headers,
                    data=data,
                    auth=auth,
                    timeout=self._timeouts,
                    stream=True,
                )
                read_whole(response, by=sent_at + self._config.read_timeout_s)
            except requests.exceptions.SSLError as exc:
                raise SpotifyUnavailableError(
                    f"The TLS connection to {urlsplit(url).netloc} failed ({exc}); retrying "
                    "cannot fix a certificate problem: check the URL, the clock, and any proxy "
                    "in between (REQUESTS_CA_BUNDLE for a custom CA).",
                    url=url,
                ) from exc
            except requests.Timeout:
                self._stats.add(timeouts=1)
                problem = "timed out"
            except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
                self._stats.add(connection_errors=1)
                problem = f"lost the connection ({type(exc).__name__})"
            else:
                if response.status_code == 429:
                    rate_limited += 1
                    self._stats.add(http_429=1)
                    self._obey_429(response, label, endpoint, rate_limited, patience)
                    continue
                self._pacer.on_accepted(endpoint)
                status = response.status_code
                ask_again = not_found_is_transient and not_found < self._not_found_asks
                answer = self._answer(response, not_found_is_transient=ask_again)
                if isinstance(answer, Answer):
                    return answer
                problem = answer
                not_found += status == 404
            if status == 404:  # asked again: an album Spotify no longer knows is no outage
                attempt = not_found
            else:
                attempt = failures = failures + 1
                what = f"Spotify {problem} on {label}"
                if (error := self._budget.ends(failures, what, url=url, status=status)) is not None:
                    raise error
            delay = self._backoff.seconds(attempt)
            log.warning("Spotify %s on %s; retry %d in %.2f s", problem, label, attempt, delay)
            self._stats.add(retries=1, waited_s=delay)
            self._sleep(delay)

    def _answer(self, response: requests.Response, *, not_found_is_transient: bool) -> Answer | str:
        """The answer to hand back, or what makes it worth asking again (a 5xx, a 200 that holds
        no answer, a 404 said to be transient), counted in the stats."""
        status = response.status_code
        if status == 404 and not_found_is_transient:
            return f"answered 404 ({error_detail(response)[0]}) for an id it just listed"
        if status in RETRYABLE_STATUSES:
            self._stats.add(http_5xx=1)
            return f"answered {status} ({error_detail(response)[0]})"
        if status != 200:
            return Answer(response)
        try:
            document = json_document(response)
        except ValueError:
            problem: str | None = "a body that is not a whole JSON document"
        else:
            problem = not_an_answer(document)
            if problem is None:
                return Answer(response, document)
        self._stats.add(bad_bodies=1)
        return f"answered 200 with {problem}"

    def _obey_429(
        self,
        response: requests.Response,
        label: str,
        endpoint: Endpoint,
        attempt: int,
        patience: int | None,
    ) -> None:
        """Report a 429 to the pacer, which raises to stop or give up; then spend a retry and
        wait as long as the pacer says this request alone must (its shared pauses it holds
        in acquire, counted there)."""
        message, reason = error_detail(response)
        headers = response.headers
        retry_after = parse_retry_after(headers.get("Retry-After"), headers.get("Date"))
        answer = RateLimited(
            response.url, label, endpoint, retry_after, reason, message, attempt, patience
        )
        wait = self._pacer.on_rate_limited(answer)
        if not self._budget.take():
            raise answer.give_up(self._config.max_retry_after_s, budget_spent=True)
        log.warning(
            "Spotify rate limit on %s; Retry-After %s",
            label,
            "absent" if retry_after is None else f"{retry_after:g} s",
        )
        self._stats.add(retries=1)
        if wait is None:
            # The token endpoint without Retry-After: no pacer learns its window, so the waits
            # must add up. By default those of max_rate_limit_retries come to 75.75 s at least
            # (two and a half of Spotify's documented 30 s windows), 151.5 s at most.
            wait = self._backoff.at_least_half(attempt)
        if wait > 0:
            self._stats.add(waited_s=wait)
            self._sleep(wait)
