"""Safe templates for mappings: Jinja2's SandboxedEnvironment, compiled once per field.

A mapping file is written by IT staff, not programmers, and may come from a shared
profile: the sandbox refuses attribute tricks (`__class__`, `mro`), there are no imports
and no file access. A missing key renders as empty text rather than failing, and a
template that renders to only blanks gives no value (so `default` and `required` apply).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from jinja2 import ChainableUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment, SecurityError

_ENV = SandboxedEnvironment(
    undefined=ChainableUndefined,
    autoescape=False,
    keep_trailing_newline=False,
    finalize=lambda v: "" if v is None else v,
)


def compile_template(text: str) -> Callable[[Mapping[str, Any]], str | None]:
    """Compile now (a syntax error is a ValueError naming it); render per record."""
    try:
        tmpl = _ENV.from_string(text)
    except TemplateError as exc:
        raise ValueError(f"template error: {exc}") from None

    def render(variables: Mapping[str, Any]) -> str | None:
        try:
            out = tmpl.render(variables)
        except SecurityError as exc:
            raise ValueError(f"template not allowed: {exc}") from None
        except TemplateError as exc:
            raise ValueError(f"template failed: {exc}") from None
        out = out.strip()
        return out or None

    return render


__all__ = ["compile_template"]
