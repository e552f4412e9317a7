"""Read YAML while remembering the line of every key, so errors can point at it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .errors import ConfigError

Loc = tuple[str | int, ...]


class YamlDoc:
    """Parsed YAML plus a map from each key path to its 1-based line number."""

    def __init__(self, data: Any, lines: dict[Loc, int], file: str) -> None:
        self.data = data
        self.lines = lines
        self.file = file

    def line_of(self, loc: Loc) -> int | None:
        """The line of the deepest key on `loc` that exists in the document.

        Validation error locations may contain parts that are not keys in the file
        (a discriminated-union tag, say); those are skipped.
        """
        best = self.lines.get((), None)
        path: Loc = ()
        node = self.data
        for part in loc:
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
                node = node[part]
            else:
                continue
            path = (*path, part)
            best = self.lines.get(path, best)
        return best

    def error(self, message: str, loc: Loc = ()) -> ConfigError:
        field = ".".join(str(p) for p in loc) or None
        return ConfigError(message, file=self.file, line=self.line_of(loc), field=field)


def _walk(node: yaml.Node, path: Loc, lines: dict[Loc, int]) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            lines[(*path, key)] = key_node.start_mark.line + 1
            _walk(value_node, (*path, key), lines)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines[(*path, i)] = item.start_mark.line + 1
            _walk(item, (*path, i), lines)


def load_yaml(path: Path | str, *, text: str | None = None) -> YamlDoc:
    """Load one YAML file. A syntax error becomes a ConfigError with its line."""
    file = str(path)
    if text is None:
        try:
            text = Path(path).read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise ConfigError("file not found", file=file) from None
        except UnicodeDecodeError as exc:
            raise ConfigError(f"not UTF-8 text ({exc.reason})", file=file) from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise ConfigError(f"invalid YAML: {exc.problem or exc}", file=file, line=line) from None
    lines: dict[Loc, int] = {}
    if node is not None:
        _walk(node, (), lines)
    return YamlDoc(data if data is not None else {}, lines, file)
