"""Read sample records for `mapping preview` and golden tests: JSON, JSON lines or CSV.

A JSON file holds one record (an object) or a list of them; `.jsonl` / `.ndjson` hold one
per line. CSV rows become flat records keyed by the trimmed header, exactly as the CSV
source reads them for import. Each record comes with where it was found ("line 3",
"item 2") for messages.
"""

from __future__ import annotations

import codecs
import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import ConfigError


def read_sample(
    path: Path, *, encoding: str = "utf-8-sig", delimiter: str = ","
) -> Iterator[tuple[str, Any]]:
    suffix = path.suffix.lower()
    try:
        codecs.lookup(encoding)
    except LookupError:  # e.g. a source's "auto" detection: samples are UTF-8
        encoding = "utf-8-sig"
    try:
        if suffix == ".csv":
            yield from _csv(path, encoding, delimiter)
        elif suffix in (".jsonl", ".ndjson"):
            with path.open(encoding=encoding) as fh:
                for n, line in enumerate(fh, 1):
                    if line.strip():
                        yield f"line {n}", _json(line, path, n)
        elif suffix == ".json":
            data = _json(path.read_text(encoding), path, None)
            items = data if isinstance(data, list) else [data]
            for n, item in enumerate(items, 1):
                yield f"item {n}", item
        else:
            raise ConfigError("sample must be .json, .jsonl, .ndjson or .csv", file=str(path))
    except FileNotFoundError:
        raise ConfigError("file not found", file=str(path)) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not {encoding} text ({exc.reason})", file=str(path)) from None


def _json(text: str, path: Path, line: int | None) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"invalid JSON: {exc.msg}", file=str(path), line=line or exc.lineno
        ) from None


def _csv(path: Path, encoding: str, delimiter: str) -> Iterator[tuple[str, Any]]:
    with path.open(newline="", encoding=encoding) as fh:
        reader = csv.reader(fh, delimiter=delimiter)
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            return
        start = reader.line_num + 1
        for values in reader:
            if any(v.strip() for v in values):
                record: dict[str, str | None] = dict.fromkeys(header)
                record.update(zip(header, values, strict=False))
                yield f"line {start}", record
            start = reader.line_num + 1


__all__ = ["read_sample"]
