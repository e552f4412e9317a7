"""Out-of-order protection for the process stage: senders deliver at least once and in no
order, and pulls may re-read old pages. Per (source, stream, external id) the newest
`updated_at` processed so far is kept; an older state of the record is skipped (marked
done, counted as stale), so it never overwrites a newer one. Records without `updated_at`
are always taken (nothing to compare). A mapping can feed a numeric version into
`updated_at` through the `datetime` transform (an epoch number keeps its order)."""

from __future__ import annotations

from ..models import SourceRecord
from ..store import Store, ts


def version_key(record: SourceRecord) -> str | None:
    """A string that sorts as the record's versions do (UTC ISO 8601, microseconds)."""
    return ts(record.updated_at) if record.updated_at is not None else None


def is_current(store: Store, record: SourceRecord) -> bool:
    """True (and remembered) unless a newer state of this record was already processed."""
    key = version_key(record)
    if key is None:
        return True
    return store.claim_version(record.source, record.stream, record.external_id, key)
