"""Helpers for the issue-8 tests: feed canonical records through the real process stage."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from guestsync.connectors.base import Target
from guestsync.models import InboxEntry, SourceRecord
from guestsync.process.batch import ProcessStats, process_pending
from guestsync.restaurant.hooks import ActivitySettings
from guestsync.store import Store

NOW = datetime(2026, 3, 20, 4, 0, tzinfo=UTC)  # 12:00 in Taipei


class RecordMapping:
    """Stands in for a compiled mapping: the raw row already is a SourceRecord as JSON."""

    def apply(self, raw: Any, *, source: str, stream: str, external_id: str) -> SourceRecord:
        return SourceRecord.model_validate(
            {**raw, "source": source, "stream": stream, "external_id": external_id}
        )


def settings(**kw: Any) -> ActivitySettings:
    return ActivitySettings(clock=lambda: NOW, **kw)


def to_inbox(store: Store, records: Sequence[SourceRecord]) -> None:
    """Put canonical records in the inbox, as raw rows `RecordMapping` maps back."""
    entries = []
    for r in records:
        raw = json.loads(r.model_dump_json(exclude={"source", "stream", "external_id"}))
        entries.append(
            InboxEntry.of(
                source=r.source, stream=r.stream, external_id=r.external_id, record=raw, origin="t"
            )
        )
    with store.atomic():
        store.add_to_inbox(entries)


def feed(
    store: Store,
    records: Sequence[SourceRecord],
    *,
    targets: Mapping[str, Target] | None = None,
    batch_size: int = 500,
    activity: ActivitySettings | None = None,
) -> ProcessStats:
    to_inbox(store, records)
    return process_pending(
        store,
        lambda s, st: RecordMapping(),  # type: ignore[arg-type,return-value]
        targets or {},
        batch_size=batch_size,
        settings=activity or settings(),
    )
