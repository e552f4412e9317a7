"""`guestsync export-csv` and the scheduled `exports:` jobs: CSV of golden guests (and
their reservations or orders) for spreadsheets and mail tools. Guests merged away by
identity resolution are not exported: their bookings and orders were re-homed to the guest
that absorbed them and are exported with it.

Columns are canonical names (`email`, `reservation.start_at`, `order.total`, …) renamed by
a mapping, e.g. `email: 電子郵件`. Rows stream from the store to the file; nothing is held in
memory. A file is written under a temporary name and renamed when complete, so a failed
export never leaves half a file where the last good one was. `bom=True` starts the file
with a UTF-8 byte-order mark, without which Excel reads UTF-8 CJK text as mojibake.
"""

from __future__ import annotations

import csv
import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from operator import attrgetter
from pathlib import Path
from typing import Any, TextIO

from ..config.exports import (
    ALL_COLUMNS,
    ORDER_PREFIX,
    RESERVATION_PREFIX,
    Column,
    check_column,
)
from ..errors import ConfigError
from ..models import GUEST_COLUMNS, Guest
from ..store import Store
from ..sync_engine import Hub
from ..yamlfile import load_yaml

_SPECIAL: dict[str, Callable[[Guest], Any]] = {
    "display_name": lambda g: g.display_name(),
    "marketing_consent": lambda g: g.marketing_consent.granted if g.marketing_consent else None,
    "marketing_consent_at": lambda g: g.marketing_consent.at if g.marketing_consent else None,
}
# How each of models.GUEST_COLUMNS is read off a golden guest: most are its attribute.
GUEST_VALUES: dict[str, Callable[[Guest], Any]] = {
    name: _SPECIAL.get(name, attrgetter(name)) for name in GUEST_COLUMNS
}
PREFIXES = {"reservations": RESERVATION_PREFIX, "orders": ORDER_PREFIX}
LIST_SEPARATOR = "; "


@dataclass
class ExportStats:
    rows: int = 0
    guests: int = 0


def parse_columns(specs: Iterable[str]) -> list[Column]:
    """`--column` values: `canonical=Header` or just `canonical`."""
    out = []
    for spec in specs:
        name, _, header = spec.partition("=")
        name = check_column(name)
        out.append((name, header.strip() or name))
    return out


def load_columns(path: str | Path) -> list[Column]:
    """A YAML column mapping, in file order: `{email: 電子郵件, phone: 手機}` or a list of
    such one-key mappings and bare names."""
    doc = load_yaml(Path(path))
    data = doc.data
    entries: list[tuple[Any, Any, tuple[Any, ...]]] = []
    if isinstance(data, dict):
        entries = [(k, v, (k,)) for k, v in data.items()]
    elif isinstance(data, list):
        for i, item in enumerate(data):
            if isinstance(item, dict) and len(item) == 1:
                [(k, v)] = item.items()
                entries.append((k, v, (i,)))
            elif isinstance(item, str):
                entries.append((item, None, (i,)))
            else:
                raise doc.error("each entry is `canonical: Header` or a column name", (i,))
    else:
        raise doc.error("expected a mapping of canonical column -> header")
    if not entries:
        raise doc.error("no columns listed")
    return [
        (check_column(str(k), file=doc.file, line=doc.line_of(loc)), str(v if v is not None else k))
        for k, v, loc in entries
    ]


def default_columns(*, with_reservations: bool = False, with_: str | None = None) -> list[Column]:
    with_ = with_ or ("reservations" if with_reservations else None)
    names = list(GUEST_VALUES)
    if with_:
        names += [n for n in ALL_COLUMNS if n.startswith(PREFIXES[with_])]
    return [(n, n) for n in names]


def activity_of(columns: list[Column] | None, with_: str | None) -> str | None:
    """Which rows to repeat per guest ("reservations", "orders" or None), from --with and
    the columns asked for; both kinds in one file is refused (rows would multiply)."""
    kinds = {with_} - {None}
    kinds |= {k for n, _ in columns or [] for k, p in PREFIXES.items() if n.startswith(p)}
    if len(kinds) > 1:
        raise ConfigError(
            "one file holds reservations or orders, not both; export them to two files"
        )
    return kinds.pop() if kinds else None


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return LIST_SEPARATOR.join(cell(v) for v in value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def rows(
    store: Store, columns: list[Column], *, with_: str | None
) -> Iterator[tuple[str | None, list[str]]]:
    """(guest id, cells) per row, streamed from the store."""
    getters = []
    for name, _ in columns:
        prefix = PREFIXES.get(with_ or "")
        if prefix and name.startswith(prefix):
            key = name.removeprefix(prefix)
            getters.append(lambda g, r, key=key: (r or {}).get(key))
        else:
            getters.append(lambda g, r, fn=GUEST_VALUES[name]: fn(g))
    source: Iterable[tuple[Guest, dict[str, Any] | None]]
    if with_ == "reservations":
        source = store.stream_guest_reservations()
    elif with_ == "orders":
        source = store.stream_guest_orders()
    else:
        source = ((g, None) for g in store.stream_guests())
    for guest, reservation in source:
        yield guest.id, [cell(get(guest, reservation)) for get in getters]


def write_csv(
    store: Store,
    out: TextIO,
    columns: list[Column] | None = None,
    *,
    with_reservations: bool = False,
    with_: str | None = None,
) -> ExportStats:
    with_ = activity_of(columns, with_ or ("reservations" if with_reservations else None))
    columns = columns or default_columns(with_=with_)
    writer = csv.writer(out)
    writer.writerow([header for _, header in columns])
    stats = ExportStats()
    last = None
    for gid, values in rows(store, columns, with_=with_):
        writer.writerow(values)
        stats.rows += 1
        stats.guests += gid != last
        last = gid
    return stats


@contextmanager
def open_output(path: str | Path, *, bom: bool) -> Iterator[TextIO]:
    """A text stream for `path` ("-" is stdout); a file appears only once complete."""
    encoding = "utf-8-sig" if bom else "utf-8"
    if str(path) == "-":
        stream = open(sys.stdout.fileno(), "w", encoding=encoding, newline="", closefd=False)  # noqa: SIM115
        with stream:
            yield stream
        return
    target = Path(path)
    if target.is_dir():
        raise ConfigError(f"{target} is a folder; give a file name such as guests.csv")
    if not target.parent.is_dir():
        raise ConfigError(f"folder {target.parent} does not exist", file=str(target))
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with open(fd, "w", encoding=encoding, newline="") as stream:
            yield stream
        os.chmod(tmp, 0o644)  # mkstemp makes it private; an export is meant to be shared
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def export_csv(
    store: Store,
    path: str | Path,
    columns: list[Column] | None = None,
    *,
    with_reservations: bool = False,
    with_: str | None = None,
    bom: bool = False,
) -> ExportStats:
    # Checked before the file is opened: a refused export leaves no file behind.
    with_ = activity_of(columns, with_ or ("reservations" if with_reservations else None))
    with open_output(path, bom=bom) as out:
        return write_csv(store, out, columns, with_=with_)


# -- export jobs: `exports:` in guestsync.yaml (config/exports.py), run by name --------


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
