"""Logging, configured once per process: where guestsync's log lines go and in what form.

IT staff read the log in two places: a terminal (colour, aligned columns: rich) and a
log collector behind cron, systemd or Docker (one JSON object per line, which journald,
Loki or CloudWatch parse without a regex). So the default follows stderr: a TTY gets
rich, anything else JSON lines; `--log-format text` forces plain text where no TTY is.

Every handler installed here masks emails and phones (restaurant/privacy.py) while
masking is on, besides the record factory that masking installs: a record made by a
library's own factory, or before masking was switched on, is masked on its way out too.

The worker process of `serve` is spawned, not forked, so it does not inherit this set-up;
`current()` is what the parent passes it, and the child calls `configure` with it.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from typing import Any, TextIO

from rich.console import Console
from rich.logging import RichHandler

from ..restaurant import privacy

LEVELS = ("debug", "info", "warning", "error", "critical")
FORMATS = ("auto", "text", "json")
LEVEL_ENV = "GUESTSYNC_LOG_LEVEL"
FORMAT_ENV = "GUESTSYNC_LOG_FORMAT"

# attributes every LogRecord has; anything else on a record came from `extra=`
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}

_settings: tuple[str, str] | None = None
_handler: logging.Handler | None = None


class JsonLines(logging.Formatter):
    """One JSON object per line: ts (UTC, ISO 8601), level, logger, msg, the record's
    `extra=` fields (the access log's method, path, status, ms), and exc for a traceback.

    Written for a line per request (serve's access log): the timestamp's date and time
    are formatted once per second, and the encoder is built once."""

    _stamp: tuple[int, str] = (-1, "")  # (a second, its date and time): one attribute,
    # so that a formatter shared by threads never pairs one second with another's text

    def format(self, record: logging.LogRecord) -> str:
        second, stamp = int(record.created), self._stamp
        if second != stamp[0]:
            stamp = self._stamp = (second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)))
        line: dict[str, Any] = {
            "ts": f"{stamp[1]}.{int(record.msecs):03d}+00:00",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and key[:1] != "_":
                line[key] = value if isinstance(value, _PLAIN) else str(value)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exc"] = record.exc_text
        if record.stack_info:
            line["stack"] = record.stack_info
        return _ENCODE(line)


_PLAIN = (int, float, bool, type(None))  # written as they are; anything else as its str()
_ENCODE = json.JSONEncoder(ensure_ascii=False).encode


class _MaskWhileOn(privacy.MaskPii):
    """MaskPii as a handler filter, following `crm.privacy.mask_logs` (on by default)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return super().filter(record) if privacy.installed() else True


class _Stderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is now (a test runner swaps it; so may a daemon)."""

    def __init__(self) -> None:
        super().__init__()

    @property  # type: ignore[override]
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


def resolve(
    level: str | None, fmt: str | None, *, default_level: str = "warning"
) -> tuple[str, str]:
    """The settings to use: the arguments, else the environment, else the defaults; an
    unknown word is a click-style usage error the caller reports (never a crash)."""
    level = (level or os.environ.get(LEVEL_ENV) or default_level).lower()
    fmt = (fmt or os.environ.get(FORMAT_ENV) or "auto").lower()
    if level not in LEVELS:
        raise ValueError(f"unknown log level {level!r}; use one of {', '.join(LEVELS)}")
    if fmt not in FORMATS:
        raise ValueError(f"unknown log format {fmt!r}; use one of {', '.join(FORMATS)}")
    return level, fmt


def configure(level: str, fmt: str) -> logging.Handler:
    """Install guestsync's one handler on the root logger (replacing the one a previous
    call installed, so calling twice never doubles a line) and set the level."""
    global _settings, _handler
    root = logging.getLogger()
    if _handler is not None:
        root.removeHandler(_handler)
    handler: logging.Handler
    tty = sys.stderr.isatty()
    if fmt == "json" or (fmt == "auto" and not tty):
        handler = _Stderr()
        handler.setFormatter(JsonLines())
    elif tty:
        handler = RichHandler(
            console=Console(stderr=True),
            show_path=False,
            markup=False,
            rich_tracebacks=False,  # the formatter's traceback: masked (MaskPii.exc_text)
        )
    else:
        handler = _Stderr()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(_MaskWhileOn())
    root.addHandler(handler)
    root.setLevel(level.upper())
    _settings, _handler = (level, fmt), handler
    return handler


def current() -> tuple[str, str] | None:
    """The settings `configure` was last called with (for the spawned worker process)."""
    return _settings
