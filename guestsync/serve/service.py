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
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, cast

from waitress.server import create_server  # the stubs omit waitress.create_server

from ..config import Config
from ..metrics import Metrics
from ..store import WriteTurn, open_store
from ..store.checkpointer import Checkpointer
from ..sync_engine import Hub
from ..webhook_server import create_app
from .scheduler import Job, build_scheduler, export_jobs, run_source, source_jobs
from .worker import Worker, interruptible_sleep, serve_worker_hub
from .worker_process import WorkerProcess
from .wsgi import AccessLog

if TYPE_CHECKING:
    from apscheduler.schedulers.base import BaseScheduler

log = logging.getLogger(__name__)
# waitress warns on every queued request under load; the queue is expected and bounded
logging.getLogger("waitress.queue").setLevel(logging.ERROR)


# /healthz answers queue depths at most this old (webhooks/health.py): a probe costs a
# webhook's worth, not whole-table counts
HEALTH_MAX_AGE = 1.0


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
    ) -> None:
        """`worker_process`: run the worker in a supervised child process (what
        `guestsync serve` does; worker_process.py) rather than in a thread."""
        self.config = config
        self.metrics = Metrics()
        stopping = threading.Event()
        self.app_store = open_store(config.store_location)
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
            targets=self.hub.targets,  # the console's merges re-queue guests for them
        )
        self.reader = app.extensions["guestsync"]["reader"]
        # Any: the stubs know neither effective_host nor effective_port of a TCP server
        self.server: Any = cast(Any, create_server)(
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
