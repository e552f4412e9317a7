"""Canonical records through the inbox, for tests and benchmarks that feed the process
stage records already mapped (e.g. `synthetic.to_record`'s): each is stored as the raw
row `RecordMapping` maps back."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from ..models import InboxEntry, SourceRecord


class RecordMapping:
    """Stands in for a compiled mapping: the raw row already is a SourceRecord as JSON."""

    def apply(self, raw: Any, *, source: str, stream: str, external_id: str) -> SourceRecord:
        return SourceRecord.model_validate(
            {**raw, "source": source, "stream": stream, "external_id": external_id}
        )


def inbox_entries(records: Iterable[SourceRecord], *, origin: str) -> list[InboxEntry]:
    """The records as inbox rows whose raw record `RecordMapping` maps back."""
    return [
        InboxEntry.of(
            source=r.source,
            stream=r.stream,
            external_id=r.external_id,
            record=json.loads(r.model_dump_json(exclude={"source", "stream", "external_id"})),
            origin=origin,
        )
        for r in records
    ]
