"""Stage 1 for pull sources: pages into the inbox, each page with its cursor in one
transaction, so a crash mid-backfill resumes after the last stored page."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from .store import InboxEntry, Store


class PullSource(Protocol):
    name: str

    def streams(self) -> list[str]: ...

    def read(self, stream: str, cursor: str | None) -> Iterator[tuple[list[InboxEntry], str]]: ...


@dataclass
class BackfillStats:
    pages: int = 0
    records: int = 0
    new: int = 0


def backfill(
    store: Store, source: PullSource, *, stream: str | None = None, from_start: bool = False
) -> BackfillStats:
    """Read every page after the stored cursor (or from the start) into the inbox."""
    stats = BackfillStats()
    for s in [stream] if stream else source.streams():
        cursor = None if from_start else store.get_cursor(source.name, s)
        for entries, after in source.read(s, cursor):
            with store.atomic():
                stats.new += store.add_to_inbox(entries)
                store.set_cursor(source.name, s, after)
            stats.pages += 1
            stats.records += len(entries)
    return stats
