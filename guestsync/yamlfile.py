"""Read YAML while remembering the line of every key, so errors can point at it.

One parse with ruamel.yaml's round-trip loader, which keeps the position of every key and
list item (PyYAML needed a second pass over its node tree for that), refuses a key given
twice in one mapping (a pasted second source with the same name would otherwise silently
replace the first) and reads YAML 1.2, where `NO`, `yes` and `off` are strings, not
booleans: the ISO code of Norway stays Norway. The result is plain Python data (dict,
list, str, int, float, bool, None, date, datetime), so nothing downstream sees ruamel.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from .errors import ConfigError

Loc = tuple[str | int, ...]

_DUPLICATE = re.compile(r'found duplicate key "(.*?)" with value')


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


class _Converter:
    """Turns ruamel's round-trip tree into plain data, recording each key's line."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.lines: dict[Loc, int] = {}

    def value(self, node: Any, path: Loc, line: int) -> Any:
        self.lines.setdefault(path, line)
        if isinstance(node, CommentedMap):
            self._refuse_tag(node, line)
            out: dict[Any, Any] = {}
            own = node.lc.data  # positions of this mapping's own keys (not merged `<<` ones)
            for key, item in node.items():
                plain_key = self.scalar(key, line)
                pos = own.get(key)
                key_line = pos[0] + 1 if pos else line
                self.lines[(*path, plain_key)] = key_line
                out[plain_key] = self.value(item, (*path, plain_key), key_line)
            return out
        if isinstance(node, CommentedSeq):
            self._refuse_tag(node, line)
            items = []
            for i, item in enumerate(node):
                pos = node.lc.data.get(i)
                item_line = pos[0] + 1 if pos else line
                self.lines[(*path, i)] = item_line
                items.append(self.value(item, (*path, i), item_line))
            return items
        return self.scalar(node, line)

    def scalar(self, node: Any, line: int) -> Any:
        if isinstance(node, TaggedScalar):
            raise ConfigError(
                f"unknown YAML tag {node.tag.value!r} (remove it; guestsync reads plain values)",
                file=self.file,
                line=line,
            )
        # ruamel keeps formatting on subclasses of the builtins; hand out the builtins
        if node is None or type(node) in (str, int, float, bool, bytes, dt.date):
            return node
        if isinstance(node, bool):
            return bool(node)
        if isinstance(node, str):
            return str(node)
        if isinstance(node, int):
            return int(node)
        if isinstance(node, float):
            return float(node)
        if isinstance(node, dt.datetime):
            return dt.datetime(
                node.year,
                node.month,
                node.day,
                node.hour,
                node.minute,
                node.second,
                node.microsecond,
                tzinfo=node.tzinfo,
            )
        if isinstance(node, CommentedMap | CommentedSeq):
            raise ConfigError("a mapping or list cannot be a key", file=self.file, line=line)
        return node

    def _refuse_tag(self, node: CommentedMap | CommentedSeq, line: int) -> None:
        tag = getattr(getattr(node, "tag", None), "value", None)
        if tag is not None:
            raise ConfigError(
                f"unknown YAML tag {tag!r} (remove it; guestsync reads plain values)",
                file=self.file,
                line=line,
            )


def _syntax_error(exc: MarkedYAMLError, text: str, file: str) -> ConfigError:
    """A readable one-line error. Never quotes a value: a pasted token may be one."""
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark else None
    if isinstance(exc, DuplicateKeyError):
        found = _DUPLICATE.search(str(exc.problem or ""))
        key = found.group(1) if found else "?"
        first = exc.context_mark.line + 1 if exc.context_mark else None
        where = f" in the block starting at line {first}" if first else ""
        return ConfigError(
            f"duplicate key {key!r}: {key!r} is already set{where} "
            "(a second entry with the same name would replace the first; rename or remove one)",
            file=file,
            line=line,
        )
    message = f"invalid YAML: {exc.problem or exc}"
    source_line = text.splitlines()[line - 1] if line and line <= len(text.splitlines()) else ""
    if "${" in source_line and re.search(r"[\[{][^\"']*\$\{", source_line):
        message += (
            ' (inside {…} or […], put ${VAR} in quotes: "${VAR}"; '
            "YAML reads { and } there as the start and end of a mapping)"
        )
    return ConfigError(message, file=file, line=line)


def load_yaml(path: Path | str, *, text: str | None = None) -> YamlDoc:
    """Load one YAML file. A syntax error or a duplicate key becomes a ConfigError with its
    line; an empty file is an empty mapping."""
    file = str(path)
    if text is None:
        try:
            text = Path(path).read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise ConfigError("file not found", file=file) from None
        except UnicodeDecodeError as exc:
            raise ConfigError(f"not UTF-8 text ({exc.reason})", file=file) from None
    yaml = YAML(typ="rt")
    try:
        tree = yaml.load(text)
    except MarkedYAMLError as exc:
        raise _syntax_error(exc, text, file) from None
    except YAMLError as exc:  # unmarked: rare, but still the user's file, not a crash
        raise ConfigError(f"invalid YAML: {exc}", file=file) from None
    converter = _Converter(file)
    data = converter.value(tree, (), _start_line(tree))
    return YamlDoc(data if data is not None else {}, converter.lines, file)


def _start_line(tree: Any) -> int:
    lc = getattr(tree, "lc", None)
    return (lc.line + 1) if lc is not None and lc.line is not None else 1
