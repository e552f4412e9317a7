"""The worker of `guestsync serve`: the loop that moves acknowledged webhooks from the
intake file into the inbox (store/intake.py), fetches id-only webhook events, processes
the inbox in bulk, refreshes aggregates once a day and delivers. `worker_process.py` runs
it in a process of its own.
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
from ..store.intake import IntakeFile
from ..sync_engine import Hub

log = logging.getLogger(__name__)

# rows per bulk window of the worker under serve (process/batch.py's bulk lane): webhooks
# no longer wait for the store's write lock (they commit to the intake file,
# store/intake.py), so the worker catches up in large transactions; a step moves at most
# MOVE_ROWS rows from the intake file, so a step, and the drain at SIGTERM, stays short.
WORKER_WINDOW = 1000

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
        intake: IntakeFile | None = None,
    ) -> None:
        """`intake`: the file the webhooks are committed to; each step first moves what
        waits there (at most MOVE_ROWS rows) into the inbox."""
        self.hub = hub
        self.intake = intake
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
        older = timedelta(days=max(days, default=30))
        self.hub.store.forget_webhook_events(older_than=older)
        if self.intake is not None:
            with self.intake.atomic():
                self.intake.forget_webhook_events(older_than=older)
        self._pruned_at = time.monotonic()

    def step(self) -> bool:
        """One cycle; True if it did something (then the next one starts at once)."""
        store = self.hub.store
        self.prune()
        moved = 0
        if self.intake is not None:
            with self.metrics.runs.labels("move").time():
                moved = self.intake.move_into(store)
        with self.metrics.runs.labels("fetch").time():
            fetched = fetch_pending(store, self.hub.config.sources, self.session)
        with self.metrics.runs.labels("process").time():
            processed = self.hub.process(progress=self._drain_point)
        busy = moved + fetched.fetched + fetched.failed > 0
        busy = busy or processed.processed + processed.rejected > 0
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

    def _drain_point(self, done: int, total: int) -> None:
        """Called after each committed window (and settled chunk): at SIGTERM the step
        ends there; the rest stays pending (guests left to settle are kept as dirty
        and settled by the next run), so a stop waits for one window, not a backlog."""
        if self.stopping.is_set():
            raise Draining()

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


def serve_worker_hub(hub: Hub) -> Hub:
    """The worker's hub under serve: the inbox processed in bulk windows (the bulk lane),
    no mapping pool (the worker is a process of its own already; a pool would take the
    intake processes' core)."""
    hub.process_batch_size = WORKER_WINDOW
    hub.bulk = True
    hub.parallel_min_rows = sys.maxsize
    return hub
