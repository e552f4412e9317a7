"""CSV files exported by booking and POS systems, read the way real exports come.

Excel in Taiwan writes Big5, in mainland China GBK, in Japan Shift-JIS, elsewhere UTF-8
with or without a BOM; some exports use `;` or tabs; notes hold quoted newlines; headers
come with stray spaces, other case or full-width letters. This module detects the
encoding (charset-normalizer) and delimiter, matches headers to the mapping's columns
tolerantly, and streams rows one at a time, so memory does not grow with the file.
"""

from __future__ import annotations

import codecs
import csv
import glob
import hashlib
import sys
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from ..config.connectors import CsvSourceOptions

SAMPLE = 256 * 1024  # bytes read to detect the encoding
# Encodings charset-normalizer may choose between; results map to their supersets.
CANDIDATES = ["utf_8", "big5", "cp950", "gb18030", "gbk", "gb2312", "shift_jis", "cp932", "cp1252"]
SUPERSET = {
    "big5": "cp950",
    "big5hkscs": "big5hkscs",
    "gbk": "gb18030",
    "gb2312": "gb18030",
    "hz": "gb18030",
    "shift_jis": "cp932",
    "ascii": "utf-8",
    "utf_8": "utf-8",
}
DELIMITERS = ",\t;|"
REPLACEMENT = "\ufffd"
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # long notes must not abort a file


@dataclass(frozen=True)
class CsvRow:
    line: int  # line of the file where this row starts (the header is line 1)
    record: dict[str, str | None]
    error: str | None = None  # the row cannot be used as read: why, naming the column
    column: str | None = None


def detect_encoding(path: Path) -> str:
    """The file's text encoding, from a BOM, a clean UTF-8 decode, or charset-normalizer."""
    with path.open("rb") as fh:
        head = fh.read(SAMPLE)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    # The sample may end inside a character: decode incrementally, not final. A few bad
    # bytes among many good multi-byte characters is a UTF-8 file with a damaged row.
    text = codecs.getincrementaldecoder("utf-8")(errors="replace").decode(head, final=False)
    bad = text.count(REPLACEMENT)
    if bad == 0 or sum(1 for c in text if ord(c) > 127) >= 20 * bad:
        return "utf-8"
    from charset_normalizer import from_bytes

    best = from_bytes(head, cp_isolation=CANDIDATES).best()
    if best is None:
        return "utf-8"  # undecodable rows are then reported one by one
    return SUPERSET.get(best.encoding, best.encoding)


def sniff_delimiter(header_line: str) -> str:
    """The candidate that splits the header line most often (quotes taken into account)."""
    best, count = ",", 0
    for d in DELIMITERS:
        n = len(next(csv.reader([header_line], delimiter=d), [])) - 1
        if n > count:
            best, count = d, n
    return best


def header_key(name: str) -> str:
    """Header text compared loosely: full-width folded (NFKC), no spaces, any case."""
    return "".join(unicodedata.normalize("NFKC", name).replace("\ufeff", "").split()).casefold()


def path_fields(path: str) -> set[str]:
    """The record keys a JMESPath expression reads (`[Date, Time]` -> Date, Time)."""
    import jmespath

    found: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get("type") == "field":
                found.add(str(node.get("value")))
            for child in node.get("children", []):
                walk(child)

    walk(jmespath.compile(path).parsed)
    return found


def match_header(header: list[str], wanted: Iterable[str]) -> list[str]:
    """The header with each column renamed to the mapping's spelling where they match."""
    known = {header_key(w): w for w in wanted}
    return [known.get(header_key(h), h.strip()) for h in header]


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def expand(patterns: Iterable[str], base_dir: Path) -> list[Path]:
    """Files, globs and directories (their *.csv and *.txt) as files, in a stable order."""
    found: list[Path] = []
    for pattern in patterns:
        p = Path(pattern).expanduser()
        p = p if p.is_absolute() else base_dir / p
        if p.is_dir():
            matches = sorted(x for x in p.iterdir() if x.suffix.lower() in (".csv", ".txt"))
        else:
            matches = sorted(Path(m) for m in glob.glob(str(p), recursive=True))
        found.extend(m for m in matches if m.is_file() and m not in found)
    return found


class CsvSource:
    def __init__(self, name: str, options: CsvSourceOptions, *, base_dir: Path) -> None:
        self.name = name
        self.options = options
        self.base_dir = base_dir
        self._encodings: dict[tuple[str, int, int], str] = {}

    def files(self) -> list[Path]:
        """The configured files, globs and directories expanded, in a stable order."""
        return expand(self.options.paths, self.base_dir)

    def encoding(self, path: Path) -> str:
        if self.options.encoding != "auto":
            return self.options.encoding
        st = path.stat()
        key = (str(path), st.st_size, st.st_mtime_ns)
        if key not in self._encodings:  # the header and the rows are read separately
            self._encodings[key] = detect_encoding(path)
        return self._encodings[key]

    def _open(self, path: Path) -> TextIO:
        # errors="replace": one bad byte spoils its row (reported), not the rest of the file
        return path.open(newline="", encoding=self.encoding(path), errors="replace")

    def header(self, path: Path, wanted: Iterable[str] = ()) -> list[str]:
        with self._open(path) as fh:
            first = fh.readline()
        delimiter = self.options.delimiter or sniff_delimiter(first)
        row = next(csv.reader([first], delimiter=delimiter), [])
        return match_header(row, wanted)

    def rows(
        self,
        path: Path,
        wanted: Iterable[str] = (),
        *,
        progress: Callable[[int], None] | None = None,
    ) -> Iterator[CsvRow]:
        """Rows as dicts keyed by the (matched) header; short rows give None for the rest.

        `progress` is called now and then with the bytes read so far.
        """
        with self._open(path) as fh:
            first = fh.readline()
            delimiter = self.options.delimiter or sniff_delimiter(first)
            try:
                header = match_header(next(csv.reader([first], delimiter=delimiter)), wanted)
            except StopIteration:
                return
            width = len(header)
            reader = csv.reader(fh, delimiter=delimiter)
            start = 2
            for n, values in enumerate(reader):
                if progress is not None and n % 5000 == 0:
                    progress(fh.buffer.tell())
                end = reader.line_num + 2  # the header, read apart, was line 1
                if not any(v.strip() for v in values):
                    start = end
                    continue
                record: dict[str, str | None] = dict(zip(header, values, strict=False))
                if len(values) < width:
                    record.update(dict.fromkeys(header[len(values) :]))
                if len(values) > width:
                    yield CsvRow(start, record, f"{len(values)} values, header has {width}")
                else:
                    bad = next((k for k, v in record.items() if v and REPLACEMENT in v), None)
                    if bad is not None:
                        reason = f"bytes not valid in {fh.encoding}; set `encoding:`"
                        yield CsvRow(start, record, reason, bad)
                    else:
                        yield CsvRow(start, record)
                start = end
            if progress is not None:
                progress(fh.buffer.tell())
