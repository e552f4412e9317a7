"""`import-csv` as a library call: files in, rows mapped and deduped, rejects written out,
files archived, and an exit status cron can act on (0 ok, 1 some rows rejected,
2 nothing imported).
"""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..connectors.csv_source import expand
from ..intake.files import IngestStats, RowProblem
from ..process.batch import ProcessStats
from ..process.mapping_pool import MIN_ROW_BYTES

if TYPE_CHECKING:
    from ..sync_engine import Hub


@dataclass
class ImportReport:
    ingest: IngestStats
    process: ProcessStats | None = None
    rejects_files: list[Path] = field(default_factory=list)
    archived: list[Path] = field(default_factory=list)

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


def write_rejects(path: Path, problems: list[RowProblem]) -> Path | None:
    """`<name>.rejects.csv` beside the input: the rejected rows as read, with the reason,
    ready to be fixed and imported again."""
    if not problems:
        return None
    out = path.with_name(path.stem + ".rejects.csv")
    columns: list[str] = []
    for p in problems:
        columns.extend(k for k in p.record if k not in columns)
    with out.open("w", newline="", encoding="utf-8-sig") as fh:  # Excel opens it right
        w = csv.writer(fh)
        w.writerow(["_row", "_column", "_error", *columns])
        for p in sorted(problems, key=lambda p: p.line):
            w.writerow([p.line, p.column or "", p.reason, *(p.record.get(c) for c in columns)])
    return out


def _archive(path: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    dest = folder / path.name
    n = 1
    while dest.exists():
        dest = folder / f"{path.stem}.{n}{path.suffix}"
        n += 1
    shutil.move(str(path), dest)
    return dest


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
    files = expand(patterns, Path.cwd())
    ingest = IngestStats()
    if not files:
        ingest.rejected_files.append(f"no file matches {', '.join(patterns)}")
    if process and sum(p.stat().st_size for p in files) >= hub.parallel_min_rows * MIN_ROW_BYTES:
        hub.start_mapping()  # it may be many rows: the mapping worker starts while they are read
    for path in files:
        size = path.stat().st_size

        def tick(done: int, path: Path = path, size: int = size) -> None:
            if progress:
                progress(path, done, size)

        hub.import_csv(source, [path], ingest, force=force, progress=tick)
    report = ImportReport(ingest)
    if process:
        report.process = hub.process(progress=process_progress)
    report.rejects_files, report.archived = finish_imports(
        hub, ingest, archive=archive, rejects=rejects
    )
    return report


def finish_imports(
    hub: Hub, ingest: IngestStats, *, archive: str | None = None, rejects: bool | None = None
) -> tuple[list[Path], list[Path]]:
    """After processing: write each imported file's rejects CSV (if asked, by argument or
    the source's `rejects:`) and move it to the archive folder (argument or `archive:`)."""
    written: list[Path] = []
    archived: list[Path] = []
    for source, name in ingest.imported:
        src = hub.source(source)
        path = Path(name)
        if src.options.rejects if rejects is None else rejects:
            problems = [p for p in ingest.bad_rows if (p.source, p.file) == (source, path.name)]
            fields = hub.mapping_for(source, src.options.stream).spec.fields
            for origin, raw, error in hub.store.inbox_errors_from(source, f"{path.name}:"):
                line = int(origin.rsplit(":", 1)[1])
                spec = fields.get(error.split(":", 1)[0])  # "guest.phone: not a …" -> Phone
                column = spec.column if spec is not None else None
                problems.append(RowProblem(source, path.name, line, column, error, json.loads(raw)))
            if out := write_rejects(path, problems):
                written.append(out)
        folder = Path(archive) if archive else None
        if folder is None and src.options.archive:
            folder = hub.config.resolve(src.options.archive)
        if folder and path.exists():
            archived.append(_archive(path, folder))
    return written, archived
