"""Consent statements, suppressions (salted hashes of forgotten contacts), the forget log,
and removing every trace of a guest."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from .base import StoreBase, chunks, marks, ts
from .loyalty import LOYALTY_TABLES

# What forget keeps: the suppression hashes, the log of requests, the store's own meta.
_KEEP = {"suppressions", "forget_log", "meta", "_sqlite_migrations"}


class PrivacyOps(StoreBase):
    # consent

    def save_consent(
        self,
        *,
        source: str,
        stream: str,
        external_id: str,
        guest_id: str,
        statements: Iterable[tuple[str, bool, datetime, str | None]],
    ) -> None:
        """Record (channel, granted, at, source) statements of one source record."""
        now_ts = ts()
        self.conn.executemany(
            "INSERT INTO consent_events (source, stream, external_id, channel, guest_id,"
            " granted, at, recorded_at, said_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (source, stream, external_id, channel) DO UPDATE SET"
            " guest_id = excluded.guest_id, granted = excluded.granted, at = excluded.at,"
            " recorded_at = excluded.recorded_at, said_by = excluded.said_by",
            [
                (source, stream, external_id, ch, guest_id, int(g), ts(at), now_ts, src)
                for ch, g, at, src in statements
            ],
        )

    def consent_statements(self, guest_id: str) -> list[tuple[str, bool, datetime, str]]:
        return self.consent_statements_many([guest_id])[guest_id]

    def consent_statements_many(
        self, guest_ids: Sequence[str]
    ) -> dict[str, list[tuple[str, bool, datetime, str]]]:
        """`consent_statements` of many guests, in a query per 500 guests."""
        out: dict[str, list[tuple[str, bool, datetime, str]]] = {g: [] for g in guest_ids}
        for part in chunks(list(out)):
            for r in self.conn.execute(
                "SELECT guest_id, channel, granted, at, coalesce(said_by, source)"
                f" FROM consent_events WHERE guest_id IN ({marks(len(part))})"
                " ORDER BY guest_id, at, channel",
                part,
            ):
                out[r[0]].append((r[1], bool(r[2]), datetime.fromisoformat(r[3]), r[4]))
        return out

    def relink_consent(self, source: str, stream: str, external_id: str, guest_id: str) -> None:
        self.conn.execute(
            "UPDATE consent_events SET guest_id = ? WHERE source = ? AND stream = ? AND"
            " external_id = ?",
            (guest_id, source, stream, external_id),
        )

    # salt and suppressions

    def privacy_salt(self) -> str:
        """A random salt made once per store; suppression hashes are useless without it."""
        salt = self._one("SELECT value FROM meta WHERE key = 'privacy_salt'")
        if salt is None:
            salt = secrets.token_hex(16)
            self.conn.execute(
                "INSERT INTO meta (key, value) VALUES ('privacy_salt', ?) ON CONFLICT DO NOTHING",
                (salt,),
            )
            salt = self._one("SELECT value FROM meta WHERE key = 'privacy_salt'")
        return salt

    def add_suppressions(self, hashes: Iterable[tuple[str, str]]) -> None:
        """(kind, hash) pairs of forgotten emails and phones."""
        now_ts = ts()
        self.conn.executemany(
            "INSERT INTO suppressions (hash, kind, created_at) VALUES (?, ?, ?)"
            " ON CONFLICT DO NOTHING",
            [(h, k, now_ts) for k, h in hashes],
        )

    def suppressed_since(self, hashes: Sequence[str]) -> str | None:
        """When the newest of `hashes` was suppressed, or None if none is."""
        if not hashes:
            return None
        marks = ",".join("?" for _ in hashes)
        return self._one(
            f"SELECT max(created_at) FROM suppressions WHERE hash IN ({marks})", list(hashes)
        )

    def any_suppressions(self) -> bool:
        return self._one("SELECT 1 FROM suppressions LIMIT 1") is not None

    def lift_suppressions(self, hashes: Sequence[str]) -> None:
        self.conn.executemany("DELETE FROM suppressions WHERE hash = ?", [(h,) for h in hashes])

    def suppression_hashes(self) -> list[tuple[str, str]]:
        return [tuple(r) for r in self.conn.execute("SELECT kind, hash FROM suppressions")]

    def mark_inbox_suppressed(self, inbox_id: int) -> None:
        """A record about a forgotten guest: processed, and its raw content dropped."""
        self.conn.execute(
            "UPDATE inbox SET status = 'suppressed', raw = '{}', error = NULL,"
            " processed_at = ? WHERE id = ?",
            (ts(), inbox_id),
        )

    def get_meta(self, key: str) -> str | None:
        return self._one("SELECT value FROM meta WHERE key = ?", (key,))

    def delete_meta(self, key: str) -> None:
        self.conn.execute("DELETE FROM meta WHERE key = ?", (key,))

    def set_meta(self, key: str, value: str) -> None:
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET"
            " value = excluded.value",
            (key, value),
        )

    # forget

    def guest_ids_by_contact(
        self, *, email: str | None = None, phone: str | None = None
    ) -> set[str]:
        """Guests whose golden record or any linked source record has this email/phone."""
        out: set[str] = set()
        for col, value in (("email", email), ("phone", phone)):
            if not value:
                continue
            out.update(
                r[0] for r in self.conn.execute(f"SELECT id FROM guests WHERE {col} = ?", (value,))
            )
            out.update(
                r[0]
                for r in self.conn.execute(
                    f"SELECT guest_id FROM guest_links WHERE json_extract(record, '$.{col}') = ?",
                    (value,),
                )
            )
        return out

    def merged_family(self, guest_ids: Iterable[str]) -> set[str]:
        """`guest_ids`, the guests they were merged into and every guest merged into those
        (transitively): one person, under every id the hub ever gave them."""
        todo, seen = list(guest_ids), set()
        while todo:
            gid = todo.pop()
            if gid in seen:
                continue
            seen.add(gid)
            up = self._one("SELECT merged_into FROM guests WHERE id = ?", (gid,))
            if up:
                todo.append(up)
            todo += [
                r[0]
                for r in self.conn.execute("SELECT id FROM guests WHERE merged_into = ?", (gid,))
            ]
        return seen

    def guest_contacts(self, guest_id: str) -> set[tuple[str, str]]:
        """Every (kind, value) email/phone any source said this guest has."""
        out: set[tuple[str, str]] = set()
        rows = self.conn.execute(
            "SELECT json_extract(data, '$.email'), json_extract(data, '$.phone') FROM guests"
            " WHERE id = ? UNION SELECT json_extract(record, '$.email'),"
            " json_extract(record, '$.phone') FROM guest_links WHERE guest_id = ?",
            (guest_id, guest_id),
        )
        for email, phone in rows:
            if email:
                out.add(("email", email))
            if phone:
                out.add(("phone", phone))
        return out

    def crm_links_of(self, guest_id: str) -> dict[str, str]:
        """target -> CRM record id, for every target that has this guest."""
        return dict(
            self.conn.execute(
                "SELECT target, crm_id FROM crm_links WHERE guest_id = ?", (guest_id,)
            ).fetchall()
        )

    def erase_raw_mentions(self, texts: Sequence[str]) -> int:
        """Delete inbox rows and quarantined webhook bodies whose text contains any of
        `texts` (case-insensitive): rows never linked to a guest (rejected ones, bodies
        that were not JSON) can still hold their email."""
        n = 0
        quarantine = "webhook_quarantine" in self._table_names()
        for t in texts:
            n += self.conn.execute(
                "DELETE FROM inbox WHERE instr(lower(raw), lower(?)) > 0", (t,)
            ).rowcount
            if quarantine:  # webhook bodies kept because they could not be parsed
                n += self.conn.execute(
                    "DELETE FROM webhook_quarantine WHERE"
                    f" instr(lower({self._as_text('body')}), lower(?)) > 0",
                    (t,),
                ).rowcount
        return n

    def move_activity(self, from_guest: str, to_guest: str) -> None:
        """Re-home reservations, orders, feedback, consent and loyalty rows (merges); the
        guest merged away keeps no aggregates of its own."""
        for table in ("reservations", "orders", "feedback", "consent_events", *LOYALTY_TABLES):
            self.conn.execute(
                f"UPDATE {table} SET guest_id = ? WHERE guest_id = ?", (to_guest, from_guest)
            )
        for table in ("guest_aggregates", "loyalty_aggregates"):
            self.conn.execute(f"DELETE FROM {table} WHERE guest_id = ?", (from_guest,))

    def erase_guest(self, guest_id: str) -> int:
        """Delete every row about `guest_id` in every table; returns how many.

        Tables are found by their `guest_id` column, so tables added by later migrations
        (match logs, review queues…) are covered too. Raw inbox rows are found through the
        guest's source-record links; order items through the guest's orders.
        """
        n = 0
        links = self.conn.execute(
            "SELECT source, stream, external_id FROM guest_links WHERE guest_id = ?", (guest_id,)
        ).fetchall()
        for source, stream, ext in links:
            n += self.conn.execute(
                "DELETE FROM inbox WHERE source = ? AND stream = ? AND external_id = ?",
                (source, stream, ext),
            ).rowcount
        n += self.conn.execute(
            "DELETE FROM order_items WHERE (source, external_id) IN (SELECT source, external_id"
            " FROM orders WHERE guest_id = ?)",
            (guest_id,),
        ).rowcount
        for table in self._guest_tables():
            n += self.conn.execute(
                f'DELETE FROM "{table}" WHERE guest_id = ?', (guest_id,)
            ).rowcount
        n += self.conn.execute("DELETE FROM guests WHERE id = ?", (guest_id,)).rowcount
        # Then any row anywhere that still names the guest's id in some column (a match
        # log or review queue keyed differently, a JSON list of ids…).
        for table in self._all_tables():
            if table in _KEEP:
                continue
            cols = self._column_names(table)
            where = " OR ".join(f"instr({self._as_text(c)}, ?) > 0" for c in cols)
            n += self.conn.execute(
                f'DELETE FROM "{table}" WHERE {where}', [guest_id] * len(cols)
            ).rowcount
        return n

    def _all_tables(self) -> list[str]:
        return self._table_names()

    def _guest_tables(self) -> list[str]:
        names = self._table_names()
        tables = [t for t in names if t != "guests" and "guest_id" in self._column_names(t)]
        # Children before parents: tables with a foreign key to guests go last but one.
        return sorted(tables, key=lambda t: t in ("guest_links", "guest_keys"))

    def rows_mentioning(self, text: str) -> dict[str, int]:
        """table -> rows holding `text` in any column (to check that forget left nothing)."""
        out: dict[str, int] = {}
        for table in self._table_names():
            cols = self._column_names(table)
            where = " OR ".join(f"instr({self._as_text(c)}, ?) > 0" for c in cols)
            n = self._one(f'SELECT count(*) FROM "{table}" WHERE {where}', [text] * len(cols))
            if n:
                out[table] = n
        return out

    def log_forget(
        self, *, selector: str, guests: int, rows: int, targets: dict[str, Any], status: str
    ) -> int:
        return self._insert_id(
            "INSERT INTO forget_log (requested_at, selector, guests, rows_deleted, targets,"
            " status) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            (ts(), selector, guests, rows, json.dumps(targets, sort_keys=True), status),
        )

    def finish_forget_log(self, log_id: int, *, targets: dict[str, Any], status: str) -> None:
        """Record what each CRM did with the deletes, once they were tried."""
        self.conn.execute(
            "UPDATE forget_log SET targets = ?, status = ? WHERE id = ?",
            (json.dumps(targets, sort_keys=True), status, log_id),
        )

    def forget_log(self) -> list[dict[str, Any]]:
        cur = self.conn.execute("SELECT * FROM forget_log ORDER BY id")
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
