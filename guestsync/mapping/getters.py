"""Where a field's value comes from: one compiled getter per field.

Each getter is built once and is a plain closure per record: no YAML, no JMESPath
compiling. `locate` does the same lookup but also says which column or path gave the
value; it is only used by `mapping preview`, so it may be slower.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import jmespath
from jmespath.exceptions import JMESPathError
from jmespath.visitor import TreeInterpreter

from ..yamlfile import YamlDoc
from .spec import FieldSpec
from .templating import compile_record_template

Getter = Callable[[Any], Any]
Locator = Callable[[Any], tuple[Any, str]]


def is_empty(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.strip()) or v == []


@dataclass(frozen=True)
class Source:
    get: Getter
    locate: Locator
    origin: str  # "column 'Phone'" / "path 'customer.phone'", for error messages
    keys: tuple[str, ...] | None = None  # a plain key path, which codegen inlines


def _column(col: str) -> Getter:
    def get(raw: Any) -> Any:
        return raw.get(col)

    return get


def _first(getters: list[tuple[Getter, str]]) -> tuple[Getter, Locator]:
    def get(raw: Any) -> Any:
        for g, _ in getters:
            v = g(raw)
            if not is_empty(v):
                return v
        return None

    def locate(raw: Any) -> tuple[Any, str]:
        for g, where in getters:
            v = _safe(g, raw)
            if not is_empty(v):
                return v, where
        return None, " / ".join(w for _, w in getters)

    return get, locate


def _safe(get: Getter, raw: Any) -> Any:
    try:
        return get(raw)
    except (KeyError, TypeError, AttributeError):
        return None


def _field_keys(node: Mapping[str, Any]) -> list[str] | None:
    """The keys of a plain field path (`a`, `a.b`, `"訂位日期"`), else None."""
    if node.get("type") == "field":
        return [node["value"]]
    if node.get("type") == "subexpression":
        keys: list[str] = []
        for child in node["children"]:
            sub = _field_keys(child)
            if sub is None:
                return None
            keys.extend(sub)
        return keys
    return None


def _walk(keys: list[str]) -> Getter:
    """A plain field path as dict lookups: JMESPath's answer, without its interpreter.

    Like JMESPath, a key of something that is not an object gives None.
    """
    if len(keys) == 1:
        (k,) = keys

        def get1(raw: Any) -> Any:
            try:
                return raw.get(k)
            except AttributeError:
                return None

        return get1

    def get(raw: Any) -> Any:
        try:
            for k in keys:
                raw = raw.get(k)
        except AttributeError:
            return None
        return raw

    return get


def _select_list(node: Mapping[str, Any]) -> Getter | None:
    """`[Date, Time]` (a list of plain field paths, such as two columns joined into one
    date-time) as dict lookups, else None. JMESPath's answer: None for a null record,
    else one value per path (None where a path finds nothing)."""
    if node.get("type") != "multi_select_list":
        return None
    paths = [_field_keys(child) for child in node["children"]]
    if not paths or any(p is None for p in paths):
        return None
    getters = [_walk(p) for p in paths if p is not None]

    def get(raw: Any) -> Any:
        if raw is None:
            return None
        return [g(raw) for g in getters]

    if all(p is not None and len(p) == 1 for p in paths):
        # one key each (columns, as `[Date, Time]`): codegen inlines the lookups
        get.columns = tuple(p[0] for p in paths if p is not None)  # type: ignore[attr-defined]
    return get


def _jmespath(expr: str, doc: YamlDoc, loc: tuple) -> tuple[Getter, tuple[str, ...] | None]:
    try:
        parsed = jmespath.compile(expr)
        keys = _field_keys(parsed.parsed)
        if keys is not None:
            return _walk(keys), tuple(keys)
        columns = _select_list(parsed.parsed)
        if columns is not None:
            return columns, None
        # One interpreter for the field, instead of a new one per search() call.
        interpreter, ast = TreeInterpreter(jmespath.Options()), parsed.parsed
        return (lambda raw: interpreter.visit(ast, raw)), None
    except JMESPathError as exc:
        msg = str(exc).replace("\n", " ")
        hint = ""
        if any(ord(c) > 127 or c == " " for c in expr) and '"' not in expr:
            hint = ' (keys with spaces or CJK need double quotes in JMESPath: "訂位日期")'
        raise doc.error(f"bad JMESPath {expr!r}: {msg}{hint}", loc) from None


def build_source(spec: FieldSpec, doc: YamlDoc, loc: tuple) -> Source:
    if spec.column is not None:
        cols = spec.columns
        if len(cols) == 1:
            get = _column(cols[0])
            where = f"column {cols[0]!r}"
            return Source(get, lambda raw: (_safe(get, raw), where), where, (cols[0],))
        get, locate = _first([(_column(c), f"column {c!r}") for c in cols])
        return Source(get, locate, "first of columns " + ", ".join(map(repr, cols)))
    if spec.path is not None:
        get, keys = _jmespath(spec.path, doc, (*loc, "path"))
        where = f"path {spec.path!r}"
        return Source(get, lambda raw: (_safe(get, raw), where), where, keys)
    if spec.first_of is not None:
        parts = [
            (_jmespath(p, doc, (*loc, "first_of", i))[0], f"path {p!r}")
            for i, p in enumerate(spec.first_of)
        ]
        get, locate = _first(parts)
        return Source(get, locate, "first of paths " + ", ".join(map(repr, spec.first_of)))
    if spec.template is not None:
        try:
            get_t = compile_record_template(spec.template)
        except ValueError as exc:
            raise doc.error(str(exc), (*loc, "template")) from None

        where = f"template {spec.template!r}"
        return Source(get_t, lambda raw: (get_t(raw), where), where)

    def nothing(raw: Any) -> None:
        return None

    return Source(nothing, lambda raw: (None, "default"), "default")


__all__ = ["Source", "build_source", "is_empty"]
