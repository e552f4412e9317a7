"""Export commands: export-csv."""

from __future__ import annotations

from pathlib import Path

import click

from ..actions.export import export_csv, load_columns, parse_columns
from .app import Ctx, cli, err, pass_ctx


@cli.command("export-csv")
@click.argument("out", metavar="OUT.csv", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--bom", is_flag=True, help="Start with a UTF-8 BOM so Excel shows CJK text.")
@click.option(
    "--columns",
    "columns_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="YAML mapping of canonical column -> header, in the order wanted.",
)
@click.option(
    "--column",
    "column_specs",
    multiple=True,
    metavar="CANONICAL=HEADER",
    help="One column (repeatable), e.g. --column email=電子郵件.",
)
@click.option(
    "--with",
    "with_",
    type=click.Choice(["reservations", "orders"]),
    default=None,
    help="One row per reservation (or per order) of each guest.",
)
@pass_ctx
def export_csv_command(
    ctx: Ctx,
    out: str,
    bom: bool,
    columns_file: Path | None,
    column_specs: tuple[str, ...],
    with_: str | None,
) -> None:
    """Write golden guests (optionally with their reservations or orders) to OUT.csv.

    OUT.csv "-" writes to stdout. Guests merged into another are not exported; their
    bookings and orders come with the guest that absorbed them.

    Columns default to every canonical guest field; rename and order them with --columns
    or --column. Use --bom for Excel. The file appears only once it is complete.
    """
    if columns_file and column_specs:
        raise click.UsageError("use --columns FILE or --column, not both")
    columns = load_columns(columns_file) if columns_file else parse_columns(column_specs)
    hub = ctx.hub(secrets=False)
    try:
        stats = export_csv(
            hub.store,
            out,
            columns or None,
            with_=with_,
            bom=bom,
        )
    finally:
        hub.close()
    err.print(f"wrote {stats.rows} row(s) for {stats.guests} guest(s) to {out}")
