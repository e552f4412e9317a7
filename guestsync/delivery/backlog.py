"""Batches waiting out a backoff, so that one failing batch does not hold back the others.

A batch whose call failed transiently is parked here with a not-before time (from the
retry policy: exponential backoff with jitter, never less than Retry-After) and delivery
goes on with the next batches; the parked one is sent again once it is due, taking its
token from the account's shared rate budget like any call. Only when nothing else is left
to send does delivery sleep, and then only until the earliest parked batch is due.

At most `limit` batches wait at once: more failing together means the CRM is likely down,
and delivery waits for those instead of failing fresh batches against it.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ..models import OutboxItem


@dataclass(order=True)
class Parked:
    """One batch to send again: after `not_before` (the clock's time), `tries` done so far."""

    not_before: float
    seq: int
    items: Sequence[OutboxItem] = field(compare=False)
    tries: int = field(compare=False, default=0)
    error: str = field(compare=False, default="")


class Backlog:
    def __init__(self, *, clock: Callable[[], float], limit: int) -> None:
        self.clock = clock
        self.limit = limit
        self.heap: list[Parked] = []
        self.seq = itertools.count()

    def __len__(self) -> int:
        return len(self.heap)

    def park(self, items: Sequence[OutboxItem], *, tries: int, wait: float, error: str) -> None:
        unit = Parked(self.clock() + wait, next(self.seq), items, tries, error)
        heapq.heappush(self.heap, unit)

    def due(self) -> Parked | None:
        """The earliest parked batch whose wait is over, taken out; None if none is due."""
        if self.heap and self.heap[0].not_before <= self.clock():
            return heapq.heappop(self.heap)
        return None

    def room(self, failed_in_a_row: int) -> bool:
        """Whether a fresh batch may be taken: fewer parked than the limit, less one for
        each batch that gave up since the last success (the CRM may be down)."""
        return len(self.heap) < max(1, self.limit - failed_in_a_row)

    def wait_for_next(self, sleep: Callable[[float], None]) -> Parked:
        """Sleep until the earliest parked batch is due and take it out."""
        unit = heapq.heappop(self.heap)
        wait = unit.not_before - self.clock()
        if wait > 0:
            sleep(wait)
        return unit

    def drain(self) -> list[Parked]:
        units, self.heap = self.heap, []
        return units
