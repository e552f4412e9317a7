"""Group commit: many concurrent webhook writes, one SQLite transaction.

Requests put their rows on a queue. One of them at a time is the leader: it takes
everything queued (its own rows among them), writes it in one transaction under the store
lock, wakes each other request of that transaction with its result, and hands the lead
to the first request still queued, if any, before it answers its own. A request is
answered only after the transaction holding its rows committed; if that transaction
fails, every request in it fails (5xx, the sender retries).

Why no writer thread of its own: a request handed to a writer thread costs two thread
switches more per transaction (the writer's wake-up and the leader's own wait), and on
2 cores the intake's kernel time was mostly thread switches (perf: finish_task_switch,
a quarter of the intake processes' CPU). Waiters are woken through their own locks, never
by racing for one lock: that avoids the convoy a "whoever holds the lock writes" scheme
suffers when many threads queue on one lock.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Sequence

from ..metrics import Metrics
from ..store.protocols import WebhookWriter


class Rows:
    """One request's rows, and what their transaction made of them (`write`)."""

    __slots__ = ("done", "entries", "error", "event_id", "new", "source")

    def __init__(self, source: str, event_id: str, entries: list) -> None:
        self.source, self.event_id, self.entries = source, event_id, entries
        self.new = False
        self.done = False  # False when woken: this request leads the next transaction
        self.error: BaseException | None = None


class _Pending(Rows):
    """`ready` is a plain lock held until the request is answered or made leader (cheaper
    than an Event: no Condition, one C-level wait that releases the GIL)."""

    __slots__ = ("ready",)

    def __init__(self, source: str, event_id: str, entries: list) -> None:
        super().__init__(source, event_id, entries)
        self.ready = threading.Lock()
        self.ready.acquire()


class GroupCommit:
    def __init__(self, store: WebhookWriter, lock: threading.Lock, metrics: Metrics) -> None:
        self.store = store
        self.lock = lock
        self.metrics = metrics
        self._mutex = threading.Lock()  # guards _queue and _leading; held only briefly
        self._queue: deque[_Pending] = deque()
        self._leading = False

    def queued(self) -> int:
        """Requests waiting for the next transaction."""
        return len(self._queue)

    def submit(self, source: str, event_id: str, entries: list) -> bool:
        """True if the event was new (rows stored), False if its id was seen before."""
        item = _Pending(source, event_id, entries)
        with self._mutex:
            self._queue.append(item)
            lead = not self._leading
            self._leading = True
        if not lead:
            item.ready.acquire()  # answered, or made leader by the previous one
        if not item.done:
            self._lead()
        if item.error is not None:
            raise item.error
        return item.new

    def _lead(self) -> None:
        with self._mutex:
            batch = list(self._queue)
            self._queue.clear()
        try:
            self.write(batch)
        finally:
            with self._mutex:
                if self._queue:
                    self._queue[0].ready.release()  # the next leader (done stays False)
                else:
                    self._leading = False
            for p in batch[1:]:  # batch[0] is the leader's own request
                p.ready.release()

    def write(self, batch: Sequence[Rows]) -> None:
        """One transaction for `batch`: each item's `new`, or every item's `error`."""
        for p in batch:
            p.done = True
        try:
            with self.lock:
                results = self.store.add_webhook_events(
                    [(p.source, p.event_id, p.entries) for p in batch]
                )
            for p, new in zip(batch, results, strict=True):
                p.new = new
        except Exception as exc:  # every request of the batch fails (5xx)
            for p in batch:
                p.error = exc
            return
        self.metrics.commits.inc()
        self.metrics.committed.inc(len(batch))
