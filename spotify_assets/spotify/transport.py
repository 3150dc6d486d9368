"""Sends one HTTP request to Spotify and sees it through transient failures.

The retry loop is written by hand rather than delegated to urllib3's `Retry` because Spotify
needs what `Retry` cannot do: a 429 must pause every worker (through the shared pacer), a
Retry-After longer than the configured maximum or a spent quota must stop every worker at once
instead of being clamped or slept through, a 404 for an id Spotify just listed may be retried
(outside the budget: no outage), a body cut off mid-stream (which requests reads after urllib3
has returned) must be retried like any dropped connection, and outages draw on one run budget.
"""

from __future__ import annotations

import email.utils
import html
import logging
import re
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Literal
from urllib.parse import urlsplit

import requests

from spotify_assets.spotify.config import ClientConfig
from spotify_assets.spotify.errors import (
    SpotifyRateLimitError,
    SpotifyRunStoppedError,
    SpotifyUnavailableError,
)
from spotify_assets.spotify.pacing import Pacer
from spotify_assets.spotify.retry import Backoff, RetryBudget
from spotify_assets.spotify.stats import StatsRecorder

log = logging.getLogger(__name__)

RETRYABLE_STATUSES = frozenset({500, 502, 503, 504})
NOT_FOUND_RETRIES = 3
"""Retries (at most max_retries) of a 404 on an id listed in the same run, outside the budget."""
QUOTA_EXCEEDED = "QUOTA_EXCEEDED"
"""The `reason` of Spotify's quota 429 (since July 2026): the app is banned, often for a day."""
Endpoint = Literal["api", "token"]


def request_label(method: str, url: str) -> str:
    """A short, secret-free name for a request in messages: method and path."""
    return f"{method} {urlsplit(url).path}"


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds, decimals tolerated, or an HTTP-date);
    None when absent or unreadable."""
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def stopped(
    url: str, label: str, reason: str | None, retry_after: float | None, limit: float
) -> SpotifyRunStoppedError:
    """The error that stops a client: what Spotify said, and when a run can succeed again."""
    if retry_after is not None:
        when = datetime.now(UTC) + timedelta(seconds=retry_after)
        said = f"Spotify asked to wait {retry_after:.0f} s (Retry-After)"
        after = f"run again after {when:%Y-%m-%d %H:%M} UTC"
    else:
        said, after = "Spotify refused the request", "run again tomorrow"
    if reason == QUOTA_EXCEEDED:
        said += " because the app's quota is spent (QUOTA_EXCEEDED)"
    elif reason:
        said += f" ({reason})"
    return SpotifyRunStoppedError(
        f"{said} on {label}; stopped every request of the run, since requests sent during a "
        f"ban can lengthen it (max_retry_after_s is {limit:g}): {after}.",
        url=url,
        retry_after_s=retry_after,
        max_retry_after_s=limit,
        reason=reason,
    )


def error_detail(response: requests.Response) -> tuple[str, str | None]:
    """The message of an error response and its `reason`, whatever shape the body has.

    Spotify's Web API sends `{"error": {"status", "message"}}`, its accounts service the OAuth shape
    `{"error": "...", "error_description": "..."}`, and proxies or CDNs in between send HTML.
    """
    try:
        body = response.json()
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


class Transport:
    """Sends requests with timeouts, backoff on 5xx/timeouts/dropped connections, and 429 handling.

    Statuses other than 429 and 5xx (and a 404 the caller calls transient) come back to the caller
    as they are; only transient failures are handled here. Every attempt is counted in `stats`.
    """

    def __init__(
        self,
        session: requests.Session,
        config: ClientConfig,
        *,
        stats: StatsRecorder,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._session = session
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
        pacer: Pacer | None = None,
        params: Mapping[str, str | int] | None = None,
        headers: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        patience: int | None = None,
        not_found_is_transient: bool = False,
    ) -> requests.Response:
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
            if pacer is not None:
                pacer.acquire()
            self._stats.add(requests=1, **{f"{endpoint}_requests": 1})
            problem: str
            status: int | None = None
            try:
                response = self._session.request(
                    method,
                    url,
                    params=params,
                    headers=headers,
                    data=data,
                    auth=auth,
                    timeout=self._timeouts,
                )
                response.content  # noqa: B018 - read the whole body now, so a cut-off body is retried
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
                    self._wait_out_429(response, label, rate_limited, pacer, patience)
                    continue
                if pacer is not None:
                    pacer.on_accepted()
                status = response.status_code
                if status == 404 and not_found_is_transient and not_found < self._not_found_asks:
                    not_found += 1
                    problem = f"answered 404 ({error_detail(response)[0]}) for an id it just listed"
                elif status not in RETRYABLE_STATUSES:
                    return response
                else:
                    self._stats.add(http_5xx=1)
                    problem = f"answered {status} ({error_detail(response)[0]})"
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

    def _wait_out_429(
        self,
        response: requests.Response,
        label: str,
        attempt: int,
        pacer: Pacer | None,
        patience: int | None,
    ) -> None:
        """Hold back for Retry-After, or stop the whole client when Spotify asks for a wait
        longer than max_retry_after_s or says the app's quota is spent."""
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        too_many = attempt > (self._config.max_rate_limit_retries if patience is None else patience)
        spent = not too_many and not self._budget.take()
        error = refusal(response, label, retry_after, self._config, too_many=too_many, spent=spent)
        if error is not None:
            if isinstance(error, SpotifyRunStoppedError) and pacer is not None:
                pacer.halt(error)
            raise error
        log.warning(
            "Spotify rate limit on %s; Retry-After %s",
            label,
            "absent" if retry_after is None else f"{retry_after:g} s",
        )
        self._stats.add(retries=1)
        if pacer is not None and retry_after:
            pacer.on_rate_limited(retry_after)  # every worker waits in acquire(), counted there
        else:
            # No usable Retry-After (absent, 0, or the token endpoint): nothing to learn the
            # window from, so only this request backs off, with jitter.
            wait = retry_after or self._backoff.seconds(attempt)
            self._stats.add(waited_s=wait)
            self._sleep(wait)


def refusal(
    response: requests.Response,
    label: str,
    retry_after: float | None,
    config: ClientConfig,
    *,
    too_many: bool,
    spent: bool,
) -> SpotifyRateLimitError | None:
    """The error a 429 ends its request with: a stop (day-long wait, spent quota), too many 429s
    for one request, or a spent retry budget; None when it is worth waiting out."""
    message, reason = error_detail(response)
    limit = config.max_retry_after_s
    if reason == QUOTA_EXCEEDED or (retry_after is not None and retry_after > limit):
        return stopped(response.url, label, reason, retry_after, limit)
    because = f" ({reason})" if reason else ""
    if too_many:
        why = (
            f"Spotify kept answering 429 on {label}{because} ({message}); a restricted app can "
            "get 429 instead of 403 on an endpoint it may no longer use. Check the app's quota "
            "mode in the Spotify developer dashboard."
        )
    elif spent:
        why = (
            f"Spotify answered 429 on {label}{because} and the client's retry budget is spent: "
            "the run met more failures than retry_budget allows. Run again later."
        )
    else:
        return None
    return SpotifyRateLimitError(
        why, url=response.url, retry_after_s=retry_after, max_retry_after_s=limit, reason=reason
    )
