"""Where a field's value comes from: one compiled getter per field.

Each getter is built once and is a plain closure per record: no YAML, no JMESPath
compiling. `locate` does the same lookup but also says which column or path gave the
value; it is only used by `mapping preview`, so it may be slower.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jmespath
from jmespath.exceptions import JMESPathError

from ..yamlfile import YamlDoc
from .spec import FieldSpec
from .templating import compile_template

Getter = Callable[[Any], Any]
Locator = Callable[[Any], tuple[Any, str]]


def is_empty(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.strip()) or v == []


@dataclass(frozen=True)
class Source:
    get: Getter
    locate: Locator
    origin: str  # "column 'Phone'" / "path 'customer.phone'", for error messages


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


def _jmespath(expr: str, doc: YamlDoc, loc: tuple) -> Getter:
    try:
        return jmespath.compile(expr).search
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
            return Source(get, lambda raw: (_safe(get, raw), where), where)
        get, locate = _first([(_column(c), f"column {c!r}") for c in cols])
        return Source(get, locate, "first of columns " + ", ".join(map(repr, cols)))
    if spec.path is not None:
        get = _jmespath(spec.path, doc, (*loc, "path"))
        where = f"path {spec.path!r}"
        return Source(get, lambda raw: (_safe(get, raw), where), where)
    if spec.first_of is not None:
        parts = [
            (_jmespath(p, doc, (*loc, "first_of", i)), f"path {p!r}")
            for i, p in enumerate(spec.first_of)
        ]
        get, locate = _first(parts)
        return Source(get, locate, "first of paths " + ", ".join(map(repr, spec.first_of)))
    if spec.template is not None:
        try:
            render = compile_template(spec.template)
        except ValueError as exc:
            raise doc.error(str(exc), (*loc, "template")) from None

        def get_t(raw: Any) -> Any:
            return render({"record": raw, **raw} if isinstance(raw, dict) else {"record": raw})

        where = f"template {spec.template!r}"
        return Source(get_t, lambda raw: (get_t(raw), where), where)

    def nothing(raw: Any) -> None:
        return None

    return Source(nothing, lambda raw: (None, "default"), "default")


__all__ = ["Source", "build_source", "is_empty"]
