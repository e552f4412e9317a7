"""Retry policy for remote calls, built once from config on tenacity.

Retries only `RetryableError`; waits exponentially with jitter, but never less than the
remote's Retry-After. A Retry-After longer than `max_wait` is not waited out in this run:
the call gives up and the records stay queued for the next run.
`sleep` is injected so tests never wait and can assert the exact waits.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from ..config.base import RetryOptions
from ..errors import RateLimitedError, RetryableError

T = TypeVar("T")


class _WaitHonouringRetryAfter:
    def __init__(self, options: RetryOptions) -> None:
        self.backoff = wait_exponential_jitter(
            multiplier=options.initial_wait, max=options.max_wait, jitter=options.initial_wait
        )

    def __call__(self, state: RetryCallState) -> float:
        wait = self.backoff(state)
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RateLimitedError) and exc.retry_after is not None:
            wait = max(wait, exc.retry_after)
        return wait


def _stop(options: RetryOptions) -> Callable[[RetryCallState], bool]:
    attempts = stop_after_attempt(options.max_attempts)

    def stop(state: RetryCallState) -> bool:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RateLimitedError) and (exc.retry_after or 0) > options.max_wait:
            return True
        return attempts(state)

    return stop


def call_with_retry(
    fn: Callable[[], T],
    options: RetryOptions,
    *,
    sleep: Callable[[float], None] = time.sleep,
    on_retry: Callable[[BaseException, float], None] | None = None,
) -> T:
    """Call `fn`, retrying transient failures; re-raises the last error when out of tries."""

    def before_sleep(state: RetryCallState) -> None:
        if on_retry and state.outcome and state.next_action:
            exc = state.outcome.exception()
            if exc is not None:  # always, as only exceptions are retried
                on_retry(exc, state.next_action.sleep)

    retrying = Retrying(
        retry=retry_if_exception_type(RetryableError),
        wait=_WaitHonouringRetryAfter(options),
        stop=_stop(options),
        sleep=sleep,
        before_sleep=before_sleep,
        reraise=True,
    )
    return retrying(fn)
