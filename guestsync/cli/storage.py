"""`guestsync migrate` (bring the configured store's schema up to date) and
`guestsync store copy --to URL` (move a SQLite store to PostgreSQL, history and all)."""

from __future__ import annotations

from pathlib import Path

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

from ..config import load_config
from ..errors import GuestsyncError
from ..store import open_store
from ..store.copy import StoreNotEmpty, copy_store
from ..store.postgres import is_postgres_url, redact
from .app import Ctx, cli, out, pass_ctx


@cli.command()
@pass_ctx
def migrate(ctx: Ctx) -> None:
    """Apply the schema migrations to the configured store (SQLite or PostgreSQL).

    Every command does this when it opens the store; run it on its own before starting
    several `serve` nodes on one PostgreSQL database after an upgrade."""
    config = load_config(ctx.config_path, secrets=False)
    location = config.store_location
    store = open_store(location)
    try:
        names = store.schema_migrations()
    finally:
        store.close()
    shown = redact(location) if isinstance(location, str) else location
    out.print(f"{shown}: schema up to date ({len(names)} migrations)")


@cli.group("store")
def store_group() -> None:
    """The store itself: copy it to PostgreSQL."""


@store_group.command("copy")
@click.option(
    "--to",
    "to_url",
    required=True,
    metavar="URL",
    help="postgresql://user@host:port/db (the password from $PGPASSWORD, or in the URL).",
)
@click.option(
    "--from",
    "from_path",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="The SQLite store to copy (default: the config's store.path).",
)
@pass_ctx
def copy_cmd(ctx: Ctx, to_url: str, from_path: Path | None) -> None:
    """Copy every table of a SQLite store (guests, links, match log, outbox, CRM ids,
    cursors, event ids…) into an empty PostgreSQL database, migrating it first. Then set
    `store: {url: …}` in guestsync.yaml."""
    if not is_postgres_url(to_url):
        raise click.BadParameter("a postgresql://… URL", param_hint="--to")
    if from_path is None:
        from_path = load_config(ctx.config_path, secrets=False).store_path
        if not from_path.is_file():
            raise GuestsyncError(f"no SQLite store at {from_path} (give --from)")
    src, dst = open_store(from_path), open_store(to_url)
    try:
        with Progress(
            TextColumn("{task.description:<22}"), BarColumn(), MofNCompleteColumn(), console=out
        ) as bar:
            tasks: dict[str, TaskID] = {}

            def progress(table: str, done: int, total: int) -> None:
                if table not in tasks:
                    tasks[table] = bar.add_task(table, total=total or 1)
                bar.update(tasks[table], completed=done if total else 1)

            counts = copy_store(src, dst, progress=progress)
    except StoreNotEmpty as exc:
        raise GuestsyncError(str(exc)) from None
    finally:
        src.close()
        dst.close()
    out.print(
        f"copied {sum(counts.values())} rows in {len(counts)} tables from {from_path}"
        f" to {redact(to_url)}"
    )
