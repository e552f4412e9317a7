"""Helpers for the issue-8 tests: feed canonical records through the real process stage."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from guestsync.connectors.base import Target
from guestsync.models import SourceRecord
from guestsync.process.batch import ProcessStats, process_pending
from guestsync.restaurant.hooks import ActivitySettings
from guestsync.store import Store
from guestsync.testing.records import RecordMapping, inbox_entries

__all__ = ["NOW", "RecordMapping", "feed", "settings", "to_inbox"]

NOW = datetime(2026, 3, 20, 4, 0, tzinfo=UTC)  # 12:00 in Taipei


def settings(**kw: Any) -> ActivitySettings:
    return ActivitySettings(clock=lambda: NOW, **kw)


def to_inbox(store: Store, records: Sequence[SourceRecord]) -> None:
    """Put canonical records in the inbox, as raw rows `RecordMapping` maps back."""
    with store.atomic():
        store.add_to_inbox(inbox_entries(records, origin="t"))


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
