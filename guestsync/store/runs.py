"""Runs: one row per pass of a job, with its figures."""

from __future__ import annotations

import json
from typing import Any

from .base import StoreBase, ts


class RunOps(StoreBase):
    def start_run(self, kind: str) -> int:
        return self._insert_id(
            "INSERT INTO runs (kind, started_at, status) VALUES (?, ?, 'running') RETURNING id",
            (kind, ts()),
        )

    def finish_run(self, run_id: int, *, status: str, stats: dict[str, Any]) -> None:
        self.conn.execute(
            "UPDATE runs SET finished_at = ?, status = ?, stats = ? WHERE id = ?",
            (ts(), status, json.dumps(stats, ensure_ascii=False, default=str), run_id),
        )

    def runs(self, *, limit: int = 20) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            "SELECT id, kind, started_at, finished_at, status, stats FROM runs"
            " ORDER BY id DESC LIMIT ?",
            (limit,),
        ).fetchall()
        keys = ("id", "kind", "started_at", "finished_at", "status", "stats")
        return [dict(zip(keys, r, strict=True)) for r in rows]
