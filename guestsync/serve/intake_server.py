"""The intake processes of `guestsync serve`: granian drives serve's RSGI app
(serve/rsgi.py: webhooks answered on its event loop, uvloop; every other route in the
WSGI app, webhook_server.create_app) in `--workers` processes on one port.

Why granian (not waitress in one process, nor gunicorn, nor a pre-fork of our own):
- Both cores: each process has its own GIL; one CPython process answered webhooks from
  one core (issue 26: 0.77x a plain Flask app under gunicorn with 2 workers).
- The HTTP work (parsing, keep-alive, writing answers) is done in Rust outside the GIL:
  measured with bench_webhooks.py on this 2-core machine, the same app answered ~3,100
  durable POST/s under gunicorn's gthread workers (as many as the plain Flask app under
  gunicorn: the server's Python HTTP code, not our webhook, was the cost) and ~4,700 to
  5,700 under granian.
- It never reads a request body before the app asks for it (tried: a 300 MB body with
  its Content-Length is refused with none of it sent; chunked, after ~4 MB, flat memory):
  the limits are checked by our receiver before the body is read, and every refused body
  is counted in /metrics. waitress buffered whole bodies and refused large ones itself.
- It restarts a process that dies and drains at SIGTERM (the requests in flight finish,
  at most GRACE seconds).
On Linux each process listens on the port with SO_REUSEPORT (the kernel spreads the
connections); the service reserves the port first (`IntakeProcesses`), so `--port 0`
works and is known before they start. POSIX only (uvloop; granian runs one process on
Windows): the CLI runs serve in-process there (waitress, the WSGI app's HotRoutes).

Each process verifies and commits webhooks with its own group commit to the intake file
(store/intake.py), whose turn the processes share through an flock; event ids are unique
there, whichever process receives a copy. /metrics adds up every process's counts
(prometheus multiprocess mode, metrics.py); /healthz reads the worker's state from the
status file the service writes (health.WorkerStatusFile).

Run by the service as `python -m guestsync.serve.intake_server SETTINGS_JSON`.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from granian.constants import Interfaces, Loops
from granian.log import LogLevels
from granian.server import Server

from ..config import load_config
from ..metrics import SHARED_DIR, Metrics
from ..store import open_store
from ..store.intake import IntakeFile, intake_path
from ..sync_engine import Hub
from ..webhook_server import create_app
from . import logs
from .health import WorkerStatusFile
from .rsgi import RsgiApp
from .wsgi import AccessLog

GRACE = 3  # seconds the requests in flight have to finish at SIGTERM
HEALTH_MAX_AGE = 1.0  # /healthz's queue depths: a snapshot at most this old (health.py)


def intake_app(config_path: str, status_path: str | None) -> Any:
    """The WSGI app of one intake process: the store (console, admin, quarantine, the
    readers of /healthz and /metrics), the intake file for webhooks."""
    config = load_config(config_path)
    store = open_store(config.store_location)
    status = WorkerStatusFile(status_path) if status_path else None
    app = create_app(
        config,
        store=store,
        metrics=Metrics(),
        worker_alive=status.alive if status else None,
        worker_notes=status.notes if status else None,
        health_max_age=HEALTH_MAX_AGE,
        targets=Hub(config, store=store).targets,  # what the console re-queues guests for
        intake=IntakeFile.open(intake_path(config.store_path)),
    )
    return AccessLog(app)


def _watch(service: int) -> None:
    """If the service dies (even kill -9, even before granian started), granian drains
    and exits, as the worker process does (worker_process.py)."""

    def watch() -> None:
        while os.getppid() == service:
            time.sleep(0.5)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="guestsync-service-watch", daemon=True).start()


SETTINGS_ENV = "GUESTSYNC_INTAKE_SETTINGS"


def make_app() -> RsgiApp:
    """granian's factory, called in each intake process (settings from the environment
    the service gave): webhooks on the loop, every other route in the WSGI app."""
    settings = json.loads(os.environ[SETTINGS_ENV])
    if settings.get("log") is not None:
        logs.configure(*settings["log"])
    app = intake_app(settings["config"], settings.get("status"))
    receiver = app.app.extensions["guestsync"]["receiver"]
    return RsgiApp(app, receiver, threads=settings["threads"])


# granian's own lines go through guestsync's handler (JSON on stderr, masked), not stdout
_GRANIAN_LOGS = {
    "version": 1,
    "disable_existing_loggers": False,
    "loggers": {
        "_granian": {"handlers": [], "propagate": True},
        "granian.access": {"handlers": [], "propagate": True},
    },
}


def run(settings: dict[str, Any]) -> None:
    os.environ[SETTINGS_ENV] = json.dumps(settings)
    if settings.get("log") is not None:
        logs.configure(*settings["log"])
    server = Server(
        f"{__name__}:make_app",
        address=settings["host"],
        port=settings["port"],
        interface=Interfaces.RSGI,
        loop=Loops.uvloop,  # POSIX only, as these processes (the CLI: cli/serve.py)
        workers=settings["workers"],
        factory=True,
        backlog=2048,
        respawn_failed_workers=True,
        workers_kill_timeout=GRACE,
        log_level=LogLevels.warning,
        log_dictconfig=_GRANIAN_LOGS,
        log_access=False,  # AccessLog: one line per request on guestsync.access
    )
    server.on_startup(lambda: _watch(settings["service"]))
    server.serve()


class IntakeProcesses:
    """The service's side: reserve the port, start granian on it, stop it.

    The port is reserved by a socket bound with SO_REUSEPORT that never listens: the
    kernel hands connections only to listening sockets (granian's, one per process, bound
    to the same port with SO_REUSEPORT), and no other program can take the port."""

    def __init__(
        self,
        config_path: str | Path,
        *,
        host: str,
        port: int,
        workers: int,
        threads: int,
        runtime_dir: str,
        status_path: str | None,
    ) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.reserved = socket.socket(family, socket.SOCK_STREAM)
        self.reserved.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if hasattr(socket, "SO_REUSEPORT"):
            self.reserved.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        self.reserved.bind((host, port))
        bound_host, bound_port = self.reserved.getsockname()[:2]
        shown = f"[{bound_host}]" if family == socket.AF_INET6 else bound_host
        self.url = f"http://{shown}:{bound_port}"
        self.settings = {
            "config": str(config_path),
            "host": host,
            "port": bound_port,
            "workers": workers,
            "threads": threads,
            "status": status_path,
            "log": logs.current(),
            "service": os.getpid(),
        }
        self.runtime_dir = runtime_dir
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, *, timeout: float = 60.0) -> None:
        """Start granian; return once the port takes connections (or granian exited)."""
        self.process = subprocess.Popen(
            [sys.executable, "-m", __name__, json.dumps(self.settings)],
            env={**os.environ, SHARED_DIR: self.runtime_dir},
        )
        host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(self.settings["host"])
        address = (host or self.settings["host"], self.settings["port"])
        deadline = time.monotonic() + timeout
        while self.alive() and time.monotonic() < deadline:
            try:
                socket.create_connection(address, timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        """SIGTERM: granian stops accepting and gives the requests in flight GRACE
        seconds; killed if it is still there a few seconds later (`wait`)."""
        proc = self.process
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)

    def wait(self, timeout: float = GRACE + 5.0) -> None:
        proc = self.process
        if proc is not None:
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.reserved.close()


def main() -> None:
    run(json.loads(sys.argv[1]))


if __name__ == "__main__":
    main()
