"""Review queue commands: pairs scored between the two thresholds wait for a person."""

from __future__ import annotations

import click
from rich.markup import escape
from rich.table import Table

from ..actions import guests as guest_admin
from .app import Ctx, cli, out, pass_ctx


@cli.group()
def review() -> None:
    """Settle possible duplicates: list them, accept (merge) or reject (keep apart)."""


@review.command("list")
@click.option("--all", "show_all", is_flag=True, help="Include accepted and rejected items.")
@click.option("--limit", default=50, show_default=True, help="At most this many items.")
@pass_ctx
def list_(ctx: Ctx, show_all: bool, limit: int) -> None:
    """Open review items: the record's guest, the possible match, the score and why.

    Guest ids are shown as their shortest unique prefix (at least 8 characters), which
    `guests show`, `explain`, `merge` and `unmerge` take as they take a whole id."""
    hub = ctx.hub(secrets=False)
    try:
        items = hub.store.reviews(status=None if show_all else "open", limit=limit)
        names = {
            gid: (g.display_name() if (g := hub.store.get_guest(gid)) else "?")
            for i in items
            for gid in (i.guest_id, i.candidate)
        }
        short = guest_admin.short_ids(hub.store, list(names))
    finally:
        hub.close()
    t = Table(title="review queue")
    for col in ("id", "guest", "may be", "score", "fields", "status"):
        t.add_column(col)
    for i in items:
        fields = ", ".join(f"{k} {v['level']}" for k, v in i.fields.items())
        t.add_row(
            str(i.id),
            escape(f"{short[i.guest_id]} {names[i.guest_id]}"),
            escape(f"{short[i.candidate]} {names[i.candidate]}"),
            f"{i.score:.1f}",
            escape(fields),
            i.status,
        )
    out.print(t)
    if not items:
        out.print("nothing to review")


@review.command()
@click.argument("item_id", type=int)
@pass_ctx
def accept(ctx: Ctx, item_id: int) -> None:
    """Accept review item ID: the two guests are one person; merge them."""
    hub = ctx.hub()
    try:
        touched, queued = guest_admin.Admin(hub.store, hub.targets, hub.config.identity).accept(
            item_id
        )
    finally:
        hub.close()
    out.print(f"merged; {len(touched)} guest(s) recomputed, {queued} CRM push(es) queued")


@review.command()
@click.argument("item_id", type=int)
@pass_ctx
def reject(ctx: Ctx, item_id: int) -> None:
    """Reject review item ID: two different people; they are never merged automatically."""
    hub = ctx.hub()
    try:
        guest_admin.Admin(hub.store, hub.targets, hub.config.identity).reject(item_id)
    finally:
        hub.close()
    out.print("kept apart")
