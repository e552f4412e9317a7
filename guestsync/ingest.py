"""Stage 1: raw records into the inbox, exactly as received, idempotently."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from .connectors.csv_source import CsvSource
from .errors import BadRecordError
from .mapping import CompiledMapping
from .mapping.compiler import content_hash
from .store import InboxEntry, Store

BATCH = 1000


@dataclass
class IngestStats:
    files: int = 0
    rows: int = 0
    new: int = 0
    rejected_files: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def ingest_csv(
    store: Store,
    source: CsvSource,
    mapping: CompiledMapping,
    path: Path,
    stats: IngestStats | None = None,
) -> IngestStats:
    """Store every data row of `path` in the inbox; the file is rejected whole only if its
    header lacks a column the mapping requires (nothing of it is stored then)."""
    stats = stats or IngestStats()
    try:
        header = set(source.header(path))
    except (OSError, UnicodeDecodeError) as exc:
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
    batch: list[InboxEntry] = []
    try:
        for row in source.rows(path):
            stats.rows += 1
            batch.append(
                InboxEntry(
                    source=source.name,
                    stream=source.options.stream,
                    external_id=mapping.external_id(row.record),
                    content_hash=content_hash(row.record),
                    raw=json.dumps(row.record, ensure_ascii=False),
                    origin=f"{path.name}:{row.line}",
                )
            )
            if len(batch) >= BATCH:
                with store.atomic():
                    stats.new += store.add_to_inbox(batch)
                batch = []
    except UnicodeDecodeError as exc:
        stats.warnings.append(
            f"{path}: stopped at undecodable bytes ({exc.reason}); set `encoding:` for this source"
        )
    if batch:
        with store.atomic():
            stats.new += store.add_to_inbox(batch)
    return stats


__all__ = ["BadRecordError", "IngestStats", "ingest_csv"]
