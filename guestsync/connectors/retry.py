"""Retry policy for remote calls, built once from config.

Retries only `RetryableError`; waits exponentially with jitter, but never less than the
remote's Retry-After. A Retry-After longer than `max_wait` is not waited out in this run:
the call gives up and the records stay queued for the next run.

`RetryPolicy.wait_after` is the one rule; `call_with_retry` applies it in a blocking loop
(on tenacity), and delivery applies it without blocking (a failing batch waits in a
backlog while the others go on, `delivery/backlog.py`). `sleep` and the jitter's `random`
are injected so tests never wait and can assert the exact waits.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception_type

from ..config.base import RetryOptions
from ..errors import RateLimitedError, RetryableError

T = TypeVar("T")


class RetryPolicy:
    """When to try a failed call again, from `RetryOptions`."""

    def __init__(
        self, options: RetryOptions, *, jitter: Callable[[float, float], float] = random.uniform
    ) -> None:
        self.options = options
        self.jitter = jitter

    def wait_after(self, attempt: int, exc: BaseException) -> float | None:
        """Seconds to wait before trying again after try number `attempt` (1-based) failed
        with `exc`; None when the call should give up for this run."""
        o = self.options
        if not isinstance(exc, RetryableError) or attempt >= o.max_attempts:
            return None
        retry_after = exc.retry_after if isinstance(exc, RateLimitedError) else None
        if retry_after is not None and retry_after > o.max_wait:
            return None  # e.g. a daily limit: not waited out in this run
        try:
            backoff = o.initial_wait * 2 ** (attempt - 1) + self.jitter(0, o.initial_wait)
        except OverflowError:
            backoff = o.max_wait
        wait = max(0.0, min(backoff, o.max_wait))
        return max(wait, retry_after) if retry_after is not None else wait


def call_with_retry(
    fn: Callable[[], T],
    options: RetryOptions,
    *,
    sleep: Callable[[float], None] = time.sleep,
    on_retry: Callable[[BaseException, float], None] | None = None,
) -> T:
    """Call `fn`, retrying transient failures; re-raises the last error when out of tries."""
    policy = RetryPolicy(options)

    def wait_after(state: RetryCallState) -> float | None:
        exc = state.outcome.exception() if state.outcome else None
        return policy.wait_after(state.attempt_number, exc) if exc is not None else None

    def before_sleep(state: RetryCallState) -> None:
        if on_retry and state.outcome and state.next_action:
            exc = state.outcome.exception()
            if exc is not None:  # always, as only exceptions are retried
                on_retry(exc, state.next_action.sleep)

    retrying = Retrying(
        retry=retry_if_exception_type(RetryableError),
        wait=lambda state: wait_after(state) or 0.0,
        stop=lambda state: wait_after(state) is None,
        sleep=sleep,
        before_sleep=before_sleep,
        reraise=True,
    )
    return retrying(fn)
