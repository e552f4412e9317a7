"""Stage 1 for files: raw CSV rows into the inbox, exactly as read, idempotently.

A file is imported once: its content hash is recorded after its last row is stored, so a
crash half-way imports it again next time (the inbox skips the rows it already has) and
a file seen before is skipped unless forced. Rows are streamed in batches, so memory
stays flat whatever the file size.
"""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..connectors.csv_source import CsvSource, file_digest, path_fields
from ..errors import BadRecordError
from ..mapping import CompiledMapping
from ..models import InboxEntry
from ..store.protocols import IntakeStore

BATCH = 5000


@dataclass
class RowProblem:
    """A row that could not be stored as read (CSV shape, undecodable bytes)."""

    source: str
    file: str
    line: int
    column: str | None
    reason: str
    record: dict[str, str | None]

    def render(self) -> str:
        col = f"{self.column}: " if self.column else ""
        return f"{self.file}:{self.line}: {col}{self.reason}"


@dataclass
class IngestStats:
    files: int = 0
    rows: int = 0
    new: int = 0
    rejected_files: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    skipped_files: list[str] = field(default_factory=list)  # imported before (same bytes)
    bad_rows: list[RowProblem] = field(default_factory=list)
    imported: list[tuple[str, str]] = field(default_factory=list)  # (source, path) this run


def _entry(source: CsvSource, mapping: CompiledMapping, origin: str, record: dict) -> InboxEntry:
    return InboxEntry.of(
        source=source.name,
        stream=source.options.stream,
        external_id=mapping.external_id(record),
        record=record,
        origin=origin,
    )


def ingest_csv(
    store: IntakeStore,
    source: CsvSource,
    mapping: CompiledMapping,
    path: Path,
    stats: IngestStats | None = None,
    *,
    force: bool = False,
    progress: Callable[[int], None] | None = None,
) -> IngestStats:
    """Store every data row of `path` in the inbox; the file is rejected whole only if its
    header lacks a column the mapping requires (nothing of it is stored then)."""
    stats = stats or IngestStats()
    wanted = set(mapping.columns)
    for spec in mapping.spec.fields.values():
        if spec.path:
            wanted |= path_fields(spec.path)
    try:
        digest = file_digest(path)
        if not force and (before := store.file_imported(source.name, digest)):
            stats.skipped_files.append(f"{path}: imported before (as {before}); --force to redo")
            return stats
        header = set(source.header(path, wanted))
    except (OSError, UnicodeError, LookupError) as exc:
        stats.rejected_files.append(f"{path}: cannot read ({exc})")
        return stats
    missing = sorted(mapping.required_columns - header)
    if missing:
        stats.rejected_files.append(
            f"{path}: missing required column(s) {', '.join(map(repr, missing))} "
            f"(mapping {mapping.name}); nothing imported from this file"
        )
        return stats
    absent = sorted(mapping.columns - header - mapping.required_columns)
    if absent:
        stats.warnings.append(f"{path}: column(s) {', '.join(map(repr, absent))} not in header")
    stats.files += 1
    rows = 0
    batch: list[InboxEntry] = []
    for row in source.rows(path, wanted, progress=progress):
        rows += 1
        if row.error is not None:
            stats.bad_rows.append(
                RowProblem(source.name, path.name, row.line, row.column, row.error, row.record)
            )
            continue
        batch.append(_entry(source, mapping, f"{path.name}:{row.line}", row.record))
        if len(batch) >= BATCH:
            with store.atomic():
                stats.new += store.add_to_inbox(batch)
            batch = []
    with store.atomic():
        stats.new += store.add_to_inbox(batch)
        store.record_imported_file(
            source.name, digest, path=str(path), size=path.stat().st_size, rows=rows
        )
    stats.rows += rows
    stats.imported.append((source.name, str(path)))
    return stats


__all__ = ["BadRecordError", "IngestStats", "RowProblem", "ingest_csv"]


# -- after processing: rejects CSVs beside the files, files to the archive -------------


def finish_imports(
    store: IntakeStore,
    ingest: IngestStats,
    *,
    sources: Mapping[str, CsvSource],
    mapping_for: Callable[[str, str], CompiledMapping],
    resolve: Callable[[str], Path],
    archive: str | None = None,
    rejects: bool | None = None,
) -> tuple[list[Path], list[Path]]:
    """After processing: write each imported file's rejects CSV (if asked, by argument or
    the source's `rejects:`) and move it to the archive folder (argument or `archive:`).
    `resolve` makes a configured folder absolute (relative to the config file)."""
    written: list[Path] = []
    archived: list[Path] = []
    for source, name in ingest.imported:
        src = sources[source]
        path = Path(name)
        if src.options.rejects if rejects is None else rejects:
            problems = [p for p in ingest.bad_rows if (p.source, p.file) == (source, path.name)]
            fields = mapping_for(source, src.options.stream).spec.fields
            for origin, raw, error in store.inbox_errors_from(source, f"{path.name}:"):
                line = int(origin.rsplit(":", 1)[1])
                spec = fields.get(error.split(":", 1)[0])  # "guest.phone: not a …" -> Phone
                column = spec.column if spec is not None else None
                if isinstance(column, list):  # `column: [a, b]`: the first is named
                    column = column[0] if column else None
                problems.append(RowProblem(source, path.name, line, column, error, json.loads(raw)))
            if out := write_rejects(path, problems):
                written.append(out)
        folder = Path(archive) if archive else None
        if folder is None and src.options.archive:
            folder = resolve(src.options.archive)
        if folder and path.exists():
            archived.append(_archive(path, folder))
    return written, archived


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
