"""A token bucket: at most `rate` calls per second on average, bursts up to `burst`.

Shared by delivery (one per CRM account) and pull sources (one per source). `clock` and
`sleep` are injected so tests never wait.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class TokenBucket:
    def __init__(
        self,
        rate: float,
        *,
        burst: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.capacity = burst if burst is not None else max(1.0, rate)
        self.clock = clock
        self.sleep = sleep
        self._tokens = self.capacity
        self._last = clock()
        self._lock = threading.Lock()

    def _refill(self) -> None:
        now = self.clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._last) * self.rate)
        self._last = now

    def acquire(self, tokens: float = 1.0) -> float:
        """Take `tokens`, sleeping until they are there; returns the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                self._refill()
                # The tolerance keeps float rounding from looping on a 1e-17 s wait.
                if self._tokens >= tokens - 1e-9:
                    self._tokens = max(0.0, self._tokens - tokens)
                    return waited
                wait = (tokens - self._tokens) / self.rate
            self.sleep(wait)
            waited += wait
