"""`guestsync replay --errors`: re-process inbox rows that failed mapping or validation.

A row rejected by a mapping keeps its raw record and its reason in the inbox. Once the
mapping (or the config) is fixed, replay resets those rows to pending and runs the process
stage, which maps them with the current mapping: fixed rows become guests and bookings,
the others are marked `error` again with their new reason. An id-only webhook row whose
fetch failed is fetched again first (after `api:` was added, or the outage ended).
Replaying twice is harmless.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..process.batch import ProcessStats
from ..store import Store


@dataclass
class ReplayStats:
    requeued: int
    process: ProcessStats
    fetched: int = 0  # id-only webhook rows fetched again
    fetch_failed: int = 0  # ... whose fetch failed again (still `error`)

    @property
    def fixed(self) -> int:
        return self.process.processed

    @property
    def still_failing(self) -> int:
        return self.process.rejected + self.fetch_failed


def replay_errors(
    store: Store,
    process: Callable[[], ProcessStats],
    *,
    source: str | None = None,
    fetch: Callable[[], Any] | None = None,
) -> ReplayStats:
    """Requeue the error rows (of `source`, or all), fetch the id-only ones again with
    `fetch` (webhooks.fetch.fetch_pending; returns FetchStats), and run `process` once.

    `process` is the hub's process stage; it also takes any rows that were pending
    already, so `process.processed` may count more than were requeued.
    """
    requeued = store.requeue_inbox_errors(source=source)
    fetched = failed = 0
    if requeued and fetch is not None and store.count_to_fetch(source=source):
        got = fetch()
        fetched, failed = got.fetched, got.failed
    stats = process() if requeued else ProcessStats()
    return ReplayStats(requeued, stats, fetched, failed)


__all__ = ["ReplayStats", "replay_errors"]
