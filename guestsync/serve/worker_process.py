"""`guestsync serve`'s worker in a child process of its own, supervised by the service.

Why: the worker (move, fetch, map, resolve identities, deliver) is CPU-bound Python; in a
child it has a GIL of its own, and it runs at a lower CPU priority (WORKER_NICE): the
webhook requests never wait for it (they commit to the intake file, store/intake.py, not
to the store it writes), so when the cores are busy the requests go first and the worker
catches up, in bulk, with what is left.

- The child is spawned (never forked: the parent runs threads and holds SQLite
  connections) and loads the same config file; it runs the same `Worker`.
- The worker's steps take turns with the scheduled jobs (which stay in the parent)
  through a shared lock.
- Every HEARTBEAT seconds the child reports whether its worker runs and its notes (paused
  targets, last error), which /healthz shows; its metric updates (deliveries, retries,
  dead letters, stage durations) are sent as they happen and counted in the parent's
  /metrics.
- Supervised: a child that dies is started again (after 1 s, doubling up to 60 s while it
  keeps dying); the lock is renewed then, as a dead child may have held it.
- Drain: the service asks the child to stop; it finishes its current step (a retry wait
  is cut short; a step moves at most MOVE_ROWS webhooks, so it is short whatever the
  backlog, which waits in the intake file) and exits. If the parent dies (even kill -9),
  the child's pipe ends and it exits at once, as one process would have: every stage is
  durable in the store, so the next start resumes where it stopped.

Tried for issue 26 (webhook p99 while the worker drains) and not kept: the child's I/O
priority (ioprio_set, class idle or best-effort 7; vda uses mq-deadline here) left the
worker's drain stalled for minutes in a first side-by-side run while p99 did not drop
(one round each: 51.7 and 48.8 ms against 14.2 and 24.0 ms without); that run shared one
fake CRM between the variants, which also slowed the second one's deliveries, so it is
a hint, not a figure. The worker waiting after a busy step while webhooks arrive (at
least 200/s, at most 3 s, then a step anyway): 3 alternating rounds of 5 s, 16
connections, each variant its own serve and CRM: median p99 17.5 ms (13.7, 17.5, 20.0)
against 19.1 ms (15.7, 19.1, 21.1) without, POST/s 5,201 against 5,087, and the backlog
drained 5 to 7 s later after each round: within the noise, so not worth the later drain.
The worker at idle CPU priority (SCHED_IDLE) instead of WORKER_NICE, with the leader group
commit: one bench_webhooks run each, 3 rounds of 5 s, on a quiet machine: 1.49x the plain
app (rounds 1.49, 1.56, 1.24) against 1.38x (1.38, 1.49, 1.23), p99 17.4 against 16.6 ms:
within the noise, and a SCHED_IDLE worker beside a busy neighbour would all but stop.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from ..config import load_config
from ..metrics import Metrics
from ..store import WriteTurn
from ..store.intake import IntakeFile, intake_path
from ..sync_engine import Hub
from . import logs
from .worker import Worker, interruptible_sleep, serve_worker_hub

log = logging.getLogger(__name__)

HEARTBEAT = 0.5  # seconds between the child's status reports
STALE = 10.0  # no report for this long: the worker counts as dead in /healthz
STARTUP = 60.0  # a child not yet reporting counts as alive this long after its start
WORKER_NICE = 10  # the worker yields the cores to the intake processes when both want them


class _Forwarded:
    def __init__(self, send: Callable[[tuple], None], name: str, label: str) -> None:
        self.send, self.name, self.label = send, name, label

    def inc(self, amount: float = 1.0) -> None:
        self.send(("inc", self.name, self.label, amount))

    @contextmanager
    def time(self) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.send(("observe", self.name, self.label, time.perf_counter() - start))


class _ForwardedMetric:
    def __init__(self, send: Callable[[tuple], None], name: str) -> None:
        self.send, self.name = send, name

    def labels(self, label: str) -> _Forwarded:
        return _Forwarded(self.send, self.name, label)


class ForwardedMetrics:
    """The metrics the Worker updates, sent to the parent instead of counted here."""

    NAMES = ("runs", "deliveries", "retries", "dead")

    def __init__(self, send: Callable[[tuple], None]) -> None:
        for name in self.NAMES:
            setattr(self, name, _ForwardedMetric(send, name))


def apply_metric(metrics: Metrics, message: tuple) -> None:
    """Count in the parent what the child sent (`ForwardedMetrics`)."""
    kind, name, label, value = message
    if name not in ForwardedMetrics.NAMES:
        return
    child = getattr(metrics, name).labels(label)
    if kind == "inc":
        child.inc(value)
    elif kind == "observe":
        child.observe(value)


def child_main(
    config_path: str,
    conn: Any,
    step_lock: Any,
    log_settings: tuple[str, str] | None = None,
) -> None:
    """The worker process (spawned by WorkerProcess). `log_settings`: the parent's
    (serve/logs.py), as a spawned child starts with logging unconfigured."""
    if log_settings is not None:
        logs.configure(*log_settings)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the group: the parent drains
    if hasattr(os, "nice"):
        os.nice(WORKER_NICE)
    send_lock = threading.Lock()

    def send(message: tuple) -> None:
        with send_lock:
            try:
                conn.send(message)
            except OSError:  # the parent is gone
                os._exit(1)

    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())

    def listen() -> None:
        try:
            while conn.recv() != "stop":
                pass
            stopping.set()
        except (EOFError, OSError):  # the parent died (even kill -9): so do we, at once
            os._exit(1)

    threading.Thread(target=listen, name="guestsync-worker-pipe", daemon=True).start()
    config = load_config(config_path)
    hub = serve_worker_hub(Hub(config, sleep=interruptible_sleep(stopping)))
    path = hub.store.file_path()  # webhooks wait in an intake file beside a SQLite store
    intake = IntakeFile.open(intake_path(path), checkpoints=False) if path is not None else None
    worker = Worker(
        hub,
        metrics=ForwardedMetrics(send),  # type: ignore[arg-type]
        interval=config.server.worker_interval,
        stopping=stopping,
        turn=WriteTurn(step_lock),  # type: ignore[arg-type]
        intake=intake,
    )
    worker.start()
    while worker._thread.is_alive():
        send(("status", worker.alive(), worker.notes()))
        worker._thread.join(HEARTBEAT)
    hub.close()
    if intake is not None:
        intake.close()
    send(("status", False, {}))


class WorkerProcess:
    """The parent's side: start, supervise, report, drain. Answers what the service asks
    of a `Worker`: `alive()`, `notes()`, `turn`, `stopping`, `start()`, `stop()`."""

    def __init__(
        self,
        config_path: str | Path,
        *,
        metrics: Metrics,
        stopping: threading.Event | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config_path = str(config_path)
        self.metrics = metrics
        self.ctx = multiprocessing.get_context("spawn")
        self.turn = WriteTurn(self.ctx.Lock())  # a worker step or a scheduled job at a time
        self.stopping = stopping or threading.Event()
        self.clock = clock
        self.restarts = 0
        self.process: Any = None
        self._conn: Any = None
        self._started = float("-inf")
        self._status: tuple[bool, dict[str, Any]] | None = None
        self._seen = float("-inf")
        self._thread = threading.Thread(
            target=self._supervise, name="guestsync-worker-supervisor", daemon=True
        )

    def _spawn(self) -> None:
        self.turn.lock = self.ctx.Lock()  # a dead child may have held the old one
        parent, child = self.ctx.Pipe()
        self.process = self.ctx.Process(
            target=child_main,
            args=(self.config_path, child, self.turn.lock, logs.current()),
            name="guestsync-worker",
            daemon=True,  # ended with the parent if it exits without draining
        )
        self.process.start()
        child.close()
        self._conn, self._status, self._started = parent, None, self.clock()

    def _supervise(self) -> None:
        backoff = 1.0
        while not self.stopping.is_set():
            if self.process is None or not self.process.is_alive():
                if self.process is not None:
                    self.process.join()
                    self.restarts += 1
                    log.error(
                        "worker process exited (code %s); starting it again in %.0f s",
                        self.process.exitcode,
                        backoff,
                    )
                    if self.stopping.wait(backoff):
                        break
                    backoff = min(2 * backoff, 60.0)
                self._spawn()
            self._receive(0.2)
            if self._status is not None and self._status[0]:
                backoff = 1.0

    def _receive(self, timeout: float) -> None:
        try:
            if not self._conn.poll(timeout):
                return
            message = self._conn.recv()
        except (EOFError, OSError):  # the child died: the supervisor starts another
            self.process.join(1.0)
            return
        if message[0] == "status":
            self._status, self._seen = (message[1], message[2]), self.clock()
        else:
            apply_metric(self.metrics, message)

    def alive(self) -> bool:
        if self.stopping.is_set() or self.process is None or not self.process.is_alive():
            return False
        now = self.clock()
        if self._status is None:
            return now - self._started < STARTUP
        return self._status[0] and now - self._seen < STALE

    def notes(self) -> dict[str, Any]:
        notes = dict(self._status[1]) if self._status is not None else {}
        if self.restarts:
            notes["worker_restarts"] = self.restarts
        return notes

    def start(self) -> None:
        self._spawn()
        self._thread.start()

    def stop(self, *, timeout: float = 10.0) -> None:
        """Drain: the child finishes its step and exits (terminated after `timeout`:
        every step is transactional, what it was doing is done again after the restart)."""
        self.stopping.set()
        if self._thread.is_alive():  # never started when serve runs without a worker
            self._thread.join(timeout)
        proc = self.process
        if proc is None:
            return
        with suppress(OSError):
            self._conn.send("stop")
        deadline = self.clock() + timeout
        while proc.is_alive() and self.clock() < deadline:
            self._receive(0.1)  # its last reports, and its pipe never fills up
        if proc.is_alive():
            log.warning("worker process did not stop within %.0f s; terminating it", timeout)
            proc.terminate()
            proc.join(5)
        self._conn.close()
