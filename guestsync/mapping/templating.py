"""Safe templates for mappings: Jinja2's SandboxedEnvironment, compiled once per field.

A mapping file is written by IT staff, not programmers, and may come from a shared
profile: the sandbox refuses attribute tricks (`__class__`, `mro`), there are no imports
and no file access. A missing key renders as empty text rather than failing, and a
template that renders to only blanks gives no value (so `default` and `required` apply).

Templates that only print text and variables take a fast path with the same output
(a mapping is run once per record, and Jinja2 sets up a context per render).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from jinja2 import ChainableUndefined, TemplateError, nodes
from jinja2.sandbox import SandboxedEnvironment, SecurityError

_ENV = SandboxedEnvironment(
    undefined=ChainableUndefined,
    autoescape=False,
    keep_trailing_newline=False,
    finalize=lambda v: "" if v is None else v,
)


class _Fallback(Exception):
    """The fast path met a value it does not model (not a dict): let Jinja2 render."""


def _var_path(node: nodes.Node) -> tuple[str, ...] | None:
    """`a`, `a.b`, `a["b c"]` as a tuple of keys; None for anything else."""
    if isinstance(node, nodes.Name) and node.ctx == "load" and node.name not in _ENV.globals:
        return (node.name,)
    if isinstance(node, nodes.Getattr | nodes.Getitem):
        key = node.attr if isinstance(node, nodes.Getattr) else getattr(node.arg, "value", None)
        if not isinstance(key, str) or hasattr(dict, key):  # `x.items` is dict.items in Jinja
            return None
        base = _var_path(node.node)
        return None if base is None else (*base, key)
    return None


def _lookup(keys: tuple[str, ...]) -> Callable[[Any], Any]:
    def get(v: Any) -> Any:
        for key in keys:
            if v.__class__ is dict:
                v = v.get(key)
            elif v is None:
                return None
            else:
                raise _Fallback
        return v

    return get


def _fast_path(text: str, *, record: bool) -> Callable[[dict[str, Any]], str] | None:
    """Templates that only print text and variables (`inline:{{ member.id }}`), as plain
    Python with Jinja2's answers (missing or None -> empty text); else None.

    With `record`, variables are the record's keys and `record` is the record itself.
    """
    parts: list[str | Callable[[Any], Any]] = []
    for node in _ENV.parse(text).body:
        if not isinstance(node, nodes.Output):
            return None
        for child in node.nodes:
            if isinstance(child, nodes.TemplateData):
                parts.append(child.data)
                continue
            path = _var_path(child)
            if path is None:
                return None
            if record and path[0] == "record":
                path = path[1:]
            parts.append(_lookup(path))

    def render(variables: dict[str, Any]) -> str:
        out = []
        for part in parts:
            if part.__class__ is str:
                out.append(part)
            else:
                v = part(variables)  # type: ignore[operator]
                out.append("" if v is None else v if v.__class__ is str else str(v))
        return "".join(out)

    return render


def _compile(text: str) -> Any:
    try:
        return _ENV.from_string(text)
    except TemplateError as exc:
        raise ValueError(f"template error: {exc}") from None


def _slow(tmpl: Any, variables: Mapping[str, Any]) -> str:
    try:
        return tmpl.render(variables)
    except SecurityError as exc:
        raise ValueError(f"template not allowed: {exc}") from None
    except TemplateError as exc:
        raise ValueError(f"template failed: {exc}") from None


def compile_template(text: str) -> Callable[[dict[str, Any]], str | None]:
    """Compile now (a syntax error is a ValueError naming it); render per value."""
    tmpl = _compile(text)
    fast = _fast_path(text, record=False)

    def render(variables: dict[str, Any]) -> str | None:
        try:
            out = fast(variables) if fast is not None else _slow(tmpl, variables)
        except _Fallback:
            out = _slow(tmpl, variables)
        return out.strip() or None

    return render


def compile_record_template(text: str) -> Callable[[Any], str | None]:
    """A template over a whole record: its keys are variables, `record` is the record
    (for keys that are not plain names: `{{ record["Booking ID"] }}`)."""
    tmpl = _compile(text)
    fast = _fast_path(text, record=True)

    def run(raw: Any) -> str | None:
        try:
            if fast is None or raw.__class__ is not dict:
                raise _Fallback
            out = fast(raw)
        except _Fallback:
            variables = {**raw, "record": raw} if isinstance(raw, dict) else {"record": raw}
            out = _slow(tmpl, variables)
        return out.strip() or None

    return run


__all__ = ["compile_record_template", "compile_template"]
