"""`guestsync serve`: the webhook server, the worker and the scheduled jobs.

Why waitress: a production WSGI server that is pure Python and runs the same on Linux,
macOS and Windows (restaurant IT often runs a Windows box; gunicorn is POSIX-only). Its
thread pool fits this workload: a webhook request is a signature check and one short
SQLite transaction, so threads are enough.

Threads: waitress's accept loop and request threads; the worker (fetch id-only events,
process the inbox, deliver the outbox, continuously: a thread, or under the CLI a
supervised child process, worker_process.py, so that it never takes the GIL from the
requests; the two take turns at SQLite's write lock); the scheduler's thread for
the sources with `schedule:` (a job reads and processes, then the worker delivers; a job
and a worker step take turns). SIGTERM (or
Ctrl-C) drains: stop accepting, finish the requests in flight, let the worker and a
running job finish their current step, close the stores, exit 0. Every stage is durable
in the store, so a restart (even after kill -9) resumes where it stopped.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import requests
import waitress

from ..config import Config
from ..intake.fetch import fetch_pending
from ..metrics import Metrics
from ..restaurant import privacy
from ..store import Store, WriteTurn
from ..store.checkpointer import Checkpointer
from ..sync_engine import Hub
from ..webhook_server import create_app
from .scheduler import Job, build_scheduler, export_jobs, source_jobs
from .worker_process import WorkerProcess

if TYPE_CHECKING:
    from apscheduler.schedulers.base import BaseScheduler

log = logging.getLogger("guestsync.serve.service")
# waitress warns on every queued request under load; the queue is expected and bounded
logging.getLogger("waitress.queue").setLevel(logging.ERROR)


# /healthz answers queue depths at most this old (webhooks/health.py): a probe costs a
# webhook's worth, not whole-table counts
HEALTH_MAX_AGE = 1.0

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


def run_intake(hub_factory: Callable[[], Hub], source: str) -> str:
    """One scheduled run of a source under serve: read its files or pull its API and
    process, recorded in `runs`; the worker delivers (one deliverer per process, with its
    metrics and its pauses of a stopped target)."""
    hub = hub_factory()
    try:
        summary = hub.sync(sources=[source], deliver=False, kind=f"schedule:source:{source}")
        return "ok" if summary.ok else "partial"
    finally:
        hub.close()


def start_scheduler(
    config: Config, hub_factory: Callable[[], Hub], turn: threading.Lock, metrics: Metrics
) -> BaseScheduler | None:
    """The `schedule:` jobs (guestsync/scheduler.py) in a background scheduler, or None
    when no source has one. A job takes `turn`, which the worker holds for each of its
    steps: both process the inbox, and two processors reading the same pending rows at
    once would map them twice."""
    jobs = source_jobs(config, hub_factory)
    exports = export_jobs(config, hub_factory)  # read the store only: no turn needed
    if not jobs and not exports:
        return None

    def intake(job: Job) -> Job:
        source = job.id.removeprefix("source:")

        def run() -> str:
            with turn, metrics.runs.labels("schedule").time():
                return run_intake(hub_factory, source)

        return Job(job.id, job.cron, run)

    sched = build_scheduler([intake(j) for j in jobs] + exports, timezone=config.defaults.timezone)
    sched.start()
    return sched


class Service:
    def __init__(
        self,
        config: Config,
        *,
        host: str | None = None,
        port: int | None = None,
        hub_factory: Callable[..., Hub] = Hub,
        worker: bool = True,
        worker_process: bool = False,
    ) -> None:
        """`worker_process`: run the worker in a supervised child process (what
        `guestsync serve` does; worker_process.py) rather than in a thread."""
        self.config = config
        self.metrics = Metrics()
        stopping = threading.Event()
        self.app_store = Store.open(config.store_path)
        # the webhook writer and the worker take turns at SQLite's write lock (store/wal.py)
        self.app_store.write_turn = write_turn = WriteTurn(threading.Lock())
        self.hub = hub_factory(config, sleep=interruptible_sleep(stopping))
        self.worker: Worker | WorkerProcess
        if worker_process and config.path.exists() and self.app_store.file_path():
            self.worker = WorkerProcess(
                config.path.resolve(),
                metrics=self.metrics,
                write_turn=write_turn,
                stopping=stopping,
            )
        else:
            self.worker = Worker(
                serve_worker_hub(self.hub, write_turn.lock),
                metrics=self.metrics,
                interval=config.server.worker_interval,
                stopping=stopping,
            )
        # each scheduled run opens its own Hub; its retry waits end at SIGTERM too
        self.job_hub = lambda: hub_factory(config, sleep=interruptible_sleep(stopping))
        self.run_worker = worker
        # the webhook writer leaves WAL checkpoints to a thread (store/wal.py)
        path = self.app_store.file_path()
        self.checkpointer = Checkpointer(path) if path is not None else None
        if self.checkpointer is not None:
            self.app_store.defer_checkpoints()
        app = create_app(
            config,
            store=self.app_store,
            metrics=self.metrics,
            worker_alive=self.worker.alive if worker else None,
            worker_notes=self.worker.notes if worker else None,
            health_max_age=HEALTH_MAX_AGE,
        )
        self.reader = app.extensions["guestsync"]["reader"]
        self.server: Any = waitress.create_server(
            app,
            host=host or config.server.host,
            port=config.server.port if port is None else port,
            threads=config.server.threads,
            ident="guestsync",
            clear_untrusted_proxy_headers=True,
            # waitress buffers a body before the app sees it: refuse huge ones early
            # (the app answers 413 itself, with metrics, below 4x the largest max_body)
            max_request_body_size=4 * max(_max_bodies(config), default=1024 * 1024),
        )
        self.url = f"http://{self.server.effective_host}:{self.server.effective_port}"
        self._http = threading.Thread(target=self.server.run, name="guestsync-http", daemon=True)
        self.scheduler: Any | None = None

    def start(self) -> Service:
        if self.run_worker:
            self.worker.start()
        self.scheduler = start_scheduler(self.config, self.job_hub, self.worker.turn, self.metrics)
        if self.checkpointer is not None:
            self.checkpointer.start()
        self._http.start()
        return self

    def stop(self, *, timeout: float = 30.0) -> None:
        """Drain: no new connections; requests in flight finish; the worker finishes its
        step; then the stores close.

        waitress has no public drain call (its run() loop ends when its socket map is
        empty), so the listening socket and then the idle channels are closed from inside
        its loop thread through its trigger, after its task threads finished."""
        srv = self.server
        _in_loop(srv, lambda: _stop_accepting(srv))
        srv.task_dispatcher.shutdown(cancel_pending=False, timeout=timeout)
        _in_loop(srv, lambda: _close_channels(srv))
        self._http.join(timeout)
        self.worker.stopping.set()  # cuts short the retry waits of the worker and jobs
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=True)  # a running job ends its current step
        self.worker.stop(timeout=timeout)
        if self.checkpointer is not None:
            self.checkpointer.stop(timeout=timeout)
        self.hub.close()
        self.reader.close()
        self.app_store.close()


def _max_bodies(config: Config) -> list[int]:
    return [
        hook.max_body
        for src in config.sources.values()
        if (hook := getattr(src, "webhook", None)) is not None
    ]


def _in_loop(srv: Any, thunk: Callable[[], None]) -> None:
    """Run `thunk` in waitress's loop thread. If the trigger's pipe is closed already
    (seen once in a full test run: EBADF; its cause not found, not reproduced alone),
    nothing can run it; stop() must still stop the worker and close the stores, so this
    logs and goes on."""
    try:
        srv.trigger.pull_trigger(thunk)
    except OSError as e:
        log.warning("HTTP server loop already closed (%s); stopping the rest", e)


def _stop_accepting(srv: Any) -> None:
    srv.accepting = False
    srv.del_channel()
    srv.socket.close()


def _close_channels(srv: Any) -> None:
    for channel in list(srv._map.values()):
        if channel is not srv.trigger:
            channel.handle_close()
    srv.trigger.close()
