"""`guestsync serve`: the webhook intake, the worker and the scheduled jobs.

Intake: under the CLI (`--workers N`, default the number of cores), N intake processes,
granian driving the WSGI app on one port this service reserves (intake_server.py says
why); in-process (embedding, the tests, Windows where granian runs one process),
waitress's threads in this process. Either way a webhook commits to the intake file
(store/intake.py), never waiting for the worker's transactions in the store.

The worker (move webhooks from the intake file into the inbox, fetch id-only events,
process the inbox in bulk, deliver the outbox, continuously: a thread, or under the CLI
a supervised child process, worker_process.py); the scheduler's thread for the sources
with `schedule:` (a job reads and processes, then the worker delivers; a job and a worker
step take turns). SIGTERM (or Ctrl-C) drains: stop accepting, finish the requests in
flight, let the worker and a running job finish their current step (short: a step moves
at most MOVE_ROWS webhooks; the rest wait in the intake file for the next start), close
the stores, exit 0. Every stage is durable, so a restart (even after kill -9) resumes
where it stopped.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, cast

from waitress.server import create_server  # the stubs omit waitress.create_server

from ..config import Config
from ..metrics import Metrics, share_between_processes
from ..store import open_store
from ..store.intake import IntakeFile, intake_path
from ..sync_engine import Hub
from ..webhook_server import create_app
from .health import WorkerStatusFile
from .intake_server import HEALTH_MAX_AGE, IntakeProcesses
from .nodes import Heartbeat
from .scheduler import Job, build_scheduler, export_jobs, run_source, source_jobs
from .worker import Worker, interruptible_sleep, serve_worker_hub
from .worker_process import HEARTBEAT, WorkerProcess
from .wsgi import AccessLog

if TYPE_CHECKING:
    from apscheduler.schedulers.base import BaseScheduler

log = logging.getLogger(__name__)
# waitress warns on every queued request under load; the queue is expected and bounded
logging.getLogger("waitress.queue").setLevel(logging.ERROR)


def start_scheduler(
    config: Config,
    hub_factory: Callable[[], Hub],
    turn: AbstractContextManager[Any],
    metrics: Metrics,
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
                return run_source(hub_factory, source, deliver=False)

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
        workers: int | None = None,
    ) -> None:
        """`worker_process`: run the worker in a supervised child process (what
        `guestsync serve` does; worker_process.py) rather than in a thread. `workers`:
        that many intake processes (intake_server.py; needs a config file and a store
        file, and makes this process count its metrics in a shared directory: a
        process of its own, as the CLI is); None: waitress in this process."""
        self.config = config
        self.runtime_dir = tempfile.mkdtemp(prefix="guestsync-serve-")
        self.intake: IntakeProcesses | None = None
        self.app_intake: IntakeFile | None = None
        if workers:
            share_between_processes(self.runtime_dir)  # before any metric is created
        self.metrics = Metrics()
        stopping = threading.Event()
        self.app_store = open_store(config.store_location)
        path = self.app_store.file_path()
        self.intake_path = intake_path(path) if path is not None else None
        self.hub = hub_factory(config, sleep=interruptible_sleep(stopping))
        self.worker: Worker | WorkerProcess
        # a SQLite file or PostgreSQL: the child opens the same store (not an in-memory one)
        if worker_process and config.path.exists() and (path or self.app_store.url):
            self.worker = WorkerProcess(
                config.path.resolve(), metrics=self.metrics, stopping=stopping
            )
        else:
            self.worker = Worker(
                serve_worker_hub(self.hub),
                metrics=self.metrics,
                interval=config.server.worker_interval,
                stopping=stopping,
                intake=IntakeFile.open(self.intake_path, checkpoints=False)
                if self.intake_path
                else None,
            )
        # each scheduled run opens its own Hub; its retry waits end at SIGTERM too
        self.job_hub = lambda: hub_factory(config, sleep=interruptible_sleep(stopping))
        self.run_worker = worker
        # this node's row in the store's `nodes` table, for `guestsync status` (nodes.py)
        self.heartbeat = Heartbeat(
            lambda: open_store(config.store_location),
            role="serve+worker" if worker else "serve",
            worker=self.worker.alive if worker else None,
        )
        self.scheduler: Any | None = None
        self.reader: Any = None
        self.server: Any = None
        self._http: threading.Thread | None = None
        self.status: WorkerStatusFile | None = None
        if workers and path is not None:
            self.status = WorkerStatusFile(os.path.join(self.runtime_dir, "worker.json"))
            self.intake = IntakeProcesses(
                config.path.resolve(),
                host=host or config.server.host,
                port=config.server.port if port is None else port,
                workers=workers,
                threads=config.server.threads,
                runtime_dir=self.runtime_dir,
                status_path=str(self.status.path) if worker else None,
            )
            self.url = self.intake.url
            self._status_thread = threading.Thread(
                target=self._report_worker, name="guestsync-worker-status", daemon=True
            )
            return
        self.app_intake = IntakeFile.open(self.intake_path) if self.intake_path else None
        app = create_app(
            config,
            store=self.app_store,
            metrics=self.metrics,
            worker_alive=self.worker.alive if worker else None,
            worker_notes=self.worker.notes if worker else None,
            health_max_age=HEALTH_MAX_AGE,
            targets=self.hub.targets,  # the console's merges re-queue guests for them
            intake=self.app_intake,
        )
        self.reader = app.extensions["guestsync"]["reader"]
        # Any: the stubs know neither effective_host nor effective_port of a TCP server
        self.server = cast(Any, create_server)(
            AccessLog(app),  # one line per request on guestsync.access (serve/logs.py)
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

    def _report_worker(self) -> None:
        """The worker's state, for the intake processes' /healthz (WorkerStatusFile)."""
        assert self.status is not None
        while True:
            stopped = self.worker.stopping.wait(HEARTBEAT)
            self.status.write(self.worker.alive() and self.run_worker, self.worker.notes())
            if stopped:
                return

    def start(self) -> Service:
        self.heartbeat.start()
        if self.run_worker:
            self.worker.start()
        self.scheduler = start_scheduler(self.config, self.job_hub, self.worker.turn, self.metrics)
        if self.intake is not None:
            self._status_thread.start()
            self.intake.start()
        elif self._http is not None:
            self._http.start()
        return self

    def stop(self, *, timeout: float = 30.0) -> None:
        """Drain: no new connections; requests in flight finish; the worker finishes its
        step; then the stores close. The intake processes and the worker stop at once,
        side by side.

        waitress has no public drain call (its run() loop ends when its socket map is
        empty), so the listening socket and then the idle channels are closed from inside
        its loop thread through its trigger, after its task threads finished."""
        if self.intake is not None:
            self.intake.stop()
        elif self.server is not None and self._http is not None:
            srv = self.server
            _in_loop(srv, lambda: _stop_accepting(srv))
            srv.task_dispatcher.shutdown(cancel_pending=False, timeout=timeout)
            _in_loop(srv, lambda: _close_channels(srv))
            self._http.join(timeout)
        self.worker.stopping.set()  # cuts short the retry waits of the worker and jobs
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=True)  # a running job ends its current step
        # a window cut short is rolled back and done again after the restart
        process = isinstance(self.worker, WorkerProcess)
        grace = min(timeout, self.config.server.stop_grace) if process else timeout
        self.worker.stop(timeout=grace)
        if self.intake is not None:
            self.intake.wait()
        try:
            self.heartbeat.stop()  # the node leaves the table; if the store is away, it
        except Exception:  # shows as silent instead, and the stop goes on
            log.warning("could not remove this node's heartbeat row", exc_info=True)
        self.hub.close()
        if self.reader is not None:
            self.reader.close()
        for intake in (self.app_intake, getattr(self.worker, "intake", None)):
            if intake is not None:
                intake.close()
        self.app_store.close()
        shutil.rmtree(self.runtime_dir, ignore_errors=True)


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
