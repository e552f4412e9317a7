"""WAL checkpoints off the webhook writer's connection (see store/wal.py): under
`guestsync serve` a thread checkpoints every second from a connection of its own."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from . import Store

log = logging.getLogger(__name__)


class Checkpointer:
    def __init__(self, path: str | Path, *, interval: float = 1.0) -> None:
        self.path = path
        self.interval = interval
        self.stopping = threading.Event()
        self.runs = 0
        self._thread = threading.Thread(target=self.run, name="guestsync-checkpoint", daemon=True)

    def run(self) -> None:
        store = Store.open(self.path)
        try:
            while not self.stopping.wait(self.interval):
                self.checkpoint(store)
            self.checkpoint(store)  # what the last requests wrote
        finally:
            store.close()

    def checkpoint(self, store: Store) -> None:
        try:
            store.checkpoint()
            self.runs += 1
        except Exception:  # a busy or failing disk: the next round tries again
            log.exception("WAL checkpoint failed")

    def start(self) -> Checkpointer:
        self._thread.start()
        return self

    def stop(self, *, timeout: float = 30.0) -> None:
        self.stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
