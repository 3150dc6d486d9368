"""What the feed and album-tracks readers share: the configuration and the client's parts, among
them its worker pool (Workers), which runs independent requests at once, results in order."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import TypeVar

from spotify_assets.spotify.api import SpotifyApi
from spotify_assets.spotify.config import ClientConfig
from spotify_assets.spotify.errors import SpotifyForbiddenError
from spotify_assets.spotify.listing import Listing, settled
from spotify_assets.spotify.memory import AppMemory
from spotify_assets.spotify.pacing import Pacer
from spotify_assets.spotify.paging import Page, get_page
from spotify_assets.spotify.stats import StatsRecorder

log = logging.getLogger(__name__)

R = TypeVar("R")


class Workers:
    """One thread pool for the client's life, shared by every call that fans out.

    The pool bounds how many requests are in flight at once (the pacer paces them). A call
    made from one of the pool's own threads runs inline, so nested fan-outs cannot deadlock it.
    """

    def __init__(self, max_workers: int) -> None:
        self._pool = ThreadPoolExecutor(max_workers, thread_name_prefix="spotify")
        self._local = threading.local()

    def run_all(self, calls: Sequence[Callable[[], R]]) -> list[R]:
        """Run `calls` concurrently, results in order; the first error cancels the calls not
        started and is raised once those running have ended, so that nothing of this call goes
        on after it returned (what they fetched is kept by whoever they report to)."""
        if len(calls) <= 1 or getattr(self._local, "inside", False):
            return [call() for call in calls]
        futures: list[Future[R]] = [self._pool.submit(self._inside, call) for call in calls]
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        failed = next((f for f in done if f.exception() is not None), None)
        if failed is not None:
            for future in futures:
                future.cancel()
            wait(futures)
            failed.result()
        return [future.result() for future in futures]

    def close(self) -> None:
        """Stop the threads once the calls in progress are done."""
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _inside(self, call: Callable[[], R]) -> R:
        """Run `call` on a pool thread, marked so that nested fan-outs run inline."""
        self._local.inside = True
        return call()


@dataclass(frozen=True)
class ClientContext:
    """The parts of one client, wired once by SpotifyClient and handed to its readers."""

    config: ClientConfig
    api: SpotifyApi
    workers: Workers
    memory: AppMemory
    pacer: Pacer
    stats: StatsRecorder

    def fall_back(self, fallback: Callable[[], R], refuse: Callable[[bool], object]) -> R:
        """After a 429 on a probe where a restricted app expects a 403 (pacing.is_refusal): note the
        refusal for this run (`refuse(False)`), run `fallback`, and keep the refusal for later
        runs (`refuse(True)`) only when `fallback` met no 429; else the 429 was the rate limit."""
        refuse(False)
        before = self.stats.snapshot().http_429
        result = fallback()
        if self.stats.snapshot().http_429 == before:
            refuse(True)
        return result

    def refused_twice(self, probe: Callable[[], R], *, again: Callable[[], bool]) -> R:
        """`probe` an endpoint the app may have lost; when Spotify refuses it with a 403 (and
        `again()` says the refusal came before the endpoint answered anything), once more after
        a backoff: the refusal is remembered for a week, and one 403 is evidence, not proof (a
        refusal that did not hold has been seen). A second 403 is believed (raised)."""
        try:
            return probe()
        except SpotifyForbiddenError as exc:
            if not again():
                raise
            delay = self.config.backoff_base_s
            log.warning("%s Asking once more in %.2f s before believing it.", exc, delay)
            self.stats.add(retries=1, waited_s=delay, refused_probes=1)
            time.sleep(delay)
        try:
            return probe()
        except SpotifyForbiddenError:
            self.stats.add(refused_probes=1)
            raise

    def settled(
        self,
        what: str,
        pages: Callable[[int], Iterator[Page]],
        key: str | None = None,
        *,
        total_is_estimate: bool = False,
        keep_unsettled: bool = False,
    ) -> Listing:
        """A listing read without drift, or its best read (see listing.settled), counting the
        restarts in the client's stats; a page holding a duplicate is read again from its
        `href` (bodies `{key: paging}` when `key` is given); `total_is_estimate` for search's
        listings, `keep_unsettled` for a feed that may keep a pass whose duplicates moved."""
        return settled(
            what,
            pages,
            max_restarts=self.config.max_drift_restarts,
            on_restart=lambda: self.stats.add(drift_restarts=1),
            reread=lambda href: get_page(self.api, href, key),
            total_is_estimate=total_is_estimate,
            keep_unsettled=keep_unsettled,
        )
