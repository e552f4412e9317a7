"""The service tables of `guestsync status`: sources (cursor, webhooks, quarantine),
targets (queue, oldest, dead letters), last runs, review queue."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from ..serve.nodes import is_silent
from ..store import utcnow
from .timefmt import local


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min" if seconds < 7200 else f"{seconds / 3600:.1f} h"


def print_service_status(
    console: Console, store: Any, sources: list[str], *, tz: str = "UTC"
) -> None:
    """`tz`: defaults.timezone; every time is shown there, with its offset."""
    cursors: dict[str, list[str]] = {}
    for source, stream, value, updated in store.cursors():
        cursors.setdefault(source, []).append(f"{stream}={value} ({local(updated, tz)})")
    hooks = store.webhook_source_stats()
    quarantine = store.quarantine_counts()
    received = store.last_received()
    runs_of = store.last_source_runs()
    t = Table(title=f"sources (times in {tz})")
    cols = ("source", "last run", "last received", "cursor", "webhooks", "last webhook")
    for col in (*cols, "quarantined"):
        t.add_column(col)
    for name in sources:
        n, last = hooks.get(name, (0, None))
        at, run_status = runs_of.get(name, ("", ""))
        t.add_row(
            name,
            f"{local(at, tz)} {run_status}" if at else "-",
            local(received.get(name), tz),
            "; ".join(cursors.get(name, [])) or "-",
            str(n),
            local(last, tz),
            str(quarantine.get(name, 0)),
        )
    console.print(t)
    t = Table(title="queues")
    for col in ("queue", "pending", "oldest", "dead letters"):
        t.add_column(col)
    inbox = store.inbox_counts()
    t.add_row(
        "inbox",
        str(inbox.get("pending", 0) + inbox.get("fetch", 0)),  # fetch: id-only, to complete
        _age(store.oldest_pending_inbox_age()),
        "-",
    )
    dead = store.dead_letter_counts()
    for target, (n, oldest) in sorted(store.outbox_depths().items()):
        t.add_row(f"→ {target}", str(n), _age(oldest), str(dead.get(target, 0)))
    console.print(t)
    runs = store.runs(limit=5)
    if runs:
        t = Table(title=f"last runs (times in {tz})")
        for col in ("run", "kind", "started", "status"):
            t.add_column(col)
        for r in runs:
            t.add_row(str(r["id"]), r["kind"], local(r["started_at"], tz), r["status"])
        console.print(t)
    _print_nodes(console, store, tz)
    console.print(f"review queue: {store.count_reviews('open')} pair(s) waiting for a decision")


def _print_nodes(console: Console, store: Any, tz: str) -> None:
    """The `serve` processes sharing the store (serve/nodes.py), if any beat."""
    nodes = store.nodes()
    if not nodes:
        return
    now = utcnow()
    t = Table(title=f"nodes (times in {tz})")
    for col in ("host", "pid", "role", "started", "last seen", "state", "worker"):
        t.add_column(col)
    for n in nodes:
        seen = (now - n.last_seen).total_seconds()
        silent = is_silent(n, now)
        # a silent node's worker is as gone as the node, whatever its last beat said
        worker = "-" if n.worker is None else ("?" if silent else n.worker)
        t.add_row(
            n.host,
            str(n.pid),
            n.role,
            local(n.started_at, tz),
            f"{_age(seen)} ago",
            "silent" if silent else "up",
            worker,
        )
    console.print(t)
