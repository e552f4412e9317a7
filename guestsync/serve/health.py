"""What GET /healthz reports: store reachable, worker alive, queue depths.

The queue depths are counts over whole tables, too slow to run on every probe under load
(they cost more than a webhook). So the store part is a snapshot at most `max_age`
seconds old: the first probe after it expired refreshes it (one probe at a time; the others
answer the previous snapshot meanwhile). The snapshot is read through a connection of its
own when the store is a file (WAL: readers never wait for the webhook writer, nor it for
them); an in-memory store is read through the app's connection, under its lock. The worker
is asked at every probe (a flag, cheap). `max_age=0` reads the store at every probe.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..store import Store, open_store
from ..store.intake import IntakeFile


class StoreReader:
    """The store for the readers of the service (/healthz, /metrics): its own connection
    for a file store or PostgreSQL, else the app's connection under the app's lock; and the
    intake file's backlog when webhooks are committed there (store/intake.py)."""

    def __init__(
        self, store: Store, lock: threading.Lock, *, intake: str | Path | None = None
    ) -> None:
        where = store.file_path() or store.url
        self._own = where is not None
        self.store = open_store(where) if where is not None else store
        self.lock: threading.Lock = threading.Lock() if self._own else lock
        self.intake: IntakeFile | None = IntakeFile.open(intake) if intake is not None else None

    def close(self) -> None:
        if self._own:
            self.store.close()
        if self.intake is not None:
            self.intake.close()


class WorkerStatusFile:
    """The worker's state (alive, notes) as the service supervising it last saw it, in a
    small JSON file that the intake processes' /healthz reads (each probe: a file read).
    A status older than `stale` seconds counts as a dead worker (the service is gone)."""

    def __init__(self, path: str | Path, *, stale: float = 10.0) -> None:
        self.path = Path(path)
        self.stale = stale

    def write(self, alive: bool, notes: dict[str, Any]) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"alive": alive, "at": time.time(), "notes": notes}), "utf-8")
        os.replace(tmp, self.path)  # readers see the old file or the new one, never half

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text("utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def alive(self) -> bool:
        data = self._read()
        return bool(data.get("alive")) and time.time() - float(data.get("at", 0)) < self.stale

    def notes(self) -> dict[str, Any]:
        notes = self._read().get("notes")
        return notes if isinstance(notes, dict) else {}


class Health:
    def __init__(
        self,
        reader: StoreReader,
        *,
        max_age: float = 0.0,
        worker_alive: Callable[[], bool] | None = None,
        worker_notes: Callable[[], dict[str, Any]] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.reader = reader
        self.max_age = max_age
        self.worker_alive = worker_alive
        self.worker_notes = worker_notes
        self.clock = clock
        self._snapshot: dict[str, Any] | None = None
        self._taken = float("-inf")
        self._refreshing = threading.Lock()

    def _read_store(self) -> dict[str, Any]:
        store = self.reader.store
        try:
            with self.reader.lock:
                store.ping()
                inbox = store.inbox_counts()
                outbox = {t: n for t, (n, _) in store.outbox_depths().items()}
                body = {"ok": True, "inbox": inbox, "outbox": outbox}
                if self.reader.intake is not None:  # acknowledged, not yet in the inbox
                    body["intake_waiting"] = self.reader.intake.waiting()
        except Exception as exc:  # the store is unreachable: say so, do not crash
            return {"ok": False, "error": type(exc).__name__}
        return body

    def store_part(self) -> dict[str, Any]:
        snap = self._snapshot
        if snap is not None and self.clock() - self._taken < self.max_age:
            return snap
        # the first probe after expiry refreshes; meanwhile the others answer the old one
        if not self._refreshing.acquire(blocking=snap is None):
            return snap  # type: ignore[return-value]
        try:
            if self._snapshot is snap or self.max_age <= 0:  # nobody refreshed meanwhile
                self._snapshot, self._taken = self._read_store(), self.clock()
            return self._snapshot  # type: ignore[return-value]
        finally:
            self._refreshing.release()

    def report(self) -> tuple[dict[str, Any], int]:
        """(JSON body, HTTP status): 503 if the store is unreachable or the worker dead."""
        part = self.store_part()
        if not part["ok"]:
            return dict(part), 503
        body = dict(part)
        if self.worker_alive is not None:
            body["worker"] = self.worker_alive()
            body["ok"] = body["worker"]
        if self.worker_notes is not None:
            body.update(self.worker_notes())
        return body, 200 if body["ok"] else 503
