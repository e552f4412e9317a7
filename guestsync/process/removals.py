"""What the process stage does with a source record its source removed.

A form entry deleted in Jiandaoyun (data_remove) is still a person who once wrote to the
restaurant: the guest stays, and only the link from that source record is marked removed
(data_recover clears the mark). A removal of a record never linked creates nothing.
"""

from __future__ import annotations

from ..models import SourceRecord
from ..store import Store


def note_removal(store: Store, record: SourceRecord, touched: set[str]) -> bool:
    """Keep the record's removal mark in step; True when it is a removal (nothing more to
    do with it). The guest it was linked to is added to `touched` to be re-derived."""
    guest_id = store.set_link_removed(
        source=record.source,
        stream=record.stream,
        external_id=record.external_id,
        removed=record.deleted,
    )
    if record.deleted and guest_id:
        touched.add(guest_id)
    return record.deleted
