"""The worker of `guestsync serve`: the loop that processes the inbox, fetches id-only
webhook events, refreshes aggregates once a day and delivers, in short transactions taken
in turn with the webhook writer. `worker_process.py` runs it in a process of its own.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import requests

from ..intake.fetch import fetch_pending
from ..metrics import Metrics
from ..restaurant import privacy
from ..store import WriteTurn
from ..sync_engine import Hub

log = logging.getLogger(__name__)

# inbox rows per worker transaction under serve (mapped before it opens), and the worker's
# rest after each: a webhook waits for SQLite's write lock at most one such transaction.
# Measured with bench_webhooks.py --worker on 2 busy cores: the worker held the lock
# 1.3 ms at the median (p99 28 ms) with 1 row, 8.6 ms (p99 54 ms) with 5; webhook p99
# 47-65 ms with 1 row, 63-87 ms with 5. The price: the worker spends ~2.5 ms of CPU per
# row instead of ~1.6 (a commit per row) and drains ~135 rows/s instead of ~300, far
# above a restaurant group's webhook rate (bulk imports run as scheduled jobs, in
# 500-row transactions).
WORKER_BATCH, WORKER_PAUSE = 1, 0.002
# guests per transaction of the worker's daily refresh: 1000 held the lock ~150 ms
WORKER_REFRESH_CHUNK = 50

PAUSE_FIRST, PAUSE_MAX = 30.0, 900.0  # seconds a stopped target rests, doubling


class Draining(Exception):
    """Raised by the worker's sleep once SIGTERM arrived: a retry wait is cut short and
    the batch stays pending in the outbox (delivered after the restart)."""


def interruptible_sleep(stopping: threading.Event) -> Callable[[float], None]:
    def sleep(seconds: float) -> None:
        if stopping.wait(seconds):
            raise Draining()

    return sleep


class Worker:
    """Fetch, process, deliver; again at once while there is work, else wait `interval`."""

    def __init__(
        self,
        hub: Hub,
        *,
        metrics: Metrics,
        interval: float = 1.0,
        session: requests.Session | None = None,
        stopping: threading.Event | None = None,
        turn: threading.Lock | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.hub = hub
        self.clock = clock
        # target -> (resume at, pause length): a target whose delivery stopped (credentials
        # refused, quota used up, retries exhausted) rests instead of being called every
        # `interval`; the pause doubles while it keeps stopping, and ends at its first
        # normal delivery.
        self.paused: dict[str, tuple[float, float]] = {}
        self.turn = turn or threading.Lock()  # shared with the scheduled jobs
        self.metrics = metrics
        self.interval = interval
        self.session = session or requests.Session()
        self.stopping = stopping or threading.Event()
        self.cycles = 0
        self.last_error: str | None = None
        self._pruned_at = float("-inf")
        self._thread = threading.Thread(target=self.run, name="guestsync-worker", daemon=True)

    def prune(self, *, every: float = 3600.0) -> None:
        """Forget webhook event ids past the longest `remember_days` (at least 7 days)."""
        if time.monotonic() - self._pruned_at < every:
            return
        days = [
            hook.remember_days
            for src in self.hub.config.sources.values()
            if (hook := getattr(src, "webhook", None)) is not None
        ]
        self.hub.store.forget_webhook_events(older_than=timedelta(days=max(days, default=30)))
        self._pruned_at = time.monotonic()

    def step(self) -> bool:
        """One cycle; True if it did something (then the next one starts at once)."""
        store = self.hub.store
        self.prune()
        with self.metrics.runs.labels("fetch").time():
            fetched = fetch_pending(store, self.hub.config.sources, self.session)
        with self.metrics.runs.labels("process").time():
            processed = self.hub.process()
        busy = fetched.fetched + fetched.failed + processed.processed + processed.rejected > 0
        if self.stopping.is_set():
            return busy
        now = self.clock()
        due = [t for t in self.hub.targets if self.paused.get(t, (now, 0.0))[0] <= now]
        with self.metrics.runs.labels("deliver").time():
            for d in self.hub.deliver(due) if due else []:
                self.metrics.deliveries.labels(d.target).inc(d.pushed)
                self.metrics.retries.labels(d.target).inc(d.retries)
                self.metrics.dead.labels(d.target).inc(d.dead)
                busy = busy or d.pushed + d.dead > 0
                self._pause_if_stopped(d.target, d.stopped, now)
        self.cycles += 1
        return busy

    def notes(self) -> dict[str, Any]:
        """For /healthz: targets resting after a stop (seconds left), the last error."""
        now = self.clock()
        notes: dict[str, Any] = {}
        if paused := {t: round(at - now) for t, (at, _) in self.paused.items() if at > now}:
            notes["paused_targets"] = paused
        if self.last_error:
            notes["worker_error"] = self.last_error
        return notes

    def _pause_if_stopped(self, target: str, stopped: str | None, now: float) -> None:
        if stopped is None:
            self.paused.pop(target, None)
            return
        _, last = self.paused.get(target, (now, 0.0))
        pause = min(max(2 * last, PAUSE_FIRST), PAUSE_MAX)
        self.paused[target] = (now + pause, pause)
        log.warning("%s; next attempt in %.0f s", stopped, pause)

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                with self.turn:
                    busy = self.step()
                self.last_error = None
            except Draining:
                break
            except Exception as exc:  # keep serving; the error is in /healthz and the log
                self.last_error = f"{type(exc).__name__}: {exc}"
                if privacy.installed():  # shown by /healthz: masked as the log is
                    self.last_error = privacy.mask(self.last_error)
                log.exception("worker step failed")
                busy = False
            if not busy:
                self.stopping.wait(self.interval)

    def start(self) -> None:
        self._thread.start()

    def alive(self) -> bool:
        return self._thread.is_alive() and not self.stopping.is_set()

    def stop(self, *, timeout: float = 30.0) -> None:
        self.stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout)


def serve_worker_hub(hub: Hub, write_turn: Any) -> Hub:
    """The worker's hub under serve: short transactions (a webhook waits for the write
    lock at most one batch), taken in turn with the webhook writer, no mapping pool (its
    2000-row transactions would hold the write lock for seconds)."""
    hub.process_batch_size = WORKER_BATCH
    hub.refresh_chunk = WORKER_REFRESH_CHUNK
    hub.parallel_min_rows = sys.maxsize
    hub.map_ahead = True
    hub.store.write_turn = WriteTurn(write_turn, pause=WORKER_PAUSE)
    return hub
