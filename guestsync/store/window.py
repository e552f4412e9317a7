"""Set-based reads and writes of the identity tables: what a window of records (the bulk
lane) or a batch of guests to settle needs, in a few queries for all of them instead of a
few per record or per guest.

The window's probe keys are read from `guest_keys` in IN lists, in key order (each key
cut at its cap + 1 guests, as `guests_sharing_keys` cuts it); the candidate guests' links
and ages are read in chunks by guest; the window's own links are read by reference; and
what the window links is written back with executemany.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from ..models import Guest
from .base import StoreBase, chunks, marks, stamps, ts
from .identity import LinkRow, Ref


def _records() -> Callable[[str], Guest]:
    """Parses a link's record. A guest's repeat bookings often describe it alike: each
    distinct record is parsed once, and shared (a link's record is read, never changed)."""
    parsed: dict[str, Guest] = {}
    return lambda text: parsed.get(text) or parsed.setdefault(text, Guest.model_validate_json(text))


class WindowOps(StoreBase):
    def guests_of_keys(self, limits: Mapping[int, int]) -> dict[int, list[str]]:
        """{key hash: guests having it} for each hash, at most `limits[hash]` guests each
        (which ones, of a key having more, is not set: such a key is over its cap)."""
        if len(limits) == 1:  # one key (a key a window had not read): one indexed look-up
            [(h, limit)] = limits.items()
            rows = self.conn.execute(
                "SELECT guest_id FROM guest_keys WHERE key = ? LIMIT ?", (h, limit)
            ).fetchall()
            return {h: [r[0] for r in rows]}
        # IN lists in key order, cut here: at 30k keys a window, half the CPU of a join
        # with a temporary table cut by row_number() (which sorted all the rows it read)
        out: dict[int, list[str]] = {h: [] for h in limits}
        for part in chunks(sorted(limits)):
            for h, gid in self.conn.execute(
                f"SELECT key, guest_id FROM guest_keys WHERE key IN ({marks(len(part))})", part
            ):
                if len(gs := out[h]) < limits[h]:
                    gs.append(gid)
        return out

    def links_and_ages(
        self, guest_ids: Iterable[str], *, parse: Callable[[str], Any] = json.loads
    ) -> tuple[dict[str, list[tuple[Ref, Any]]], dict[str, str | None]]:
        """The (ref, features) of every record linked to these guests, and each guest's
        `created_at` (what `candidate_links` orders several candidate guests by). A link
        stored before features existed gives its record (a Guest) instead. `parse`
        turns the features' JSON into what is returned (e.g. one dict per distinct JSON)."""
        ids = sorted(set(guest_ids))
        links: dict[str, list[tuple[Ref, Any]]] = {g: [] for g in ids}
        ages: dict[str, str | None] = {}
        for part in chunks(ids):
            ins = marks(len(part))
            for gid, s, st, x, f, rec in self.conn.execute(
                "SELECT guest_id, source, stream, external_id, features,"
                " CASE WHEN features IS NULL THEN record END FROM guest_links"
                f" WHERE guest_id IN ({ins})",
                part,
            ):
                links[gid].append(((s, st, x), parse(f) if f else Guest.model_validate_json(rec)))
            ages.update(
                self.conn.execute(
                    f"SELECT id, created_at FROM guests WHERE id IN ({ins})", part
                ).fetchall()
            )
        return links, ages

    def link_states(self, refs: Iterable[Ref]) -> dict[Ref, tuple[str, bool]]:
        """{ref: (guest id, pinned)} of those of these source records that are linked."""
        rows = self._rows_of_records("guest_links", "guest_id, pinned", refs)
        return {ref: (gid, bool(pinned)) for ref, gid, pinned in rows}

    def links_of(self, guest_ids: Sequence[str]) -> list[LinkRow]:
        """All source records linked to these guests, grouped by guest in the given order
        (each guest's by reference)."""
        cols = "source, stream, external_id, guest_id, seen_at, record, features, pinned"
        rows = self._links(cols, guest_ids)
        order = {g: i for i, g in enumerate(guest_ids)}
        rows.sort(key=lambda r: (order[r[3]], r[0], r[1], r[2]))
        record = _records()
        return [
            LinkRow(
                (r[0], r[1], r[2]),
                r[3],
                datetime.fromisoformat(r[4]),
                record(r[5]),
                json.loads(r[6]) if r[6] else None,
                bool(r[7]),
            )
            for r in rows
        ]

    def link_records(self, guest_ids: Sequence[str]) -> list[tuple[str, Ref, datetime, Guest]]:
        """(guest, reference, seen at, record) of every source record linked to these
        guests, in no set order: what their golden records are computed from (their
        features, long text, not read; no LinkRow made)."""
        rows = self._links("source, stream, external_id, guest_id, seen_at, record", guest_ids)
        record = _records()
        dt = datetime.fromisoformat
        return [(r[3], (r[0], r[1], r[2]), dt(r[4]), record(r[5])) for r in rows]

    def _links(self, cols: str, guest_ids: Sequence[str]) -> list[Any]:
        rows: list[Any] = []
        for part in chunks(guest_ids):
            rows += self.conn.execute(
                f"SELECT {cols} FROM guest_links WHERE guest_id IN ({marks(len(part))})", part
            ).fetchall()
        return rows

    def link_of(self, ref: Ref) -> LinkRow | None:
        rows = self.conn.execute(
            "SELECT guest_id FROM guest_links WHERE source = ? AND stream = ? AND external_id = ?",
            ref,
        ).fetchone()
        if rows is None:
            return None
        return next(x for x in self.links_of([rows[0]]) if x.ref == ref)

    def live_ids(self, guest_ids: Sequence[str]) -> set[str]:
        """Those of these guests that exist and are not merged away."""
        out: set[str] = set()
        for part in chunks(guest_ids):
            out.update(
                r[0]
                for r in self.conn.execute(
                    f"SELECT id FROM guests WHERE id IN ({marks(len(part))})"
                    " AND merged_into IS NULL",
                    part,
                )
            )
        return out

    def save_new_guests(self, items: Sequence[tuple[Guest, datetime]]) -> None:
        """`save_guest` for many guests new to the store, each created at its own time."""
        self.conn.executemany(
            "INSERT INTO guests (id, data, display_name, email, phone, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (g.id, g.model_dump_json(exclude_none=True), g.display_name(), g.email, g.phone)
                + (ts(now),) * 2
                for g, now in items
            ],
        )

    def save_links(self, rows: Sequence[tuple[Ref, str, str, str, datetime]]) -> None:
        """`save_link` for many: (ref, guest id, record JSON, features JSON, seen at).
        Written in the table's own order, by guest then reference (its primary key,
        m0020): 5,000 links into a 20k-link store took 7.3 us each, against 10.5 in
        reference order (the guests a window's records join sit all over the table)."""
        stamp = stamps()
        self.conn.executemany(
            "INSERT INTO guest_links (guest_id, source, stream, external_id, record, seen_at,"
            " features) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (source, stream, external_id)"
            " DO UPDATE SET guest_id = excluded.guest_id, record = excluded.record,"
            " seen_at = excluded.seen_at, features = excluded.features",
            sorted((gid, *ref, rec, stamp(seen), f) for ref, gid, rec, f, seen in rows),
        )

    def add_key_hashes(self, pairs: Iterable[tuple[int, str]]) -> None:
        """`add_guest_keys` for many guests: (key hash, guest id) pairs, in key order (a
        pair given twice is written once: ON CONFLICT DO NOTHING)."""
        self.conn.executemany(
            "INSERT INTO guest_keys (key, guest_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
            sorted(pairs),
        )


__all__ = ["WindowOps"]
