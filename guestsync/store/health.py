"""Queue depths and ages for /healthz, /metrics and `guestsync status`."""

from __future__ import annotations

from datetime import datetime

from .base import StoreBase, utcnow


def _age(oldest: str | None, now: datetime) -> float | None:
    return None if oldest is None else (now - datetime.fromisoformat(oldest)).total_seconds()


class HealthOps(StoreBase):
    def ping(self) -> bool:
        return self._one("SELECT 1") == 1

    def oldest_pending_inbox_age(self, *, now: datetime | None = None) -> float | None:
        oldest = self._one(
            "SELECT received_at FROM inbox WHERE status IN ('pending', 'fetch') ORDER BY id LIMIT 1"
        )
        return _age(oldest, now or utcnow())

    def outbox_depths(self, *, now: datetime | None = None) -> dict[str, tuple[int, float | None]]:
        """Per target: pending rows and the age in seconds of the oldest one: pending
        since, as `outbox_overview` (and so `guestsync outbox`) counts it, not since the
        last failed attempt touched the row."""
        rows = self.conn.execute(
            "SELECT target, count(*), min(coalesce(pending_since, created_at)) FROM outbox"
            " WHERE status = 'pending' GROUP BY target"
        ).fetchall()
        return {t: (n, _age(oldest, now or utcnow())) for t, n, oldest in rows}

    def dead_letter_counts(self) -> dict[str, int]:
        rows = self.conn.execute("SELECT target, count(*) FROM dead_letters GROUP BY target")
        return dict(rows.fetchall())

    def last_received(self) -> dict[str, str]:
        """Per source: when its newest inbox row arrived (file, pull or webhook)."""
        rows = self.conn.execute("SELECT source, max(received_at) FROM inbox GROUP BY source")
        return dict(rows.fetchall())

    def last_source_runs(self) -> dict[str, tuple[str, str]]:
        """Per source with scheduled runs or `import-csv` runs (from cron, say):
        (started_at, status) of the newest one."""
        rows = self.conn.execute(
            "SELECT kind, started_at, status FROM runs WHERE id IN (SELECT max(id) FROM runs"
            " WHERE kind LIKE 'schedule:source:%' OR kind LIKE 'import-csv:%' GROUP BY kind)"
            " ORDER BY id"
        ).fetchall()
        out: dict[str, tuple[str, str]] = {}
        for kind, at, status in rows:  # oldest first: the newest run of a source wins
            out[kind.removeprefix("schedule:source:").removeprefix("import-csv:")] = (at, status)
        return out

    def webhook_source_stats(self) -> dict[str, tuple[int, str | None]]:
        """Per source: webhook events remembered and when the last one arrived."""
        rows = self.conn.execute(
            "SELECT source, count(*), max(received_at) FROM webhook_events GROUP BY source"
        ).fetchall()
        return {s: (n, last) for s, n, last in rows}

    def quarantine_counts(self) -> dict[str, int]:
        rows = self.conn.execute("SELECT source, count(*) FROM webhook_quarantine GROUP BY source")
        return dict(rows.fetchall())
