"""What a mapping makes of sample records, field by field (`guestsync mapping preview`).

Slower than `apply()` on purpose: it also finds which column or path each value came
from, and it goes on past the first error so that every problem shows at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic_core import to_jsonable_python

from ..errors import BadRecordError
from ..models import SourceRecord
from .compiler import CompiledMapping


@dataclass
class FieldPreview:
    field: str
    origin: str  # where the value came from: "column '電話'", "path 'customer.phone'"
    raw: Any
    value: Any = None
    error: str | None = None
    warning: str | None = None


@dataclass
class RecordPreview:
    origin: str  # where the record is in the sample: "line 3", "item 2"
    external_id: str
    fields: list[FieldPreview] = field(default_factory=list)
    error: str | None = None  # what the canonical model refused, if the fields mapped
    record: SourceRecord | None = None

    @property
    def ok(self) -> bool:
        return self.record is not None

    def as_dict(self) -> dict[str, Any]:
        return {
            "origin": self.origin,
            "external_id": self.external_id,
            "ok": self.ok,
            "fields": [
                {
                    "field": f.field,
                    "from": f.origin,
                    "raw": to_jsonable_python(f.raw, fallback=str),
                    "value": to_jsonable_python(f.value, fallback=str),
                    "error": f.error,
                    "warning": f.warning,
                }
                for f in self.fields
            ],
            "error": self.error,
            "record": self.record.model_dump(mode="json") if self.record else None,
        }


def preview_record(
    mapping: CompiledMapping, raw: Any, *, origin: str, source: str = "preview"
) -> RecordPreview:
    out = RecordPreview(origin=origin, external_id=mapping.external_id(raw))
    failed = False
    for f in mapping.fields:
        try:
            value, where = f.source.locate(raw)
        except ValueError as exc:
            value, where = None, f.origin
            out.fields.append(FieldPreview(f.name, where, None, error=str(exc)))
            failed = True
            continue
        fp = FieldPreview(f.name, where, value)
        warnings: list[str] = []
        try:
            fp.value = f.run(raw, warnings)
        except BadRecordError as exc:
            fp.error = exc.reason
            failed = True
        fp.warning = "; ".join(warnings) or None
        out.fields.append(fp)
    removal = any(f.field == "deleted" and f.value is True for f in out.fields)
    if failed and removal:  # a removal needs only its id (CompiledMapping._removal)
        for fp in out.fields:
            if fp.error and fp.field not in ("id", "deleted"):
                fp.warning, fp.error = f"not needed for a removal: {fp.error}", None
        failed = any(fp.error for fp in out.fields)
    if not failed:
        try:
            out.record = mapping.apply(
                raw, source=source, stream="preview", external_id=out.external_id
            )
        except BadRecordError as exc:
            out.error = exc.render()
    return out


__all__ = ["FieldPreview", "RecordPreview", "preview_record"]
