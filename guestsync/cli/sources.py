"""Source commands: import-csv, pull, schedule list / run."""

from __future__ import annotations

import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from ..actions.import_csv import import_files
from ..serve.scheduler import all_jobs, build_scheduler, guarded, next_runs, unscheduled
from .app import Ctx, cli, err, out, pass_ctx
from .timefmt import local


@cli.command("import-csv")
@click.argument("files", nargs=-1, required=True)
@click.option("--source", required=True, help="The configured CSV source these files belong to.")
@click.option("--no-process", is_flag=True, help="Only store the rows; map them on next sync.")
@click.option("--force", is_flag=True, help="Import files again even if imported before.")
@click.option("--archive", metavar="DIR", help="Move each imported file into DIR.")
@click.option(
    "--rejects/--no-rejects",
    default=None,
    help="Write <file>.rejects.csv beside each input with its rejected rows and reasons.",
)
@click.option("-q", "--quiet", is_flag=True, help="Only errors (for cron); no progress bar.")
@pass_ctx
def import_csv(
    ctx: Ctx,
    files: tuple[str, ...],
    source: str,
    no_process: bool,
    force: bool,
    archive: str | None,
    rejects: bool | None,
    quiet: bool,
) -> None:
    """Import CSV FILES (files, globs or directories) for SOURCE: store every row, then map
    and dedupe them. The encoding (UTF-8, BOM, Big5, GBK, Shift-JIS) and delimiter are
    detected; a file already imported (same bytes) is skipped unless --force.

    Bad rows are reported with file, row, column and reason and kept for `replay`; good
    rows go on. Exit status: 0 ok, 1 some rows rejected, 2 nothing imported.
    """
    hub = ctx.hub()
    show = not quiet and out.is_terminal
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=out,
        disable=not show,
    )
    tasks: dict[Path | str, TaskID] = {}

    def tick(path: Path, done: int, size: int) -> None:
        if path not in tasks:
            tasks[path] = progress.add_task(f"{path.name} (bytes)", total=size)
        progress.update(tasks[path], completed=done)

    def tick_process(done: int, total: int) -> None:
        if "process" not in tasks:
            tasks["process"] = progress.add_task("map, dedupe (rows), settle (guests)")
        progress.update(tasks["process"], completed=done, total=total)

    try:
        with progress:
            report = import_files(
                hub,
                source,
                list(files),
                force=force,
                process=not no_process,
                archive=archive,
                rejects=rejects,
                progress=tick,
                process_progress=tick_process,
            )
    finally:
        hub.close()
    ing = report.ingest
    for line in ing.rejected_files:
        err.print(f"[red]rejected file[/] {escape(line)}")
    for line in ing.warnings:
        err.print(f"[yellow]warning[/] {escape(line)}")
    for p in ing.bad_rows:
        err.print(f"[red]rejected[/] {escape(p.render())}")
    if report.process is not None:
        for line in report.process.errors:
            err.print(f"[red]rejected[/] {escape(line)}")
        for line in report.process.warnings:
            err.print(f"[yellow]warning[/] {escape(line)}")
    if not quiet:
        for line in ing.skipped_files:
            out.print(f"skipped {escape(line)}")
        out.print(f"{ing.rows} row(s) read from {ing.files} file(s), {ing.new} new")
        if report.process is not None:
            stats = report.process
            out.print(
                f"{stats.processed} mapped, {stats.guests_created} new guest(s), "
                f"{stats.guests_matched} matched, {report.rejected} rejected"
            )
        for path in report.rejects_files:
            out.print(f"rejected rows written to {escape(str(path))}")
        for path in report.archived:
            out.print(f"archived to {escape(str(path))}")
    sys.exit(report.exit_code)


@cli.command()
@click.option("--source", "sources", multiple=True, help="Only this source (repeatable).")
@click.option("--from-start", is_flag=True, help="Ignore the stored cursors: read everything.")
@pass_ctx
def pull(ctx: Ctx, sources: tuple[str, ...], from_start: bool) -> None:
    """Pull REST, Square and Jiandaoyun sources into the inbox only (no mapping, no CRM
    push); each page is stored with its cursor, so an interrupted pull resumes where it
    stopped. `guestsync sync` maps and delivers what was pulled."""
    hub = ctx.hub()
    try:
        for name in sources:
            src = hub.source(name)
            if not callable(getattr(src, "streams", None)) or not src.streams():
                raise click.ClickException(
                    f"source {name!r} has nothing to pull: it has no API streams configured"
                    " (a Jiandaoyun form needs api_key, app_id and entry_id)"
                )
        stats = hub.pull(list(sources) or None, from_start=from_start)
        cursors = hub.store.cursors()
    finally:
        hub.close()
    for line in stats.errors:
        err.print(f"[red]pull failed[/] {escape(line)}")
    out.print(f"{stats.records} record(s) in {stats.pages} page(s), {stats.new} new")
    for source, stream, value, _ in cursors:
        out.print(f"  cursor {source}/{stream}: {escape(value)}")
    sys.exit(1 if stats.errors else 0)


@cli.group()
def schedule() -> None:
    """Scheduled jobs: sources (and exports) with `schedule:` cron expressions."""


@schedule.command("list")
@pass_ctx
def schedule_list(ctx: Ctx) -> None:
    """Show every scheduled job (sources and exports), its cron expression, its next run
    time and how its last run went."""
    hub = ctx.hub(secrets=False)
    try:
        config = hub.config
        jobs = all_jobs(config, ctx.hub)
        last: dict[str, dict] = {}
        for run in hub.store.runs(limit=500):  # newest first
            last.setdefault(run["kind"].removeprefix("schedule:"), run)
    finally:
        hub.close()
    if not jobs:
        out.print(
            "no job has `schedule:`; add e.g. `schedule: '0 3 * * *'` to a source or an export"
        )
        return
    t = Table(title=f"schedules ({config.defaults.timezone})")
    for col in ("job", "cron", "next run", "last run"):
        t.add_column(col)
    tz = config.defaults.timezone
    for job_id, cron, when in next_runs(jobs, timezone=tz):
        last_run = last.get(job_id)
        seen = "-"
        if last_run:
            seen = f"{local(last_run['started_at'], tz)} {last_run['status']}"
        t.add_row(job_id, cron, local(when, tz) if when else "never", seen)
    out.print(t)


@schedule.command("run")
@pass_ctx
def schedule_run(ctx: Ctx) -> None:
    """Run the scheduled jobs in the foreground until interrupted (`serve` does this too,
    alongside its webhook server and worker: run one or the other, not both)."""
    import threading

    from apscheduler.schedulers.blocking import BlockingScheduler

    config = ctx.hub().config
    # two sources due at once: their syncs run one after the other
    jobs = all_jobs(config, ctx.hub, exclusive=threading.Lock())
    if not jobs:
        raise click.ClickException("no job has `schedule:`")
    tz = config.defaults.timezone
    sched = build_scheduler(jobs, timezone=tz, scheduler=BlockingScheduler(timezone=ZoneInfo(tz)))
    out.print(f"running {len(jobs)} job(s); Ctrl-C to stop")
    try:
        sched.start()
    except (KeyboardInterrupt, SystemExit):
        sched.shutdown(wait=True)


@schedule.command("once")
@click.argument("job_ids", metavar="JOB...", nargs=-1, required=True)
@pass_ctx
def schedule_once(ctx: Ctx, job_ids: tuple[str, ...]) -> None:
    """Run jobs once now, e.g. `source:square` or `export:nightly_guests` (as `schedule
    list` names them), each leaving a row in `runs`; for system cron. Exit status 1 if a
    run did not finish ok."""
    hub = ctx.hub()
    config = hub.config
    hub.close()
    jobs = unscheduled(config, ctx.hub)
    unknown = [j for j in job_ids if j not in jobs]
    if unknown:
        known = ", ".join(sorted(jobs)) or "none configured"
        raise click.ClickException(f"unknown job {', '.join(unknown)} (known: {known})")
    failed = 0
    for job_id in job_ids:
        status = guarded(jobs[job_id])()
        out.print(f"{job_id}: {status}")
        failed += status != "ok"
    sys.exit(1 if failed else 0)
