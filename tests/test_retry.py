from __future__ import annotations

import pytest

from guestsync.config.base import RetryOptions
from guestsync.connectors.retry import call_with_retry
from guestsync.errors import PermanentError, RateLimitedError, RetryableError


def _failing(errors):
    calls = []

    def fn():
        calls.append(1)
        if errors:
            raise errors.pop(0)
        return "ok"

    return fn, calls


def test_retries_transient_errors_with_growing_waits_and_honours_retry_after():
    fn, calls = _failing(
        [RetryableError("a"), RetryableError("b"), RateLimitedError("c", retry_after=5.0)]
    )
    waits: list[float] = []
    opts = RetryOptions(max_attempts=5, initial_wait=1, max_wait=10)
    assert call_with_retry(fn, opts, sleep=waits.append) == "ok"
    assert len(calls) == 4
    assert 1 <= waits[0] <= 2 and 2 <= waits[1] <= 3  # exponential, jitter up to initial_wait
    assert waits[2] >= 5.0  # never shorter than Retry-After


def test_gives_up_after_max_attempts_and_reraises():
    fn, calls = _failing([RetryableError(str(i)) for i in range(10)])
    with pytest.raises(RetryableError, match="2"):
        call_with_retry(fn, RetryOptions(max_attempts=3, initial_wait=0), sleep=lambda s: None)
    assert len(calls) == 3


def test_retry_after_longer_than_max_wait_is_not_waited_out():
    fn, calls = _failing([RateLimitedError("daily", retry_after=3600)])
    waits: list[float] = []
    with pytest.raises(RateLimitedError):
        call_with_retry(fn, RetryOptions(max_wait=60), sleep=waits.append)
    assert waits == [] and len(calls) == 1


def test_permanent_errors_are_not_retried():
    fn, calls = _failing([PermanentError("400")])
    with pytest.raises(PermanentError):
        call_with_retry(fn, RetryOptions(), sleep=lambda s: None)
    assert len(calls) == 1
