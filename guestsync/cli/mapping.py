"""Mapping commands: `guestsync mapping preview`, `guestsync mapping schema`."""

from __future__ import annotations

import json
import sys
from itertools import islice
from pathlib import Path
from typing import Any

import click
from pydantic_core import to_jsonable_python
from rich.markup import escape
from rich.table import Table

from ..config import Config, find_config, load_config
from ..errors import ConfigError
from ..mapping import CompiledMapping, MappingSpec, load_mapping
from ..mapping.preview import RecordPreview, preview_record
from ..mapping.samples import read_sample
from ..mapping.transforms import Context
from .app import Ctx, cli, out, pass_ctx


@cli.group()
def mapping() -> None:
    """Write and check field mappings (see config/mappings/README.md)."""


def _context(config: Config | None) -> Context:
    if config is None:
        return Context()
    return Context(region=config.defaults.region, timezone=config.defaults.timezone)


def _resolve(ctx: Ctx, name: str) -> tuple[CompiledMapping, str, dict[str, Any]]:
    """(mapping, source name, CSV options) for a configured source name or a mapping file."""
    config_path = find_config(ctx.config_path)
    is_file = Path(name).suffix.lower() in (".yaml", ".yml") or Path(name).is_file()
    if is_file:
        config = load_config(config_path) if config_path.exists() else None
        return load_mapping(name, _context(config)), "preview", {}
    config = load_config(config_path)
    src = config.sources.get(name)
    if src is None:
        known = ", ".join(sorted(config.sources)) or "none configured"
        raise ConfigError(
            f"{name!r} is neither a mapping file nor a configured source (sources: {known})",
            file=str(config_path),
        )
    # CSV reading options of a CSV source; other source types read samples as UTF-8 CSV.
    csv_opts = {
        k: getattr(src, k) for k in ("encoding", "delimiter") if getattr(src, k, None) is not None
    }
    return load_mapping(config.resolve(src.mapping), _context(config)), name, csv_opts


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
@pass_ctx
def preview(ctx: Ctx, source_or_mapping: str, sample: Path, limit: int, as_json: bool) -> None:
    """Show what SOURCE_OR_MAPPING makes of the first records of SAMPLE, field by field.

    SOURCE_OR_MAPPING is a source name from guestsync.yaml (its mapping is used) or a
    mapping file. SAMPLE is .json (one object or a list), .jsonl or .csv. Each canonical
    field is shown with its value and the column or path it came from; errors in red.
    Exit status: 0 when every shown record maps, 1 when some would be rejected.
    """
    compiled, source, csv_opts = _resolve(ctx, source_or_mapping)
    records = islice(read_sample(sample, **csv_opts), max(limit, 0))
    previews = [preview_record(compiled, raw, origin=o, source=source) for o, raw in records]
    if as_json:
        doc = {
            "mapping": compiled.name,
            "entity": compiled.entity.value,
            "sample": str(sample),
            "records": [p.as_dict() for p in previews],
        }
        click.echo(json.dumps(doc, indent=2, ensure_ascii=False))
    else:
        out.print(f"mapping {escape(compiled.name)} ({compiled.entity.value}) on {sample}")
        for p in previews:
            out.print(_table(p))
        bad = sum(not p.ok for p in previews)
        out.print(f"{len(previews) - bad} of {len(previews)} record(s) map cleanly")
    sys.exit(0 if all(p.ok for p in previews) else 1)
