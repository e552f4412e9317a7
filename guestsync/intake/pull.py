"""Stage 1 for pull sources: each page into the inbox, and the cursor with it.

The page's records and the stream's new cursor commit in one transaction: after a crash
in the middle of a page, the next run asks for that same page again, and the pages
before it are neither lost nor read twice (the inbox is idempotent on top of that).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import requests

from ..config import plugins
from ..connectors import SOURCES
from ..errors import GuestsyncError
from ..models import InboxEntry
from ..store.protocols import IntakeStore


class PageLike(Protocol):
    records: list[dict[str, Any]]
    ids: list[str]
    cursor: str


class PullSource(Protocol):
    name: str

    def streams(self) -> list[str]: ...

    def read(self, stream: str, cursor: str | None) -> Iterator[PageLike]: ...


@dataclass
class PullStats:
    pages: int = 0
    records: int = 0
    new: int = 0
    errors: list[str] = field(default_factory=list)  # "source/stream: reason"


def pull_stream(store: IntakeStore, source: PullSource, stream: str, stats: PullStats) -> None:
    cursor = store.get_cursor(source.name, stream)
    for page in source.read(stream, cursor):
        entries = [
            InboxEntry.of(
                source=source.name, stream=stream, external_id=rid, record=raw, origin="pull"
            )
            for raw, rid in zip(page.records, page.ids, strict=True)
        ]
        with store.atomic():
            stats.new += store.add_to_inbox(entries)
            store.set_cursor(source.name, stream, page.cursor)
        stats.pages += 1
        stats.records += len(entries)


def pull(
    store: IntakeStore,
    source: PullSource,
    *,
    streams: list[str] | None = None,
    stats: PullStats | None = None,
) -> PullStats:
    """Pull every stream of `source`. A stream that fails is reported and the others go
    on; its stored pages and cursor stay, so the next run continues from there."""
    stats = stats or PullStats()
    for stream in streams or source.streams():
        try:
            pull_stream(store, source, stream, stats)
        except GuestsyncError as exc:
            stats.errors.append(f"{source.name}/{stream}: {exc}")
    return stats


def make_source(
    name: str,
    options: Any,
    *,
    base_dir: Path,
    session_factory: Callable[[], requests.Session],
    sleep: Callable[[float], None],
) -> Any:
    """Build a configured source: a CSV source reads files, a pull source gets a session."""
    cls = plugins.connector("sources", options.type, SOURCES)  # a built-in or a plugin
    accepts = inspect.signature(cls).parameters
    extra: dict[str, Any] = {}
    if "session" in accepts:  # pull sources: one requests Session each
        extra["session"] = session_factory()
    if "sleep" in accepts:
        extra["sleep"] = sleep
    return cls(name, options, base_dir=base_dir, **extra)
