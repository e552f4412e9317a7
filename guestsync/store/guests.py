"""Guests, their source-record links and blocking keys, and reservations."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime

from ..models import Guest, Reservation
from .base import StoreBase, stamps, ts
from .keyhash import key_hash


class GuestOps(StoreBase):
    def new_guest_id(self) -> str:
        """A UUID whose text sorts by creation time (the UUIDv7 layout: 48 bits of Unix
        milliseconds, then 74 random bits). A new guest's rows then land at the end of
        every index by guest id (links, keys, match log, the guests' own) instead of on a
        random page of each: at a million records, most of those pages are no longer in
        the page cache. The id shows when the guest was created, as created_at does."""
        ms = (time.time_ns() // 1_000_000) & ((1 << 48) - 1)
        rand = int.from_bytes(os.urandom(10), "big")  # 80 bits: 12 + 62 of them used
        rand_a, rand_b = rand >> 68, rand & ((1 << 62) - 1)
        n = (ms << 80) | (0x7 << 76) | (rand_a << 64) | (0b10 << 62) | rand_b
        return str(uuid.UUID(int=n))

    def guests_by_keys(self, keys: Sequence[tuple[str, str]]) -> list[Guest]:
        """Guests sharing any blocking key, oldest first."""
        if not keys:
            return []
        hashes = sorted({key_hash(k, v) for k, v in keys})
        rows = self.conn.execute(
            "SELECT DISTINCT g.id, g.data, g.created_at FROM guest_keys k"
            f" JOIN guests g ON g.id = k.guest_id WHERE k.key IN ({','.join('?' * len(hashes))})"
            " ORDER BY g.created_at, g.id",
            hashes,
        ).fetchall()
        return [Guest.model_validate_json(r[1]) for r in rows]

    def get_guest(self, guest_id: str) -> Guest | None:
        data = self._one("SELECT data FROM guests WHERE id = ?", (guest_id,))
        return Guest.model_validate_json(data) if data else None

    def live_guests(self, guest_ids: Sequence[str]) -> dict[str, Guest]:
        """The golden records of those guests that exist and are not merged away."""
        out: dict[str, Guest] = {}
        for i in range(0, len(guest_ids), 500):
            ids = list(guest_ids[i : i + 500])
            rows = self.conn.execute(
                f"SELECT id, data FROM guests WHERE id IN ({','.join('?' * len(ids))})"
                " AND merged_into IS NULL",
                ids,
            )
            out.update((r[0], Guest.model_validate_json(r[1])) for r in rows)
        return out

    def save_guest(self, guest: Guest, *, now: datetime | None = None) -> None:
        self.save_guests([guest], now=now)

    def save_guests(self, guests: Iterable[Guest], *, now: datetime | None = None) -> None:
        """Insert or update golden records (a new one is created `now`)."""
        now_ts = ts(now)
        rows = []
        for g in guests:
            assert g.id, "a golden guest has an id"
            data = g.model_dump_json(exclude_none=True)
            rows.append((g.id, data, g.display_name(), g.email, g.phone, now_ts, now_ts))
        self.conn.executemany(
            "INSERT INTO guests (id, data, display_name, email, phone, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET data = excluded.data,"
            " display_name = excluded.display_name, email = excluded.email,"
            " phone = excluded.phone, updated_at = excluded.updated_at",
            rows,
        )

    def add_guest_keys(self, guest_id: str, keys: Iterable[tuple[str, str]]) -> None:
        self.conn.executemany(
            "INSERT INTO guest_keys (key, guest_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
            [(key_hash(k, v), guest_id) for k, v in keys],
        )

    def drop_guest_keys(self, guest_id: str, keys: Iterable[tuple[str, str]]) -> None:
        """Delete these keys of the guest: found by the table's own order (key, guest id);
        there is no index by guest (m0023)."""
        self.conn.executemany(
            "DELETE FROM guest_keys WHERE key = ? AND guest_id = ?",
            [(key_hash(k, v), guest_id) for k, v in keys],
        )

    def move_keys(self, lose: str, keep: str, keys: Iterable[tuple[str, str]]) -> None:
        """Give `keep` the keys `lose` had (all of them: no index by guest finds them)."""
        keys = list(keys)
        self.add_guest_keys(keep, keys)
        self.drop_guest_keys(lose, keys)

    def link_record(
        self,
        *,
        source: str,
        stream: str,
        external_id: str,
        guest_id: str,
        record: Guest,
        seen_at: datetime,
    ) -> str | None:
        """Link a source record to a guest; returns the guest it was linked to before, if any."""
        previous = self._one(
            "SELECT guest_id FROM guest_links WHERE source = ? AND stream = ? AND external_id = ?",
            (source, stream, external_id),
        )
        self.conn.execute(
            "INSERT INTO guest_links (source, stream, external_id, guest_id, record, seen_at)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (source, stream, external_id) DO UPDATE SET"
            " guest_id = excluded.guest_id, record = excluded.record, seen_at = excluded.seen_at",
            (
                source,
                stream,
                external_id,
                guest_id,
                record.model_dump_json(exclude_none=True),
                ts(seen_at),
            ),
        )
        return previous

    def linked_records(self, guest_id: str) -> list[tuple[datetime, Guest]]:
        rows = self.conn.execute(
            "SELECT seen_at, record FROM guest_links WHERE guest_id = ? ORDER BY seen_at",
            (guest_id,),
        ).fetchall()
        return [(datetime.fromisoformat(r[0]), Guest.model_validate_json(r[1])) for r in rows]

    def guest_ids_with_prefix(self, prefix: str, *, limit: int = 2) -> list[str]:
        """Guest ids (merged-away ones too) starting with `prefix`, through the primary
        key's index (a range, not LIKE, which SQLite would scan)."""
        rows = self.conn.execute(
            "SELECT id FROM guests WHERE id >= ? AND id < ? ORDER BY id LIMIT ?",
            (prefix, prefix + "\U0010ffff", limit),
        ).fetchall()
        return [r[0] for r in rows]

    def guest_id_neighbours(self, guest_id: str) -> tuple[str | None, str | None]:
        """The ids just before and after `guest_id` in sorted order: together they say
        how long a prefix must be to name it alone (git's abbreviated hashes)."""
        before = self._one("SELECT max(id) FROM guests WHERE id < ?", (guest_id,))
        after = self._one("SELECT min(id) FROM guests WHERE id > ?", (guest_id,))
        return before, after

    def count_guests(self) -> int:
        return self._one("SELECT count(*) FROM guests WHERE merged_into IS NULL")

    def all_guests(self) -> Iterator[Guest]:
        for (data,) in self.conn.execute(
            "SELECT data FROM guests WHERE merged_into IS NULL ORDER BY created_at, id"
        ):
            yield Guest.model_validate_json(data)

    # reservations

    def upsert_reservation(
        self,
        *,
        source: str,
        external_id: str,
        guest_id: str,
        reservation: Reservation,
        updated_at: datetime | None,
    ) -> None:
        self.upsert_reservations([(source, external_id, guest_id, reservation, updated_at)])

    def upsert_reservations(
        self, rows: Iterable[tuple[str, str, str, Reservation, datetime | None]]
    ) -> None:
        """`upsert_reservation` for many: (source, external id, guest id, reservation,
        updated at), written in this order (a later row of the same booking wins). Rows
        with no time of update are stamped with one "now", as save_guests does."""
        stamp = stamps()
        self.conn.executemany(
            "INSERT INTO reservations (source, external_id, guest_id, venue, start_at,"
            " party_size, status, channel, requests, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (source, external_id) DO UPDATE"
            " SET guest_id = excluded.guest_id, venue = excluded.venue,"
            " start_at = excluded.start_at, party_size = excluded.party_size,"
            " status = excluded.status, channel = excluded.channel,"
            " requests = excluded.requests, updated_at = excluded.updated_at",
            [
                (
                    source,
                    external_id,
                    guest_id,
                    r.venue,
                    r.start_at.isoformat() if r.start_at else None,
                    r.party_size,
                    r.status.value,
                    r.channel,
                    r.requests,
                    stamp(updated_at),
                )
                for source, external_id, guest_id, r, updated_at in rows
            ],
        )

    def count_reservations(self) -> int:
        return self._one("SELECT count(*) FROM reservations")
