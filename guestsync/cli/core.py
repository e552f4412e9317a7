"""Core commands: validate, init, schema, sync, status."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from importlib import resources
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import MofNCompleteColumn, Progress, SpinnerColumn, TextColumn
from rich.table import Table

from ..actions import profiles
from ..config import find_config, json_schema, load_config
from ..delivery.batches import quota_paused_until
from ..sync_engine import Hub, SyncSummary
from .app import Ctx, cli, err, out, pass_ctx
from .delivery import dry_run_plans, print_plans
from .status_tables import print_service_status
from .timefmt import local


@cli.command()
@click.argument("config_file", required=False, metavar="[CONFIG]")
@pass_ctx
def validate(ctx: Ctx, config_file: str | None) -> None:
    """Check the config and every mapping it names; print what is wrong, by file and line.

    Exits 0 when valid, 2 when not.
    """
    path = config_file or ctx.config_path
    hub = Hub(load_config(path))
    out.print(
        f"[green]ok[/]: {find_config(path)}: {len(hub.sources)} source(s), "
        f"{len(hub.targets)} target(s), {len(hub.mappings)} mapping(s)"
    )


@cli.command()
@click.argument("directory", default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--profile",
    type=click.Choice(profiles.INIT_PROFILES),
    default="csv",
    show_default=True,
    help="csv: a booking export (annotated); square: the Square API; or any shipped "
    "mapping profile (`guestsync mapping list`) with the source that reads it: a CSV "
    "export (booking_zh, pos_orders_zh, survey_zh …), a webhook (inline_reservations, "
    "toast_guests, square_webhook_customers, generic_booking) or 简道云 (jiandaoyun_*).",
)
@click.option("--sample", is_flag=True, help="Also put a sample export in exports/ to try.")
@click.option("--force", is_flag=True, help="Overwrite files that exist.")
def init(directory: Path, profile: str, sample: bool, force: bool) -> None:
    """Write an annotated starter guestsync.yaml and the mappings it names into DIRECTORY.

    The mappings are copies of the shipped profiles (`guestsync mapping list`): edit them
    to match your export's headers. Then `guestsync validate`."""
    start = profiles.starter(profile)
    shipped = profiles.shipped()
    files = {directory / "guestsync.yaml": start.config}
    if not start.mappings:  # the annotated starter's own mapping
        starter = resources.files("guestsync") / "starter"
        files[directory / "mappings" / "bookings.yaml"] = (starter / "bookings.yaml").read_text(
            "utf-8"
        )
    for name, file in start.mappings.items():
        files[directory / "mappings" / file] = profiles.profile(name).path.read_text("utf-8")
    if sample:
        if start.sample is None:
            raise click.ClickException(f"the {profile} profile has no sample export")
        files[directory / "exports" / start.sample_name] = (shipped / start.sample).read_text(
            "utf-8-sig"
        )
    exists = [p for p in files if p.exists()]
    if exists and not force:
        raise click.ClickException(
            f"{', '.join(map(str, exists))} already exist(s); use --force to overwrite"
        )
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        out.print(f"wrote {path}")


@cli.command()
def schema() -> None:
    """Print the JSON Schema of guestsync.yaml (for editor completion and checking)."""
    click.echo(json.dumps(json_schema(), indent=2, ensure_ascii=False))


@cli.command()
@click.option("--source", "sources", multiple=True, help="Only this source (repeatable).")
@click.option("--target", "targets", multiple=True, help="Only this target (repeatable).")
@click.option(
    "--no-deliver",
    is_flag=True,
    help="Stop after processing: queue CRM pushes but do not send them.",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Run up to delivery, then print per target what would be created, updated, "
    "merged or deleted, field by field; send nothing.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option(
    "-q",
    "--quiet",
    is_flag=True,
    help="For cron: print nothing when all is well; problems go to stderr; no progress.",
)
@pass_ctx
def sync(
    ctx: Ctx,
    sources: tuple[str, ...],
    targets: tuple[str, ...],
    no_deliver: bool,
    dry_run: bool,
    as_json: bool,
    quiet: bool,
) -> None:
    """Run one pass: import configured files, map and dedupe, push changed guests to the CRM.

    Exit status: 0 all good; 1 some records were rejected (bad rows or files, dead
    letters); 2 the config or the command line is wrong (nothing ran); 3 nothing was
    rejected but records are still pending for a CRM after the run (credentials refused,
    CRM down, quota used up, resends): the summary says how many and why, and the next
    run sends them. Problems go to stderr, the summary to stdout (none with --quiet).
    """
    hub = ctx.hub()
    display = _SyncProgress(enabled=out.is_terminal and not (quiet or as_json))
    try:
        hub.check_targets(list(targets))  # before any work, not after processing
        with display:
            summary = hub.sync(
                sources=list(sources) or None,
                targets=list(targets) or None,
                deliver=not (no_deliver or dry_run),
                stage=display.stage,
                process_progress=display.rows,
            )
        plans = dry_run_plans(hub, list(targets) or None) if dry_run else []
    finally:
        hub.close()
    if quiet and not as_json:
        print_problems(summary)
        sys.exit(exit_code(summary))
    if dry_run and not as_json:
        print_summary(summary)
        print_plans(plans)
        sys.exit(exit_code(summary))
    if as_json:
        report = summary.as_dict()
        if dry_run:
            report["dry_run"] = [asdict(p) for p in plans]
        click.echo(json.dumps(report, indent=2, ensure_ascii=False, default=str))
    else:
        print_summary(summary)
    sys.exit(exit_code(summary))


EXIT_PENDING = 3  # nothing rejected, but records still wait for a CRM


def exit_code(summary: SyncSummary) -> int:
    """0 ok, 1 something was rejected, 3 records are still pending (see `sync --help`)."""
    if summary.ok:
        return 0
    rejected = (
        summary.ingest.rejected_files
        or summary.pull.errors
        or summary.process.rejected
        or any(d.dead for d in summary.deliveries)
    )
    return 1 if rejected or not summary.pending_left else EXIT_PENDING


@cli.command()
@pass_ctx
def status(ctx: Ctx) -> None:
    """Queues at a glance: inbox by state, outbox and dead letters per target, last runs."""
    hub = ctx.hub(secrets=False)
    store = hub.store
    tz = hub.config.defaults.timezone
    t = Table(title="inbox")
    for col in ("pending", "done", "error"):
        t.add_column(col, justify="right")
    counts = store.inbox_counts()
    t.add_row(*(str(counts.get(c, 0)) for c in ("pending", "done", "error")))
    out.print(t)
    t = Table(title="targets")
    for col in ("target", "pending", "delivered", "dead letters", "in CRM", "quota paused"):
        t.add_column(col)
    for name in hub.targets:
        c = store.outbox_counts(name)
        t.add_row(
            name,
            str(c.get("pending", 0)),
            str(c.get("done", 0)),
            str(len(store.dead_letters(target=name))),
            str(store.count_crm_links(name)),
            f"until {local(paused, tz)}" if (paused := quota_paused_until(store, name)) else "-",
        )
    out.print(t)
    out.print(f"guests: {store.count_guests()}   reservations: {store.count_reservations()}")
    print_service_status(out, store, list(hub.sources), tz=tz)
    hub.close()


_STAGES = {"read": "reading files", "pull": "pulling APIs", "process": "map, dedupe"}


class _SyncProgress:
    """The stage a `sync` is in, on a terminal: one line, rows counted while mapping."""

    def __init__(self, *, enabled: bool) -> None:
        self.bar = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            MofNCompleteColumn(),
            console=out,
            transient=True,
            disable=not enabled,
        )
        self.task = self.bar.add_task("starting", total=None)

    def __enter__(self) -> _SyncProgress:
        self.bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.__exit__(None, None, None)

    def stage(self, name: str) -> None:
        text = _STAGES.get(name) or f"pushing to {name.removeprefix('deliver:')}"
        self.bar.reset(self.task, description=text, total=None)

    def rows(self, done: int, total: int) -> None:
        self.bar.update(self.task, completed=done, total=total)


def print_problems(s: SyncSummary) -> None:
    """`sync --quiet`: only what needs a person, on stderr (cron mails stderr)."""
    print_errors(s)
    for d in s.deliveries:
        if d.stopped:
            err.print(f"[red]{escape(d.target)}[/]: {escape(d.stopped)}", highlight=False)
        elif d.pending_left and not d.skipped:
            why = escape(d.pending_why or "")
            err.print(f"[yellow]{escape(d.target)}[/]: {d.pending_left} still pending: {why}")
        if d.dead:
            err.print(
                f"[red]{escape(d.target)}[/]: {d.dead} dead letter(s) "
                "(`guestsync dead-letters list`)",
                highlight=False,
            )


def print_errors(s: SyncSummary) -> None:
    for line in s.ingest.rejected_files:
        err.print(f"[red]rejected file[/] {escape(line)}")
    for line in s.ingest.warnings:
        err.print(f"[yellow]warning[/] {escape(line)}")
    for line in s.pull.errors:
        err.print(f"[red]pull failed[/] {escape(line)}")
    for line in s.process.errors:
        err.print(f"[red]rejected row[/] {escape(line)}")
    for line in s.process.warnings:
        err.print(f"[yellow]warning[/] {escape(line)}")


def print_summary(s: SyncSummary, console: Console = out) -> None:
    print_errors(s)
    t = Table(title=f"sync run {s.run_id}")
    t.add_column("stage")
    t.add_column("result")
    t.add_row("read", f"{s.ingest.rows} row(s) from {s.ingest.files} file(s), {s.ingest.new} new")
    if s.pull.pages or s.pull.errors:
        t.add_row("pull", f"{s.pull.records} record(s) in {s.pull.pages} page(s), {s.pull.new} new")
    p = s.process
    t.add_row(
        "process",
        f"{p.processed} mapped, {p.rejected} rejected; "
        f"{p.guests_created} guest(s) created, {p.guests_matched} matched",
    )
    t.add_row("guests", f"{s.guests_total} in total, {p.queued} queued for the CRM")
    for d in s.deliveries:
        line = (
            f"{d.pushed} pushed ({d.created} new), {d.dead} dead letter(s), "
            f"{d.deferred} deferred, {d.retries} retries"
        )
        if d.skipped:
            line = d.skipped
        elif d.pushed == 0 and d.dead == 0 and d.deferred == 0 and not d.pending_left:
            line = "nothing to push (no guest changed)"
        if d.stopped:
            line += f"\n[red]{escape(d.stopped)}[/]"
        elif d.pending_left and not d.skipped:
            line += f"\n[yellow]{d.pending_left} still pending: {escape(d.pending_why or '')}[/]"
        t.add_row(f"→ {d.target}", line)
    console.print(t)
