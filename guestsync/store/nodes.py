"""Nodes: the `serve` processes sharing this store, each with when it was last seen."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from .base import StoreBase, ts

BEAT = 15.0  # seconds between a node's beats (serve/nodes.py)
SILENT_AFTER = timedelta(seconds=3 * BEAT)  # no beat for this long: the node is gone


@dataclass(frozen=True)
class NodeRow:
    id: str
    host: str
    pid: int
    role: str
    started_at: datetime
    last_seen: datetime
    worker: str | None = None  # 'up', 'down', None: the node runs no worker (m0033)

    def silent(self, now: datetime) -> bool:
        """No beat for SILENT_AFTER: the node is gone (killed, its machine down)."""
        return now - self.last_seen > SILENT_AFTER


class NodeOps(StoreBase):
    def beat(
        self,
        node_id: str,
        *,
        host: str,
        pid: int,
        role: str,
        now: datetime,
        worker: str | None = None,
    ) -> None:
        """Note that the node is alive at `now` (its first beat also notes its start),
        and the state of its worker ('up', 'down'; None: it runs none)."""
        self.conn.execute(
            "INSERT INTO nodes (id, host, pid, role, started_at, last_seen, worker)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET"
            " last_seen = excluded.last_seen, role = excluded.role, worker = excluded.worker",
            (node_id, host, pid, role, ts(now), ts(now), worker),
        )

    def leave(self, node_id: str) -> None:
        """The node stopped: it is no longer listed."""
        self.conn.execute("DELETE FROM nodes WHERE id = ?", (node_id,))

    def nodes(self) -> list[NodeRow]:
        """Every node that beat and did not leave (a killed one too), by host and pid."""
        rows = self.conn.execute(
            "SELECT id, host, pid, role, started_at, last_seen, worker FROM nodes"
            " ORDER BY host, pid, id"
        ).fetchall()
        return [
            NodeRow(
                r[0],
                r[1],
                r[2],
                r[3],
                datetime.fromisoformat(r[4]),
                datetime.fromisoformat(r[5]),
                r[6],
            )
            for r in rows
        ]
