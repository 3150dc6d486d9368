"""The client's worker pool: runs independent requests at once and returns results in order."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from typing import TypeVar

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
