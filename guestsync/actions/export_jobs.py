"""Export jobs: `exports:` in guestsync.yaml, a CSV of golden guests written on a schedule.

    exports:
      nightly_guests:
        path: exports/guests.csv          # relative to the config file
        columns: {email: 電子郵件, phone: 手機, display_name: 姓名}
        bom: true                         # Excel reads UTF-8 CJK text only with a BOM
        with_reservations: false
        schedule: "0 4 * * *"

Each run writes the whole file again, under a temporary name renamed when complete (see
guestsync/export.py), and leaves a row in `runs` (kind `schedule:export:<name>`).
`guestsync serve` and `guestsync schedule run` run it on its cron expression;
`guestsync schedule once export:<name>` runs it once (from system cron, say).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..config.pull import check_cron
from ..errors import ConfigError
from .export import Column, ExportStats, _check, export_csv

if TYPE_CHECKING:
    from ..sync_engine import Hub


class ExportJobOptions(BaseModel):
    """One scheduled CSV export of golden guests."""

    model_config = ConfigDict(extra="forbid")
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
                _check(name)
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


def run_export(hub: Hub, name: str, *, kind: str | None = None) -> ExportStats:
    """Write export `name` once, recorded as a row in `runs`."""
    try:
        job = hub.config.exports[name]
    except KeyError:
        known = ", ".join(sorted(hub.config.exports)) or "none configured"
        raise ConfigError(f"unknown export {name!r} (known: {known})") from None
    store = hub.store
    path = hub.config.resolve(job.path)
    run_id = store.start_run(kind or f"export:{name}")
    stats, status = ExportStats(), "failed"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)  # a configured folder, made once
        stats = export_csv(
            store,
            path,
            job.column_list(),
            with_reservations=job.with_reservations,
            bom=job.bom,
        )
        status = "ok"
    finally:
        store.finish_run(
            run_id,
            status=status,
            stats={"path": str(path), **stats.__dict__},
        )
    return stats


def export_runner(hub_factory: Callable[[], Hub], name: str) -> Callable[[], str]:
    def run() -> str:
        hub = hub_factory()
        try:
            run_export(hub, name, kind=f"schedule:export:{name}")
            return "ok"
        finally:
            hub.close()

    return run
