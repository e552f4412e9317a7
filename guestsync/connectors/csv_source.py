"""CSV files exported by booking and POS systems: a header row, then one record per row."""

from __future__ import annotations

import csv
import glob
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..connector_options import CsvSourceOptions


@dataclass(frozen=True)
class CsvRow:
    line: int  # line of the file where this row starts (the header is line 1)
    record: dict[str, str | None]


class CsvSource:
    def __init__(self, name: str, options: CsvSourceOptions, *, base_dir: Path) -> None:
        self.name = name
        self.options = options
        self.base_dir = base_dir

    def files(self) -> list[Path]:
        """The configured files, globs expanded, in a stable order."""
        found: list[Path] = []
        for pattern in self.options.paths:
            p = Path(pattern).expanduser()
            p = p if p.is_absolute() else self.base_dir / p
            matches = sorted(Path(m) for m in glob.glob(str(p)))
            found.extend(m for m in matches if m.is_file() and m not in found)
        return found

    def header(self, path: Path) -> list[str]:
        with path.open(newline="", encoding=self.options.encoding) as fh:
            row = next(csv.reader(fh, delimiter=self.options.delimiter), [])
        return [h.strip() for h in row]

    def rows(self, path: Path) -> Iterator[CsvRow]:
        """Rows as dicts keyed by the trimmed header; short rows give None for the rest."""
        with path.open(newline="", encoding=self.options.encoding) as fh:
            reader = csv.reader(fh, delimiter=self.options.delimiter)
            try:
                header = [h.strip() for h in next(reader)]
            except StopIteration:
                return
            start = reader.line_num + 1
            for values in reader:
                if any(v.strip() for v in values):
                    record: dict[str, str | None] = dict.fromkeys(header)
                    record.update(zip(header, values, strict=False))
                    yield CsvRow(start, record)
                start = reader.line_num + 1
