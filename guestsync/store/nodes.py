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


class NodeOps(StoreBase):
    def beat(self, node_id: str, *, host: str, pid: int, role: str, now: datetime) -> None:
        """Note that the node is alive at `now` (its first beat also notes its start)."""
        self.conn.execute(
            "INSERT INTO nodes (id, host, pid, role, started_at, last_seen)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET"
            " last_seen = excluded.last_seen, role = excluded.role",
            (node_id, host, pid, role, ts(now), ts(now)),
        )

    def leave(self, node_id: str) -> None:
        """The node stopped: it is no longer listed."""
        self.conn.execute("DELETE FROM nodes WHERE id = ?", (node_id,))

    def nodes(self) -> list[NodeRow]:
        """Every node that beat and did not leave (a killed one too), by host and pid."""
        rows = self.conn.execute(
            "SELECT id, host, pid, role, started_at, last_seen FROM nodes ORDER BY host, pid, id"
        ).fetchall()
        return [
            NodeRow(
                r[0], r[1], r[2], r[3], datetime.fromisoformat(r[4]), datetime.fromisoformat(r[5])
            )
            for r in rows
        ]
