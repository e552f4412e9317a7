"""Example guestsync connectors, one of each kind.

A connector class names its options model `Options`, whose `type` is the entry point's
name; guestsync validates a config's block against it (file, line and field on a
mistake) and passes the validated model to the constructor, as for a built-in.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from guestsync.config.connectors import CrmTargetOptions, CsvSourceOptions
from guestsync.connectors import CsvSource, RecordResult
from guestsync.models import Guest, OutboxItem


class TsvSourceOptions(CsvSourceOptions):
    """Tab-separated exports: a CSV source whose delimiter is always a tab."""

    type: Literal["tsv"]  # type: ignore[assignment]
    delimiter: str | None = "\t"


class TsvSource(CsvSource):
    """A source reading files is a CsvSource: `sync` and `import-csv` read it as one."""

    Options = TsvSourceOptions


class JsonlFileOptions(CrmTargetOptions):
    """Every pushed guest as one JSON line in a file (a stand-in for a CRM)."""

    type: Literal["jsonl_file"]
    path: str = Field(description="The file to append to (relative to the working folder).")


class JsonlFileTarget:
    """A target: a name, a batch size, a rate (None: no limit), `project` (the payload
    whose hash decides whether to push) and `upsert` (one result per record)."""

    Options = JsonlFileOptions
    max_batch = 100
    rate = None

    def __init__(self, name: str, options: JsonlFileOptions, *, session: Any = None) -> None:
        self.name = name
        self.options = options

    def project(self, guest: Guest) -> dict[str, Any]:
        return {"id": guest.id, "name": guest.display_name(), "email": guest.email}

    def upsert(self, batch: Sequence[OutboxItem]) -> list[RecordResult]:
        with Path(self.options.path).open("a", encoding="utf-8") as f:
            for item in batch:
                f.write(json.dumps(item.payload, ensure_ascii=False) + "\n")
        return [RecordResult(i.guest_id, ok=True, crm_id=f"line-{i.guest_id}") for i in batch]
