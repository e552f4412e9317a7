"""`exports:` in guestsync.yaml: CSV files of golden guests written on a schedule.

    exports:
      nightly_guests:
        path: exports/guests.csv          # relative to the config file
        columns: {email: 電子郵件, phone: 手機, display_name: 姓名}
        bom: true                         # Excel reads UTF-8 CJK text only with a BOM
        with_reservations: false
        schedule: "0 4 * * *"

What a run writes is `actions/export.py`'s; this module only says what may be asked for.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from ..cron import check_cron
from ..errors import ConfigError
from ..models import GUEST_COLUMNS, ORDER_COLUMNS, RESERVATION_COLUMNS
from .base import Options

Column = tuple[str, str]  # (canonical name, header)

RESERVATION_PREFIX = "reservation."
ORDER_PREFIX = "order."
ALL_COLUMNS = (
    *GUEST_COLUMNS,
    *(RESERVATION_PREFIX + c for c in RESERVATION_COLUMNS),
    *(ORDER_PREFIX + c for c in ORDER_COLUMNS),
)


def check_column(name: str, *, file: str | None = None, line: int | None = None) -> str:
    """`name` stripped, or a ConfigError listing the columns an export can name."""
    name = name.strip()
    if name not in ALL_COLUMNS:
        raise ConfigError(
            f"unknown column {name!r}; valid columns: {', '.join(ALL_COLUMNS)}",
            file=file,
            line=line,
        )
    return name


class ExportJobOptions(Options):
    """One scheduled CSV export of golden guests."""

    path: str = Field(description="Output CSV file, relative to the config file.")
    columns: dict[str, str | None] | list[str] | None = Field(
        default=None,
        description="Canonical column -> header, in order (or a list of canonical names); "
        "default: every guest column.",
    )
    with_reservations: bool = Field(default=False, description="One row per reservation too.")
    bom: bool = Field(default=False, description="Start with a UTF-8 BOM (for Excel).")
    schedule: str | None = Field(default=None, description="Cron expression, e.g. '0 4 * * *'.")

    @field_validator("schedule")
    @classmethod
    def _cron(cls, v: str | None) -> str | None:
        return check_cron(v)

    @field_validator("columns")
    @classmethod
    def _known(cls, v: dict[str, str | None] | list[str] | None) -> Any:
        names = list(v) if v is not None else []
        for name in names:
            try:
                check_column(name)
            except ConfigError as exc:
                raise ValueError(exc.message) from None
        if v is not None and not names:
            raise ValueError("no columns listed (leave `columns` out for every guest column)")
        return v

    def column_list(self) -> list[Column] | None:
        if self.columns is None:
            return None
        if isinstance(self.columns, list):
            return [(n.strip(), n.strip()) for n in self.columns]
        return [(k.strip(), v if v is not None else k.strip()) for k, v in self.columns.items()]
