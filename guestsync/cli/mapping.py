"""Mapping commands: `guestsync mapping preview`, `schema`, `list`, `copy` and `suggest`."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Any

import click
from pydantic import ValidationError
from pydantic_core import to_jsonable_python
from rich.markup import escape
from rich.table import Table

from ..actions import profiles
from ..actions.preview import SampleRecord, context_of, file_records, source_records
from ..config import find_config, load_config
from ..connectors.csv_source import detect_encoding, sniff_delimiter
from ..errors import BadRecordError, ConfigError
from ..mapping import MappingSpec, compile_mapping, load_mapping
from ..mapping.context import Context
from ..mapping.preview import RecordPreview, preview_record
from ..mapping.samples import read_sample
from ..mapping.suggest import suggest
from ..webhooks.profiles import PROFILES
from ..yamlfile import load_yaml
from .app import Ctx, cli, err, out, pass_ctx


@cli.group()
def mapping() -> None:
    """Write and check field mappings (see config/mappings/README.md)."""


def _records(
    ctx: Ctx, name: str, sample: Path, stream: str | None, platform: str | None
) -> tuple[str, Iterator[SampleRecord]]:
    """(source name for the records, the sample's records) for a source or a mapping file."""
    config_path = find_config(ctx.config_path)
    is_file = Path(name).suffix.lower() in (".yaml", ".yml") or Path(name).is_file()
    if is_file:
        if stream is not None:
            raise click.UsageError("--stream is for a configured source, not a mapping file")
        config = load_config(config_path) if config_path.exists() else None
        mapping = load_mapping(name, context_of(config))
        return "preview", file_records(mapping, sample, platform=platform)
    config = load_config(config_path)
    if name not in config.sources:
        known = ", ".join(sorted(config.sources)) or "none configured"
        raise ConfigError(
            f"{name!r} is neither a mapping file nor a configured source (sources: {known})",
            file=str(config_path),
        )
    if platform is not None:
        raise click.UsageError("--platform is for a mapping file; a source splits by its own")
    return name, source_records(config, name, sample, stream=stream)


def _preview(s: SampleRecord, source: str) -> RecordPreview:
    if s.mapping is None:
        return RecordPreview(origin=s.origin, external_id="—", error=s.error)
    return preview_record(s.mapping, s.raw, origin=s.origin, source=source)


def _show(value: Any) -> str:
    if value is None:
        return "[dim]—[/]"
    value = to_jsonable_python(value, fallback=str)
    if isinstance(value, str):
        return escape(value)
    return escape(json.dumps(value, ensure_ascii=False))


def _table(p: RecordPreview) -> Table:
    state = "[green]ok[/]" if p.ok else "[red]rejected[/]"
    t = Table(title=f"{p.origin}  id {escape(p.external_id)}  {state}", title_justify="left")
    t.add_column("canonical field", style="bold")
    t.add_column("value")
    t.add_column("raw", style="dim")
    t.add_column("from")
    for f in p.fields:
        if f.error:
            value = f"[red]{escape(f.error)}[/]"
        else:
            value = _show(f.value)
            if f.warning:
                value += f"\n[yellow]{escape(f.warning)}[/]"
        t.add_row(escape(f.field), value, _show(f.raw), escape(f.origin))
    if p.error:
        t.add_row("[red]record[/]", f"[red]{escape(p.error)}[/]", "", "")
    return t


@mapping.command()
def schema() -> None:
    """Print the JSON Schema of a mapping file (for editor completion and checking)."""
    doc = MappingSpec.model_json_schema()
    doc["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    doc["title"] = "guestsync mapping"
    click.echo(json.dumps(doc, indent=2, ensure_ascii=False))


@mapping.command()
@click.argument("source_or_mapping")
@click.argument("sample", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-n", "limit", default=5, show_default=True, help="How many records to show.")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@click.option("--stream", help="Which stream of a source with several (REST, Square).")
@click.option(
    "--platform",
    type=click.Choice(sorted(PROFILES)),
    help="With a mapping file: split webhook bodies as this platform does.",
)
@pass_ctx
def preview(
    ctx: Ctx,
    source_or_mapping: str,
    sample: Path,
    limit: int,
    as_json: bool,
    stream: str | None,
    platform: str | None,
) -> None:
    """Show what SOURCE_OR_MAPPING makes of the first records of SAMPLE, field by field.

    SOURCE_OR_MAPPING is a source name from guestsync.yaml (its mapping is used) or a
    mapping file. SAMPLE is .json (one object or a list), .jsonl or .csv, holding what
    the source receives: CSV rows, API answers or records, webhook bodies (split into
    events as the source splits them, each event with its stream's mapping). Each
    canonical field is shown with its value and the column or path it came from; errors
    in red. Exit status: 0 when every shown record maps, 1 when some would be rejected.
    """
    source, found = _records(ctx, source_or_mapping, sample, stream, platform)
    records = list(islice(found, max(limit, 0)))
    previews = [_preview(r, source) for r in records]
    if as_json:
        doc = {
            "source": source,
            "sample": str(sample),
            "records": [
                {
                    "stream": r.stream,
                    "mapping": r.mapping.name if r.mapping else None,
                    "entity": r.mapping.entity.value if r.mapping else None,
                    **p.as_dict(),
                }
                for r, p in zip(records, previews, strict=True)
            ],
        }
        first = next((r.mapping for r in records if r.mapping), None)
        if first is not None:  # the mapping of the first record (one per stream)
            doc = {"mapping": first.name, "entity": first.entity.value, **doc}
        click.echo(json.dumps(doc, indent=2, ensure_ascii=False))
    else:
        shown = None
        for r, p in zip(records, previews, strict=True):
            if r.mapping is not None and r.mapping is not shown:
                shown = r.mapping
                what = f"mapping {escape(shown.name)} ({shown.entity.value})"
                out.print(f"{what} on {escape(str(sample))}, stream {escape(r.stream)}")
            out.print(_table(p))
        bad = sum(not p.ok for p in previews)
        out.print(f"{len(previews) - bad} of {len(previews)} record(s) map cleanly")
    sys.exit(0 if all(p.ok for p in previews) else 1)


@mapping.command("list")
def list_profiles() -> None:
    """List the mapping profiles shipped with guestsync (Square, Toast, inline, Jiandaoyun,
    booking and POS exports …): name, entity and what each reads."""
    t = Table(title=f"mapping profiles ({profiles.shipped() / 'mappings'})")
    for col in ("name", "entity", "about"):
        t.add_column(col)
    for p in profiles.profiles():
        t.add_row(p.name, p.entity, escape(p.about))
    out.print(t)


@mapping.command("copy")
@click.argument("name")
@click.option(
    "--to",
    "folder",
    default="mappings",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to copy into (a config names it as mappings/NAME.yaml).",
)
@click.option("--force", is_flag=True, help="Overwrite a file that exists.")
def copy_profile(name: str, folder: Path, force: bool) -> None:
    """Copy the shipped profile NAME (see `mapping list`) into a folder beside your
    config, to use as is or change to your export's headers."""
    dest = profiles.copy_profile(name, folder, force=force)
    out.print(f"wrote {dest}")


@mapping.command("suggest")
@click.argument("sample", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--region", default="TW", show_default=True, help="Phone region of the export.")
@click.option(
    "-o", "--out", "out_path", type=click.Path(dir_okay=False, path_type=Path),
    help="Write the mapping to this file (else print it).",
)  # fmt: skip
def suggest_cmd(sample: Path, region: str, out_path: Path | None) -> None:
    """Propose a mapping for a CSV export from its headers and sample values (姓名, 手機,
    電子郵件, 訂位日期 … in any script or English), and try it on the file's first rows.

    Exit status: 0 every sample row maps, 1 some do not (the mapping is still written)."""
    encoding = detect_encoding(sample)
    with sample.open(encoding=encoding, newline="") as fh:
        delimiter = sniff_delimiter(fh.readline())
    rows = [r for _, r in islice(read_sample(sample, encoding=encoding, delimiter=delimiter), 200)]
    if not rows:
        raise ConfigError("no data rows to learn from", file=str(sample))
    made = suggest(list(rows[0]), rows, region=region)
    where = str(out_path or "suggested.yaml")
    compiled = compile_mapping(load_yaml(where, text=made.yaml), Context(region=region))
    failed = 0
    for row in rows:
        try:
            compiled.apply(row, source="sample", stream="s", external_id=compiled.external_id(row))
        except (BadRecordError, ValidationError, ValueError):
            failed += 1
    if out_path:
        out_path.write_text(made.yaml, "utf-8")
        out.print(f"wrote {out_path}")
    else:
        click.echo(made.yaml, nl=False)
    for field, col in made.columns.items():
        err.print(f"  {field:<11} <- {escape(col)}")
    if made.unused:
        err.print(f"  not used: {escape(', '.join(made.unused))}")
    err.print(f"{len(rows) - failed} of {len(rows)} sample row(s) map cleanly")
    sys.exit(1 if failed else 0)
