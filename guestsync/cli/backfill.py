"""`guestsync backfill`: pull a source's records (e.g. Jiandaoyun form entries) into the inbox."""

from __future__ import annotations

import click

from ..backfill import backfill as run_backfill
from .app import Ctx, cli, out, pass_ctx


@cli.command()
@click.argument("source")
@click.option("--from-start", is_flag=True, help="Ignore the stored cursor; read everything.")
@pass_ctx
def backfill(ctx: Ctx, source: str, from_start: bool) -> None:
    """Pull SOURCE's records through its API into the inbox (resumable; run `guestsync
    sync` afterwards to process and deliver them). For sources with a pull API only."""
    hub = ctx.hub()
    try:
        src = hub.source(source)
        if not hasattr(src, "read"):
            raise click.ClickException(f"source {source!r} has no pull API to backfill from")
        if not src.streams():
            raise click.ClickException(
                f"source {source!r}: set api_key, app_id and entry_id to backfill through its API"
            )
        stats = run_backfill(hub.store, src, from_start=from_start)
    finally:
        hub.close()
    out.print(
        f"{source}: {stats.pages} page(s), {stats.records} record(s) read, {stats.new} new in "
        "the inbox; next: `guestsync sync`"
    )
