"""Group commit: many concurrent webhook writes, one SQLite transaction.

Requests put their rows on a queue and wait on their own event; one writer thread takes
everything queued, writes it in one transaction under the store lock, and wakes each
request with its result. A request is answered only after the transaction holding its
rows committed; if that transaction fails, every request in it fails (5xx, the sender
retries). Waking waiters through their own events avoids the lock convoy a "whoever holds
the lock writes" scheme suffers when many threads queue on one lock.
"""

from __future__ import annotations

import queue
import threading

from ..metrics import Metrics
from ..store.protocols import WebhookWriter


class _Pending:
    """One request's rows; `ready` is a plain lock held until the commit answered (cheaper
    than an Event: no Condition, one C-level wait that releases the GIL)."""

    __slots__ = ("entries", "error", "event_id", "new", "ready", "source")

    def __init__(self, source: str, event_id: str, entries: list) -> None:
        self.source, self.event_id, self.entries = source, event_id, entries
        self.new = False
        self.error: BaseException | None = None
        self.ready = threading.Lock()
        self.ready.acquire()


class GroupCommit:
    def __init__(self, store: WebhookWriter, lock: threading.Lock, metrics: Metrics) -> None:
        self.store = store
        self.lock = lock
        self.metrics = metrics
        self._queue: queue.SimpleQueue[_Pending] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def queued(self) -> int:
        """Requests waiting for the next transaction."""
        return self._queue.qsize()

    def submit(self, source: str, event_id: str, entries: list) -> bool:
        """True if the event was new (rows stored), False if its id was seen before."""
        self._ensure_writer()
        item = _Pending(source, event_id, entries)
        self._queue.put(item)
        item.ready.acquire()  # released by the writer once the transaction ended
        if item.error is not None:
            raise item.error
        return item.new

    def _ensure_writer(self) -> None:
        if self._thread is None:
            with self._start_lock:
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._run, name="guestsync-inbox-writer", daemon=True
                    )
                    self._thread.start()

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            while True:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._write(batch)

    def _write(self, batch: list[_Pending]) -> None:
        try:
            with self.lock:
                results = self.store.add_webhook_events(
                    [(p.source, p.event_id, p.entries) for p in batch]
                )
        except Exception as exc:  # every request of the batch fails (5xx)
            for p in batch:
                p.error = exc
                p.ready.release()
            return
        self.metrics.commits.inc()
        self.metrics.committed.inc(len(batch))
        for p, new in zip(batch, results, strict=True):
            p.new = new
            p.ready.release()
