"""`import-csv` as a library call: files in, rows mapped and deduped, rejects written out,
files archived, and an exit status cron can act on (0 ok, 1 some rows rejected,
2 nothing imported). Each call is a row in `runs` (kind `import-csv:SOURCE`), as a sync
is, so `status` and a monitoring query see a nightly import that failed or never ran.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..connectors.csv_source import expand
from ..intake.files import IngestStats
from ..process.batch import ProcessStats

if TYPE_CHECKING:
    from ..sync_engine import Hub


# Bytes read from the start of each file to tell its rows' length (estimated_rows).
SAMPLE_BYTES = 1 << 16


def estimated_rows(paths: list[Path]) -> int:
    """About how many rows these files hold, by each file's size over the mean length of
    the lines in its first SAMPLE_BYTES (counted, for a smaller file). What decides
    whether the mapping worker starts before the files are read (mapping_pool.py): a
    worker started for a file of fewer rows than `parallel_min_rows` is never used and
    cost its ~0.8 CPU-s of start-up (#20). A file that cannot be read counts none: the
    ingest rejects it and says why."""
    total = 0
    for path in paths:
        try:
            size = path.stat().st_size
            with path.open("rb") as f:
                head = f.read(SAMPLE_BYTES)
        except OSError:
            continue
        if head:
            lines = head.count(b"\n") + (not head.endswith(b"\n"))
            total += lines if len(head) == size else size * lines // len(head)
    return total


@dataclass
class ImportReport:
    ingest: IngestStats
    process: ProcessStats | None = None
    rejects_files: list[Path] = field(default_factory=list)
    archived: list[Path] = field(default_factory=list)
    run_id: int = 0

    @property
    def status(self) -> str:
        """The `runs` status: ok, partial (some rows rejected) or failed (nothing in)."""
        return {0: "ok", 1: "partial"}.get(self.exit_code, "failed")

    def stats(self) -> dict[str, object]:
        """What `runs.stats` keeps: counts, never row contents (they hold guests' data)."""
        ing = self.ingest
        out: dict[str, object] = {
            "files": ing.files,
            "rows": ing.rows,
            "new": ing.new,
            "rejected": self.rejected,
            "rejected_files": len(ing.rejected_files),
            "skipped_files": len(ing.skipped_files),
        }
        if self.process is not None:
            out |= {
                "processed": self.process.processed,
                "guests_created": self.process.guests_created,
                "guests_matched": self.process.guests_matched,
                "queued": self.process.queued,
            }
        return out

    @property
    def rejected(self) -> int:
        return len(self.ingest.bad_rows) + (self.process.rejected if self.process else 0)

    @property
    def exit_code(self) -> int:
        ing = self.ingest
        if ing.files == 0 and not ing.skipped_files:
            return 2  # no file found, or every file rejected whole
        if ing.rows and self.rejected >= ing.rows:
            return 2  # every row was rejected
        if self.rejected or ing.rejected_files:
            return 1
        return 0


def import_files(
    hub: Hub,
    source: str,
    patterns: list[str],
    *,
    force: bool = False,
    process: bool = True,
    archive: str | None = None,
    rejects: bool | None = None,
    progress: Callable[[Path, int, int], None] | None = None,
    process_progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Import files, globs or directories for a configured CSV source.

    `progress(path, bytes_read, size)` is called while each file is read, and
    `process_progress(rows done, rows pending)` while the rows are mapped and resolved.
    """
    hub.source(source)  # an unknown source is a config error, even with no file found
    run_id = hub.store.start_run(f"import-csv:{source}")
    report = ImportReport(IngestStats(), run_id=run_id)
    try:
        _import(
            hub,
            source,
            patterns,
            report,
            force=force,
            process=process,
            archive=archive,
            rejects=rejects,
            progress=progress,
            process_progress=process_progress,
        )
    except BaseException:
        hub.store.finish_run(run_id, status="failed", stats=report.stats())
        raise
    hub.store.finish_run(run_id, status=report.status, stats=report.stats())
    return report


def _import(
    hub: Hub,
    source: str,
    patterns: list[str],
    report: ImportReport,
    *,
    force: bool,
    process: bool,
    archive: str | None,
    rejects: bool | None,
    progress: Callable[[Path, int, int], None] | None,
    process_progress: Callable[[int, int], None] | None,
) -> None:
    files = expand(patterns, Path.cwd())
    ingest = report.ingest
    if not files:
        ingest.rejected_files.append(f"no file matches {', '.join(patterns)}")
    if process and estimated_rows(files) + hub.store.count_pending() >= hub.parallel_min_rows:
        hub.start_mapping()  # many rows: the mapping worker starts while they are read
    for path in files:
        size = path.stat().st_size

        def tick(done: int, path: Path = path, size: int = size) -> None:
            if progress:
                progress(path, done, size)

        hub.import_csv(source, [path], ingest, force=force, progress=tick)
    if process:
        # the bulk lane in windows of `import_window` rows; the per-record lane as set
        window = None if hub.bulk is False else hub.import_window
        with hub.store.page_cache(hub.import_cache_mib) if window else nullcontext():
            report.process = hub.process(progress=process_progress, batch_size=window)
    report.rejects_files, report.archived = hub.finish_imports(
        ingest, archive=archive, rejects=rejects
    )
