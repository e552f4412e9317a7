"""One request budget per CRM account, shared by every process writing to it.

A token bucket kept in the store (table `rate_budgets`), so that several schedules, a
`guestsync sync` from cron and `guestsync serve` pushing to one HubSpot portal together
stay under the portal's limit. Each call reserves one token in its own short transaction
and sleeps until the token is due. The burst is one request: spacing calls evenly is what
keeps a vendor's rolling window (HubSpot: 190 per 10 s) from ever being exceeded.

`clock` must be wall time shared across processes (time.time), not monotonic; tests inject
both clock and sleep.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from ..store.protocols import DeliveryStore

# Pace a little under the documented rate: the vendor's window and our clock differ by a
# request's latency, and a 429 costs more than 3% of throughput.
SAFETY = 0.97


class SharedRateLimiter:
    def __init__(
        self,
        store: DeliveryStore,
        account: str,
        rate: float,
        *,
        burst: float = 1.0,
        safety: float = SAFETY,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.store = store
        self.account = account
        self.rate = rate * safety
        self.burst = burst
        self.clock = clock
        self.sleep = sleep
        self.waited = 0.0

    def acquire(self) -> float:
        """Take one request's token, sleeping until it is due; returns the seconds waited."""
        wait = self.store.reserve_rate_token(
            self.account, rate=self.rate, burst=self.burst, now=self.clock()
        )
        if wait > 0:
            self.sleep(wait)
            self.waited += wait
        return wait


def pacer_for(
    store: DeliveryStore,
    name: str,
    target: object,
    options: object,
    *,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> Callable[[], float] | None:
    """The `acquire` of the target's shared budget: the configured `rate` (else the
    target's documented one) under `rate_account` (else the target's `account`, else its
    name). None when there is no rate to keep."""
    rate = getattr(options, "rate", None) or getattr(target, "rate", None)
    if not rate:
        return None
    account = (
        getattr(options, "rate_account", None)
        or getattr(target, "account", None)
        or f"target:{name}"
    )
    return SharedRateLimiter(store, account, rate, clock=clock, sleep=sleep).acquire
