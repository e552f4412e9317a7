"""Safe templates for the generic REST target: Jinja2 in its sandbox, over JSON structures.

A template is any JSON-like value (dict, list, string, number). Strings are rendered; a
string that is exactly one `{{ expression }}` is replaced by the expression's value with
its type kept (a list stays a list), so bodies never need hand-written JSON escaping.
The sandbox refuses attribute tricks (`__class__`, …): config files cannot run code.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import jmespath
from jinja2 import TemplateError, Undefined, meta
from jinja2.sandbox import ImmutableSandboxedEnvironment

from ..errors import ConfigError

# A missing value (a guest without an email) renders empty / null instead of failing the
# batch; the sandbox answers `undefined` for unsafe attributes too.
_ENV = ImmutableSandboxedEnvironment(undefined=Undefined, autoescape=False)
_WHOLE = re.compile(r"^\s*\{\{(.*)\}\}\s*$", re.S)

Render = Callable[[dict[str, Any]], Any]


def compile_template(template: Any, *, where: str) -> Render:
    """Compile once (errors name `where`, the config field); render many times."""
    if isinstance(template, dict):
        parts = {k: compile_template(v, where=f"{where}.{k}") for k, v in template.items()}
        return lambda ctx: {k: r(ctx) for k, r in parts.items()}
    if isinstance(template, list):
        items = [compile_template(v, where=f"{where}[{i}]") for i, v in enumerate(template)]
        return lambda ctx: [r(ctx) for r in items]
    if not isinstance(template, str) or "{" not in template:
        return lambda ctx: template
    whole = _WHOLE.match(template)
    try:
        if whole and "{{" not in whole.group(1):
            return _wrap(_ENV.compile_expression(whole.group(1).strip()), where)
        compiled = _ENV.from_string(template)
    except TemplateError as exc:
        raise ConfigError(f"bad template {template!r}: {exc}", field=where) from None
    return _wrap(lambda **ctx: compiled.render(**ctx), where)


def variables(template: Any) -> set[str]:
    """The top-level names a template uses (to know whether it is per record)."""
    if isinstance(template, dict):
        return set().union(*(variables(v) for v in template.values()))
    if isinstance(template, list):
        return set().union(*(variables(v) for v in template))
    if not isinstance(template, str) or "{" not in template:
        return set()
    try:
        return meta.find_undeclared_variables(_ENV.parse(template))
    except TemplateError:
        return set()


def compile_expression(expression: str, *, where: str) -> Render:
    try:
        expr = _ENV.compile_expression(expression, undefined_to_none=True)
    except TemplateError as exc:
        raise ConfigError(f"bad expression {expression!r}: {exc}", field=where) from None
    return _wrap(expr, where)


def _wrap(fn: Callable[..., Any], where: str) -> Render:
    def render(ctx: dict[str, Any]) -> Any:
        try:
            value = fn(**ctx)
        except TemplateError as exc:
            raise ConfigError(f"template failed: {exc}", field=where) from None
        return None if isinstance(value, Undefined) else value

    return render


def compile_path(path: str | None, *, where: str) -> Callable[[Any], Any] | None:
    """A JMESPath expression, compiled; None stays None."""
    if path is None:
        return None
    try:
        return jmespath.compile(path).search
    except jmespath.exceptions.JMESPathError as exc:
        raise ConfigError(f"bad JMESPath {path!r}: {exc}", field=where) from None
