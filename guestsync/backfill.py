"""Stage 1 for pull sources: pages into the inbox, each page with its cursor in one
transaction, so a crash mid-backfill resumes after the last stored page."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from .mapping.compiler import content_hash
from .store import InboxEntry, Store


class PageLike(Protocol):
    records: list[dict[str, Any]]
    ids: list[str]
    cursor: str


class PullSource(Protocol):
    name: str

    def streams(self) -> list[str]: ...

    def read(self, stream: str, cursor: str | None) -> Iterator[PageLike]: ...


@dataclass
class BackfillStats:
    pages: int = 0
    records: int = 0
    new: int = 0


def backfill(
    store: Store, source: PullSource, *, stream: str | None = None, from_start: bool = False
) -> BackfillStats:
    """Read every page after the stored cursor (or from the start) into the inbox. A
    source without a configured pull API has no streams: nothing happens."""
    stats = BackfillStats()
    for s in [stream] if stream else source.streams():
        cursor = None if from_start else store.get_cursor(source.name, s)
        for page in source.read(s, cursor):
            entries = [
                InboxEntry(
                    source=source.name,
                    stream=s,
                    external_id=rid,
                    content_hash=content_hash(raw),
                    raw=json.dumps(raw, ensure_ascii=False),
                    origin="pull",
                )
                for raw, rid in zip(page.records, page.ids, strict=True)
            ]
            with store.atomic():
                stats.new += store.add_to_inbox(entries)
                store.set_cursor(source.name, s, page.cursor)
            stats.pages += 1
            stats.records += len(entries)
    return stats
