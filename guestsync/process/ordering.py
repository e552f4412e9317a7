"""Out-of-order protection for the process stage: senders deliver at least once and in no
order, and pulls may re-read old pages. Per (source, stream, external id) the newest
`updated_at` processed so far is kept; an older state of the record is skipped (marked
done, counted as stale), so it never overwrites a newer one. Records without `updated_at`
are always taken (nothing to compare). A mapping can feed a numeric version into
`updated_at` through the `datetime` transform (an epoch number keeps its order).

A bulk window (process/batch.py) asks `WindowVersions` instead: the versions of all its
records read in one query, compared in memory, and written with executemany as the
window ends (two statements per record less; the window has no savepoint to undo a
row's claim, and a failed window rolls back whole)."""

from __future__ import annotations

from collections.abc import Iterable

from ..models import SourceRecord
from ..store import Store, ts
from ..store.identity import Ref


def version_key(record: SourceRecord) -> str | None:
    """A string that sorts as the record's versions do (UTC ISO 8601, microseconds)."""
    return ts(record.updated_at) if record.updated_at is not None else None


def is_current(store: Store, record: SourceRecord) -> bool:
    """True (and remembered) unless a newer state of this record was already processed."""
    key = version_key(record)
    if key is None:
        return True
    return store.claim_version(record.source, record.stream, record.external_id, key)


class WindowVersions:
    """`is_current` for one bulk window's records: the same answers, one read and one
    write for the window."""

    def __init__(self, store: Store, refs: Iterable[Ref]) -> None:
        self._store = store
        self._seen = store.record_versions(refs)
        self._claimed: dict[Ref, str] = {}

    def is_current(self, record: SourceRecord) -> bool:
        key = version_key(record)
        if key is None:
            return True
        ref = (record.source, record.stream, record.external_id)
        seen = self._seen.get(ref)
        if seen is not None and seen > key:
            return False
        self._seen[ref] = self._claimed[ref] = key
        return True

    def flush(self) -> None:
        if self._claimed:
            self._store.save_record_versions(self._claimed)
            self._claimed.clear()
