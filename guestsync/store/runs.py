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

    def claim_firing(self, job: str, fired_at: str) -> bool:
        """True for the first caller claiming `job`'s run scheduled at `fired_at` (a
        stored timestamp): every node's scheduler fires the job, one of them runs it.
        A firing no later than the last one claimed is refused."""
        key = f"schedule_fired:{job}"
        with self.atomic():  # read then write under the write lock: one claimer wins
            last = self._one("SELECT value FROM meta WHERE key = ?", (key,))
            if last is not None and last >= fired_at:
                return False
            self.conn.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE"
                " SET value = excluded.value",
                (key, fired_at),
            )
        return True
