"""Which records a sample holds, and which mapping each one meets, for `mapping preview`.

A sample is what the source itself would receive, cut into records the way the source
cuts it, so a preview shows what an import, a pull or a webhook would store:

- a CSV source: the rows, read as `import-csv` reads them (encoding detected, delimiter
  sniffed, headers matched loosely, broken rows reported);
- a REST stream: a page of the API's answer (its `records:` path is applied) or records;
- a Square pull stream: a `{"customers": [...]}` / `{"bookings": [...]}` answer or objects;
- a webhook source: request bodies, split by the platform's profile (inline sends several
  events per body; a Square source picks the customers or bookings mapping per event);
- a Jiandaoyun source: pushes `{op, opTime, data}` (or entries of the API, as a backfill).

A mapping file given alone maps the sample's records as they are, unless `platform` names
a webhook profile (square, inline, toast) to split bodies with.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jmespath

from ..config import Config
from ..config.base import source_mappings
from ..config.pull import RestSourceOptions
from ..connectors.csv_source import CsvSource, path_fields
from ..connectors.jiandaoyun import JiandaoyunSource
from ..errors import ConfigError
from ..mapping import CompiledMapping, load_mapping
from ..mapping.context import Context
from ..mapping.samples import read_sample
from ..webhooks.profiles import PROFILES, ShapeError, splitter_for


@dataclass(frozen=True)
class SampleRecord:
    origin: str  # "item 2", "item 1 event 3"
    stream: str
    mapping: CompiledMapping | None
    raw: Any = None
    error: str | None = None  # the sample item is not what this source receives


def context_of(config: Config | None) -> Context:
    if config is None:
        return Context()
    return Context(region=config.defaults.region, timezone=config.defaults.timezone)


def file_records(
    mapping: CompiledMapping, sample: Path, *, platform: str | None = None
) -> Iterator[SampleRecord]:
    """The sample's records for a mapping file; bodies split by `platform` if given."""
    profile = PROFILES.get(platform or "")
    if platform and profile is None:
        raise ConfigError(f"unknown platform {platform!r}; known: {', '.join(sorted(PROFILES))}")
    for origin, item in read_sample(sample):
        if profile is None:
            yield SampleRecord(origin, "preview", mapping, item)
            continue
        try:
            events = profile.events(item, False)
        except ShapeError as exc:
            yield SampleRecord(origin, "preview", None, error=f"{platform} cannot read it: {exc}")
            continue
        for n, e in enumerate(events, 1):
            yield SampleRecord(_sub(origin, n, len(events)), e.stream, mapping, e.record)


def source_records(
    config: Config, name: str, sample: Path, *, stream: str | None = None
) -> Iterator[SampleRecord]:
    """The sample's records as source `name` would store them, each with its mapping."""
    src = config.sources[name]
    ctx = context_of(config)
    files = source_mappings(src)
    compiled = {s: load_mapping(config.resolve(f), ctx) for s, f in files.items()}
    kind = src.type
    if kind == "webhook":
        yield from _webhook(src, compiled, sample, stream)
        return
    chosen = _choose_stream(name, list(files), stream)
    mapping = compiled[chosen]
    if kind == "csv" and sample.suffix.lower() in (".csv", ".txt"):
        yield from _csv(name, src, config, mapping, chosen, sample)
    elif kind == "csv":  # JSON records standing for rows
        for origin, item in read_sample(sample):
            yield SampleRecord(origin, chosen, mapping, item)
    elif kind == "jiandaoyun":
        yield from _jiandaoyun(name, src, mapping, sample)
    else:  # pulled: rest, square (a page of the answer, or the records themselves)
        path = src.streams[chosen].records if isinstance(src, RestSourceOptions) else chosen
        for origin, item in read_sample(sample):
            records = _unwrap(item, path)
            for n, r in enumerate(records, 1):
                yield SampleRecord(_sub(origin, n, len(records), "record"), chosen, mapping, r)


def _csv(
    name: str, src: Any, config: Config, mapping: CompiledMapping, stream: str, sample: Path
) -> Iterator[SampleRecord]:
    """Rows read exactly as `import-csv` reads them: the encoding detected, the delimiter
    sniffed, headers matched to the mapping loosely, broken rows reported."""
    reader = CsvSource(name, src, base_dir=config.path.parent)
    wanted = set(mapping.columns)
    for spec in mapping.spec.fields.values():
        if spec.path:
            wanted |= path_fields(spec.path)
    try:
        for row in reader.rows(sample, wanted):
            if row.error is None:
                yield SampleRecord(f"line {row.line}", stream, mapping, row.record)
            else:
                where = f"{row.column}: " if row.column else ""
                yield SampleRecord(f"line {row.line}", stream, None, error=where + row.error)
    except (OSError, UnicodeError, LookupError) as exc:
        raise ConfigError(f"cannot read ({exc})", file=str(sample)) from None


def _choose_stream(name: str, streams: list[str], stream: str | None) -> str:
    if stream is None and len(streams) == 1:
        return streams[0]
    if stream in streams:
        return stream
    known = ", ".join(sorted(streams))
    if stream is None:
        raise ConfigError(f"source {name!r} has several streams: say which with --stream ({known})")
    raise ConfigError(f"source {name!r} has no stream {stream!r} (streams: {known})")


def _unwrap(item: Any, path: str) -> list[Any]:
    """A page of an API answer -> its records; a record (or list of them) stays as it is."""
    if isinstance(item, dict) and path not in ("@", ""):
        try:
            found = jmespath.search(path, item)
        except jmespath.exceptions.JMESPathError:
            found = None
        if isinstance(found, list):
            return found
    return [item]


def _webhook(
    src: Any, compiled: dict[str, CompiledMapping], sample: Path, stream: str | None
) -> Iterator[SampleRecord]:
    splitter = splitter_for(src)
    default = compiled[src.stream]
    if stream is not None and stream not in compiled:
        known = ", ".join(sorted(compiled))
        raise ConfigError(f"no mapping for stream {stream!r} (streams with a mapping: {known})")
    for origin, item in read_sample(sample):
        try:
            events = splitter.events(item)
        except ShapeError as exc:
            yield SampleRecord(
                origin, src.stream, None, error=f"{src.platform} cannot read it: {exc}"
            )
            continue
        for n, e in enumerate(events, 1):
            if stream is not None and e.stream != stream:
                continue
            where = _sub(origin, n, len(events))
            yield SampleRecord(where, e.stream, compiled.get(e.stream, default), e.record)


def _jiandaoyun(
    name: str, src: Any, mapping: CompiledMapping, sample: Path
) -> Iterator[SampleRecord]:
    source = JiandaoyunSource(name, src)
    for origin, item in read_sample(sample):
        if isinstance(item, dict) and "op" not in item and "_id" in item:
            # an entry as the API returns it: the backfill stores it so (JiandaoyunSource.read)
            yield SampleRecord(origin, src.stream, mapping, {"op": "backfill", "data": item})
            continue
        try:
            (entry,) = source.parse(json.dumps(item, ensure_ascii=False).encode(), {})
        except ValueError as exc:
            yield SampleRecord(origin, src.stream, None, error=str(exc))
            continue
        yield SampleRecord(origin, src.stream, mapping, json.loads(entry.raw))


def _sub(origin: str, n: int, total: int, what: str = "event") -> str:
    return origin if total == 1 else f"{origin} {what} {n}"


__all__ = ["SampleRecord", "context_of", "file_records", "source_records"]
