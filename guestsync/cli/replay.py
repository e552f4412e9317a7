"""`guestsync replay --errors`: re-process rejected inbox rows after a mapping fix."""

from __future__ import annotations

import json
import sys

import click
from rich.markup import escape

from ..replay import replay_errors
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
    Exit status: 0 all replayed rows mapped, 1 some still fail.
    """
    if not errors:
        raise click.UsageError("say what to replay: --errors")
    hub = ctx.hub()
    try:
        if source is not None:
            hub.source(source)  # an unknown name is a config error listing the known ones
        stats = replay_errors(hub.store, hub.process, source=source)
    finally:
        hub.close()
    p = stats.process
    if as_json:
        doc = {
            "requeued": stats.requeued,
            "processed": p.processed,
            "rejected": p.rejected,
            "errors": p.errors,
            "warnings": p.warnings,
        }
        click.echo(json.dumps(doc, indent=2, ensure_ascii=False))
    else:
        for line in p.errors:
            err.print(f"[red]still rejected[/] {escape(line)}")
        for line in p.warnings:
            err.print(f"[yellow]warning[/] {escape(line)}")
        out.print(
            f"{stats.requeued} row(s) requeued: {p.processed} mapped, {p.rejected} still "
            f"rejected; {p.guests_created} new guest(s), {p.guests_matched} matched"
        )
    sys.exit(1 if p.rejected else 0)
