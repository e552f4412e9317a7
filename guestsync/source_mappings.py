"""Compile the mappings of every source of a config at load: each file once (sources may
share a profile), every broken one reported (`guestsync validate` lists all of them, each
with its mapping file, line and field), not just the first."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .config.base import source_mappings
from .errors import ConfigError, ConfigErrors
from .mapping import CompiledMapping, load_mapping
from .mapping.context import Context


def compile_source_mappings(config: Any, ctx: Context) -> dict[tuple[str, str], CompiledMapping]:
    """{(source, stream): compiled mapping} for `config` (a guestsync.config.Config)."""
    compiled: dict[Path, CompiledMapping] = {}
    failed: dict[Path, list[ConfigError]] = {}
    out: dict[tuple[str, str], CompiledMapping] = {}
    for name, src in config.sources.items():
        for stream, file in source_mappings(src).items():
            path = Path(config.resolve(file)).resolve()
            if path not in compiled and path not in failed:
                try:
                    compiled[path] = load_mapping(config.resolve(file), ctx)
                except ConfigErrors as exc:
                    failed[path] = list(exc.errors)
                except ConfigError as exc:
                    failed[path] = [exc]
            if path in compiled:
                out[(name, stream)] = compiled[path]
    errors = [e for errs in failed.values() for e in errs]
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise ConfigErrors(errors)
    return out


__all__ = ["compile_source_mappings"]
