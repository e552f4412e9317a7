"""Stage 2 and 3: map inbox rows, resolve guests, upsert entities, queue changed payloads.

One batch of inbox rows is one transaction: its guests, links, reservations, outbox rows
and the inbox status commit together. A row that cannot be mapped is marked `error` with
the reason (inside its own savepoint) and the batch goes on.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from . import identity
from .connectors.base import Target
from .errors import BadRecordError
from .mapping import CompiledMapping
from .models import SourceRecord
from .removals import note_removal
from .store import InboxRow, Store


@dataclass
class ProcessStats:
    processed: int = 0
    rejected: int = 0
    guests_created: int = 0
    guests_matched: int = 0
    queued: int = 0
    errors: list[str] = field(default_factory=list)  # "origin: reason", for the summary


def payload_hash(payload: Mapping[str, Any]) -> str:
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def resolve_guest(store: Store, record: SourceRecord, seen: Any) -> tuple[str, bool, str | None]:
    """Link the record to its guest (existing or new).

    Returns (guest id, created, the guest the record was linked to before if another).
    """
    keys = identity.keys_for(record.guest)
    candidates = store.guests_by_keys(keys)
    match = identity.choose(record.guest, candidates)
    created = match is None
    guest_id = match.id if match is not None else store.new_guest_id()
    assert guest_id is not None
    if created:
        store.save_guest(record.guest.model_copy(update={"id": guest_id}))
    store.add_guest_keys(guest_id, keys)  # visible to the next record of this batch
    previous = store.link_record(
        source=record.source,
        stream=record.stream,
        external_id=record.external_id,
        guest_id=guest_id,
        record=record.guest,
        seen_at=seen,
    )
    return guest_id, created, previous if previous != guest_id else None


def refresh_guest(store: Store, guest_id: str) -> None:
    """Recompute the golden record and its blocking keys from all linked records."""
    guest = identity.golden(guest_id, store.linked_records(guest_id))
    store.save_guest(guest)
    store.replace_guest_keys(guest_id, identity.keys_for(guest))


def queue_for_targets(store: Store, guest_ids: set[str], targets: Mapping[str, Target]) -> int:
    queued = 0
    for gid in sorted(guest_ids):
        guest = store.get_guest(gid)
        if guest is None:
            continue
        for name, target in targets.items():
            payload = target.project(guest)
            queued += store.enqueue(name, gid, payload, payload_hash(payload))
    return queued


def process_batch(
    store: Store,
    rows: list[InboxRow],
    mapping_for: Callable[[str, str], CompiledMapping],
    targets: Mapping[str, Target],
    stats: ProcessStats,
) -> None:
    touched: set[str] = set()
    done: list[int] = []
    with store.atomic():
        for row in rows:
            try:
                with store.atomic():
                    mapping = mapping_for(row.source, row.stream)
                    record = mapping.apply(
                        json.loads(row.raw),
                        source=row.source,
                        stream=row.stream,
                        external_id=row.external_id,
                    )
                    seen = record.updated_at or row.received_at
                    if note_removal(store, record, touched):  # the source removed it
                        done.append(row.id)
                        stats.processed += 1
                        continue
                    guest_id, created, previous = resolve_guest(store, record, seen)
                    if record.reservation is not None:
                        store.upsert_reservation(
                            source=record.source,
                            external_id=record.external_id,
                            guest_id=guest_id,
                            reservation=record.reservation,
                            updated_at=record.updated_at,
                        )
                    touched.add(guest_id)
                    if previous:  # the record moved: its old guest is re-derived too
                        touched.add(previous)
            except (BadRecordError, ValidationError, ValueError) as exc:
                reason = exc.render() if isinstance(exc, BadRecordError) else str(exc)
                store.mark_inbox_error(row.id, reason)
                stats.rejected += 1
                stats.errors.append(f"{row.source} {row.origin}: {reason}")
                continue
            done.append(row.id)
            stats.processed += 1
            stats.guests_created += created
            stats.guests_matched += not created
        for gid in touched:
            refresh_guest(store, gid)
        stats.queued += queue_for_targets(store, touched, targets)
        store.mark_inbox_done(done)


def process_pending(
    store: Store,
    mapping_for: Callable[[str, str], CompiledMapping],
    targets: Mapping[str, Target],
    *,
    batch_size: int = 500,
) -> ProcessStats:
    stats = ProcessStats()
    after = 0
    while rows := store.pending_inbox(limit=batch_size, after_id=after):
        process_batch(store, rows, mapping_for, targets, stats)
        after = rows[-1].id
    return stats
