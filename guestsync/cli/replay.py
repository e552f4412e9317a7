"""`guestsync replay --errors`: re-process rejected inbox rows after a mapping fix."""

from __future__ import annotations

import json
import sys

import click
import requests
from rich.markup import escape

from ..actions.replay import replay_errors
from ..intake.fetch import fetch_pending
from .app import Ctx, cli, err, out, pass_ctx


@cli.command()
@click.option(
    "--errors", "errors", is_flag=True, help="Replay inbox rows marked `error` (required)."
)
@click.option("--source", help="Only rows of this source.")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
@pass_ctx
def replay(ctx: Ctx, errors: bool, source: str | None, as_json: bool) -> None:
    """Re-process inbox rows that were rejected, after fixing their mapping or config.

    The rows are mapped again with the current mapping: fixed ones become guests and
    bookings (and are queued for the CRM); the others stay `error` with their new reason.
    Works for every source type (CSV, pulled, webhook); an id-only webhook event whose
    fetch failed is fetched again first. Rows older than a state processed since are
    skipped, rows about forgotten guests dropped.
    Exit status: 0 all replayed rows mapped, 1 some still fail.
    """
    if not errors:
        raise click.UsageError("say what to replay: --errors")
    hub = ctx.hub()
    try:
        if source is not None:
            hub.source(source)  # an unknown name is a config error listing the known ones
        store = hub.store
        stats = replay_errors(
            store,
            hub.process,
            source=source,
            fetch=lambda: fetch_pending(store, hub.config.sources, requests.Session()),
        )
    finally:
        hub.close()
    p = stats.process
    if as_json:
        doc = {
            "requeued": stats.requeued,
            "processed": p.processed,
            "rejected": p.rejected,
            "stale": p.stale,
            "suppressed": p.suppressed,
            "fetched": stats.fetched,
            "fetch_failed": stats.fetch_failed,
            "errors": p.errors,
            "warnings": p.warnings,
        }
        click.echo(json.dumps(doc, indent=2, ensure_ascii=False))
    else:
        for line in p.errors:
            err.print(f"[red]still rejected[/] {escape(line)}")
        for line in p.warnings:
            err.print(f"[yellow]warning[/] {escape(line)}")
        extra = [
            f"{n} {what}"
            for n, what in (
                (stats.fetched, "fetched again"),
                (stats.fetch_failed, "failed to fetch again"),
                (p.stale, "older than what was processed since (skipped)"),
                (p.suppressed, "about forgotten guests (dropped)"),
            )
            if n
        ]
        out.print(
            f"{stats.requeued} row(s) requeued: {p.processed} mapped, {p.rejected} still "
            f"rejected{''.join('; ' + e for e in extra)}; {p.guests_created} new guest(s), "
            f"{p.guests_matched} matched"
        )
    sys.exit(1 if stats.still_failing else 0)
