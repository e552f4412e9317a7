"""The pipeline page: what waits where, what failed and what is paused, with the two
fixes a person makes from here: retry dead letters (`guestsync dead-letters retry`) and
resume a target paused by a used-up quota (`guestsync delivery resume`)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from ..actions.dead_letters import retry_dead_letters
from ..delivery.batches import lift_quota_pause, quota_paused_until
from . import i18n
from .state import Console

ERROR_SHOWN = 500  # characters of a CRM's message on the page; the CLI shows it whole


def age(seconds: float | None) -> str:
    """3 d 4 h, 2 h 5 min, 40 s: how long the oldest item has waited, at a glance."""
    if seconds is None:
        return "-"
    s = int(seconds)
    for size, unit, sub, subunit in ((86400, "d", 3600, "h"), (3600, "h", 60, "min")):
        if s >= size:
            return f"{s // size} {unit} {s % size // sub} {subunit}"
    return f"{s // 60} min" if s >= 60 else f"{s} s"


def overview(console: Console) -> dict[str, Any]:
    store = console.store
    names = sorted(set(console.config.targets) | set(store.outbox_depths()))
    depths = store.outbox_depths()
    dead = store.dead_letter_details()
    return {
        "inbox": store.inbox_counts(),
        "inbox_oldest": age(store.oldest_pending_inbox_age()),
        "outbox": [
            {
                "target": t,
                "pending": depths.get(t, (0, None))[0],
                "oldest": age(depths.get(t, (0, None))[1]),
                "paused": quota_paused_until(store, t),
            }
            for t in names
        ],
        "dead": [
            {
                "id": d.id,
                "target": d.target,
                "guest_id": d.guest_id,
                "attempts": d.attempts,
                "created_at": d.created_at[:19],
                "error": d.error[:ERROR_SHOWN],
            }
            for d in dead[:200]
        ],
        "dead_total": len(dead),
        "runs": store.runs(limit=10),
        "sources": sources(console),
    }


def sources(console: Console) -> list[dict[str, Any]]:
    """Each configured source: its last row received, pull cursors and webhooks (as
    `guestsync status` lists them)."""
    store = console.store
    cursors: dict[str, list[str]] = {}
    for source, stream, value, _ in store.cursors():
        cursors.setdefault(source, []).append(f"{stream}: {value}"[:80])
    hooks, received = store.webhook_source_stats(), store.last_received()
    return [
        {
            "name": name,
            "type": src.type,
            "last_received": (received.get(name) or "")[:19],
            "cursors": cursors.get(name, []),
            "webhooks": hooks.get(name, (0, None))[0],
            "last_webhook": (hooks.get(name, (0, None))[1] or "")[:19],
        }
        for name, src in sorted(console.config.sources.items())
    ]


def add_routes(bp: Blueprint, console: Console) -> None:
    @bp.get("/pipeline")
    def pipeline_page() -> Any:
        with console.lock:
            data = overview(console)
        return render_template("pipeline.html", page="pipeline", **data)

    @bp.post("/dead-letters/retry")
    def retry() -> Any:
        """One dead letter (`id`) or all of them (no id), as the CLI retries them."""
        one = request.form.get("id", type=int)
        with console.lock:
            done = retry_dead_letters(console.store, console.targets, ids=[one] if one else ())
        flash(i18n.label("retried", n=len(done)), "ok")
        return redirect(url_for("console.pipeline_page"))

    @bp.post("/targets/<name>/resume")
    def resume(name: str) -> Any:
        with console.lock:
            lifted = lift_quota_pause(console.store, name)
        flash(i18n.label("resumed" if lifted else "not_paused", target=name), "ok")
        return redirect(url_for("console.pipeline_page"))
