"""What every transform factory is given and may raise: the compile-time context, the
per-value function type, `KeepRaw`, and the helpers for a transform's YAML arguments."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Fn = Callable[[Any], Any]


@dataclass(frozen=True)
class Context:
    region: str = "TW"
    timezone: str = "Asia/Taipei"


class KeepRaw(Exception):
    """Raised by a transform that keeps an unconvertible value as written, with a reason."""

    def __init__(self, value: Any, reason: str) -> None:
        super().__init__(reason)
        self.value = value
        self.reason = reason


def as_text(v: Any) -> str:
    return v if isinstance(v, str) else str(v)


def options_of(args: Any, name: str, allowed: set[str], *, scalar: str | None = None) -> dict:
    """Arguments as a dict; a bare scalar is taken as the `scalar` option."""
    if args is None:
        return {}
    if not isinstance(args, dict):
        if scalar is None:
            raise ValueError(f"takes options {sorted(allowed)}, not {args!r}")
        return {scalar: args}
    unknown = set(args) - allowed
    if unknown:
        raise ValueError(f"unknown option(s) {sorted(unknown)}; known: {sorted(allowed)}")
    return args
