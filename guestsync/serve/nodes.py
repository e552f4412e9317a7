"""A `serve` process's heartbeat: its row in the store's `nodes` table (host, pid,
role, last seen), beaten every `interval` seconds on a connection of its own, so that
`guestsync status` run anywhere lists every node sharing the store, and shows a node
that stopped beating (killed, or its machine gone) as silent. A node that stops
cleanly removes its row."""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from ..store import NodeRow, Store, utcnow
from ..store.nodes import BEAT, SILENT_AFTER

log = logging.getLogger(__name__)


def is_silent(node: NodeRow, now: datetime, after: timedelta = SILENT_AFTER) -> bool:
    return now - node.last_seen > after


def worker_state(alive: Callable[[], bool] | None) -> str | None:
    """What a beat says of the node's worker: None when it runs none."""
    if alive is None:
        return None
    return "up" if alive() else "down"


class Heartbeat:
    """`start()` when serve starts, `stop()` when it stops."""

    def __init__(
        self,
        open_store: Callable[[], Store],
        *,
        role: str = "serve",
        interval: float = BEAT,
        worker: Callable[[], bool] | None = None,
    ) -> None:
        """`worker`: whether the node's worker runs, asked at each beat (None: it has none)."""
        self.open_store = open_store
        self.role = role
        self.worker = worker
        self.interval = interval
        self.host, self.pid = socket.gethostname(), os.getpid()
        self.id = f"{self.host}:{self.pid}:{uuid.uuid4().hex[:8]}"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._store: Store | None = None

    def start(self) -> None:
        self._store = self.open_store()
        self.beat()  # listed from the start, not an interval later
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)
        self._thread.start()

    def beat(self) -> None:
        assert self._store is not None
        with self._store.atomic():
            self._store.beat(
                self.id,
                host=self.host,
                pid=self.pid,
                role=self.role,
                now=utcnow(),
                worker=worker_state(self.worker),
            )

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.beat()
            except Exception:  # the store away for a moment: the next beat tries again
                log.warning("heartbeat of %s failed", self.id, exc_info=True)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self.interval + 5)
        if self._store is not None:
            with self._store.atomic():
                self._store.leave(self.id)
            self._store.close()
            self._store = None
