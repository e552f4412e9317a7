"""The intake processes of `guestsync serve`: gunicorn drives the same WSGI app
(webhook_server.create_app) in `--workers` processes on one listening socket.

Why gunicorn (and not waitress in one process, nor a pre-fork of our own):
- Both cores: each process has its own GIL; one CPython process answered webhooks from
  one core (issue 26: 0.77x a plain Flask app under gunicorn with 2 workers).
- It never reads a request body before the app asks for it: the limits (Content-Length,
  then `max_body` + 1 bytes read at most) are checked by our receiver before the body is
  read, and every refused body is counted in /metrics. waitress buffered whole bodies
  first and refused large ones itself, where no metric saw them.
- What a pre-fork of our own would have to do again, it does and has done for years:
  restart a process that dies, SIGTERM drains (stop accepting, finish the requests in
  flight, at most GRACE seconds), one socket shared by the processes (the service binds
  it and passes it down: `--port 0` is known before any process starts).
- gthread workers: a request thread waiting for its group commit releases the GIL.
gunicorn is POSIX-only: on Windows the service answers in-process (waitress, service.py).

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

from gunicorn.app.base import BaseApplication

from ..config import load_config
from ..metrics import SHARED_DIR, Metrics
from ..store import Store
from ..store.intake import IntakeFile, intake_path
from ..sync_engine import Hub
from ..webhook_server import create_app
from . import logs
from .health import WorkerStatusFile
from .wsgi import AccessLog

GRACE = 3  # seconds the requests in flight have to finish at SIGTERM
HEALTH_MAX_AGE = 1.0  # /healthz's queue depths: a snapshot at most this old (health.py)


def intake_app(config_path: str, status_path: str | None) -> Any:
    """The WSGI app of one intake process: the store (console, admin, quarantine, the
    readers of /healthz and /metrics), the intake file for webhooks."""
    config = load_config(config_path)
    store = Store.open(config.store_path)
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


def _end_with(service: int) -> Any:
    """If the service dies (even kill -9, even before gunicorn started), gunicorn drains
    and exits, as the worker process does (worker_process.py); its processes end with it
    (gunicorn's own check)."""
    return lambda _arbiter: _watch(service)


def _watch(service: int) -> None:
    def watch() -> None:
        while os.getppid() == service:
            time.sleep(0.5)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="guestsync-service-watch", daemon=True).start()


class IntakeServer(BaseApplication):  # type: ignore[misc]  # gunicorn ships no types
    def __init__(self, settings: dict[str, Any]) -> None:
        self.settings = settings
        super().__init__()

    def load_config(self) -> None:
        s = self.settings
        options = {
            "bind": [f"fd://{s['fd']}"],
            "workers": s["workers"],
            "worker_class": "gthread",
            "threads": s["threads"],
            "graceful_timeout": GRACE,
            "keepalive": 5,
            "accesslog": None,  # AccessLog: one line per request on guestsync.access
            "errorlog": "-",
            "loglevel": "warning",
            "proc_name": "guestsync-intake",
            "control_socket_disable": True,
            "on_starting": _end_with(s["service"]),
        }
        for key, value in options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:  # in each process, after the fork: connections of its own
        if self.settings.get("log") is not None:
            logs.configure(*self.settings["log"])
        return intake_app(self.settings["config"], self.settings.get("status"))


class IntakeProcesses:
    """The service's side: bind the socket, start gunicorn on it, stop it."""

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
        self.sock = socket.create_server((host, port), family=family, backlog=2048)
        self.sock.set_inheritable(True)
        bound_host, bound_port = self.sock.getsockname()[:2]
        shown = f"[{bound_host}]" if family == socket.AF_INET6 else bound_host
        self.url = f"http://{shown}:{bound_port}"
        self.settings = {
            "config": str(config_path),
            "fd": self.sock.fileno(),
            "workers": workers,
            "threads": threads,
            "status": status_path,
            "log": logs.current(),
            "service": os.getpid(),
        }
        self.runtime_dir = runtime_dir
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", __name__, json.dumps(self.settings)],
            pass_fds=(self.sock.fileno(),),
            env={**os.environ, SHARED_DIR: self.runtime_dir},
        )
        # gunicorn holds the socket now; ours would keep taking connections after it stopped
        self.sock.close()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        """SIGTERM: gunicorn stops accepting and gives the requests in flight GRACE
        seconds; killed if it is still there a few seconds later."""
        proc = self.process
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)

    def wait(self, timeout: float = GRACE + 5.0) -> None:
        proc = self.process
        if proc is None:
            return
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main() -> None:
    IntakeServer(json.loads(sys.argv[1])).run()


if __name__ == "__main__":
    main()
