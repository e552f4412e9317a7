"""Third-party connectors, through Python entry points: the one place they are found.

A package adds a source or a target by declaring an entry point in the group
`guestsync.sources` or `guestsync.targets`, named after the `type:` it answers to,
pointing at the connector class; the class carries its options model as `Options`
(a subclass of guestsync.config.connectors.CrmTargetOptions for a target, of
guestsync.config.base.Options for a source), with `type: Literal["<name>"]`:

    [project.entry-points."guestsync.targets"]
    jsonl_file = "guestsync_example:JsonlFileTarget"

The options models join the config's `sources:`/`targets:` unions (`config_model`), so
`guestsync validate` checks a plugin's settings with file and line like a built-in's,
and `guestsync schema` lists them. Plugins are loaded when a config is parsed, not when
guestsync is imported: a plugin imports guestsync, and loading it in the middle of
guestsync's own imports would be a cycle. A plugin that fails to load, or that names a
built-in type, is a config error naming the plugin, never a crash.
"""

from __future__ import annotations

import functools
from importlib.metadata import EntryPoint, entry_points
from typing import Any, get_args

from pydantic import BaseModel

from ..errors import ConfigError

GROUPS = {"sources": "guestsync.sources", "targets": "guestsync.targets"}


@functools.cache
def connectors(section: str) -> dict[str, type]:
    """{type name: connector class} of the installed plugins for `sources` or `targets`;
    each has a valid `Options` model whose `type` is that name."""
    found: dict[str, type] = {}
    for ep in entry_points(group=GROUPS[section]):
        found[ep.name] = _load(ep, section)
    return found


def _load(ep: EntryPoint, section: str) -> type:
    where = f"plugin {ep.name!r} ({ep.value}, entry point group {GROUPS[section]})"
    try:
        cls = ep.load()
    except Exception as exc:  # a broken plugin is the installer's problem: say which
        raise ConfigError(f"{where} cannot be loaded: {type(exc).__name__}: {exc}") from None
    options = getattr(cls, "Options", None)
    if not (isinstance(options, type) and issubclass(options, BaseModel)):
        raise ConfigError(f"{where}: the class has no `Options` pydantic model")
    tag = (
        get_args(options.model_fields["type"].annotation) if "type" in options.model_fields else ()
    )
    if tag != (ep.name,):
        raise ConfigError(f"{where}: `Options.type` must be Literal[{ep.name!r}]")
    return cls


def options_models(section: str, builtin: tuple[Any, ...]) -> tuple[Any, ...]:
    """The built-in options models plus those of the plugins; a plugin may not take a
    built-in's `type:`."""
    taken = {get_args(m.model_fields["type"].annotation)[0] for m in builtin}
    extra: list[Any] = []
    for name, cls in connectors(section).items():
        if name in taken:
            raise ConfigError(
                f"plugin {name!r} (entry point group {GROUPS[section]}) uses the name of a "
                "built-in connector; rename its entry point and its `type`"
            )
        extra.append(cls.Options)  # type: ignore[attr-defined]
    return (*builtin, *extra)


def connector(section: str, type_name: str, builtin: dict[str, type]) -> Any:
    """The class for a configured `type:`: a built-in, else a plugin's."""
    return builtin.get(type_name) or connectors(section)[type_name]
