"""Candidate look-up by blocking key: the guests sharing a record's keys, at their caps,
and their links with features (identity resolution's reads; keylocks.py guards them in a
window under key locks, process/window.py answers them from a bulk window's memory)."""

from __future__ import annotations

import json
from collections.abc import Collection, Container, Iterable, Mapping, Sequence
from typing import Any

from ..models import Guest
from .base import StoreBase, marks
from .identity import Ref
from .keyhash import key_hash


def cut_at_caps(
    found: Mapping[tuple[str, str], Collection[str]], cap: int, caps: Mapping[str, int]
) -> tuple[list[str], list[tuple[str, str]]]:
    """(the guests of keys within their cap, sorted; the keys over it, skipped)."""
    over = [k for k, gs in found.items() if len(gs) > caps.get(k[0], cap)]
    return sorted({g for k, gs in found.items() if k not in over for g in gs}), over


class CandidateOps(StoreBase):
    def guests_sharing_keys(
        self,
        keys: Sequence[tuple[str, str]],
        *,
        cap: int,
        caps: Mapping[str, int] | None = None,
    ) -> tuple[list[str], list[tuple[str, str]]]:
        """Guests sharing any key, in one query; and the keys skipped because more than
        `cap` guests share them (too common to tell anything, too costly to compare).
        `caps` gives some key kinds a cap of their own."""
        caps = caps or {}
        by_hash: dict[int, tuple[str, str]] = {}
        for k in keys:
            if caps.get(k[0], cap) > 0:
                by_hash.setdefault(key_hash(*k), k)
        if not by_hash:
            return [], []
        sub = "SELECT * FROM (SELECT key, guest_id FROM guest_keys WHERE key = ? LIMIT ?) AS k"
        sql = " UNION ALL ".join([sub] * len(by_hash))
        params: list[Any] = []
        for h, (kind, _) in by_hash.items():
            params += [h, caps.get(kind, cap) + 1]
        by_key: dict[tuple[str, str], list[str]] = {}
        for h, gid in self.conn.execute(sql, params):
            by_key.setdefault(by_hash[h], []).append(gid)
        return cut_at_caps(by_key, cap, caps)

    def others_sharing_keys(
        self,
        keys: Iterable[tuple[str, str]],
        skip: Container[str],
        *,
        cap: int,
        caps: Mapping[str, int] | None = None,
    ) -> list[str]:
        """The guests `guests_sharing_keys` answers that are not in `skip`, sorted (a
        bulk window answers it from memory: process/window.py)."""
        found, _ = self.guests_sharing_keys(sorted(keys), cap=cap, caps=caps)
        return [g for g in found if g not in skip]

    def candidate_links(self, guest_ids: Sequence[str]) -> list[tuple[str, Ref, Any]]:
        """(guest id, ref, features) of every record linked to these guests, oldest guest
        first. Features are parsed JSON; a link stored before features existed gives its
        record (a Guest) instead, for the caller to fold."""
        if not guest_ids:
            return []
        rows = self.conn.execute(
            "SELECT guest_id, source, stream, external_id, features,"
            " CASE WHEN features IS NULL THEN record END FROM guest_links"
            f" WHERE guest_id IN ({marks(len(guest_ids))})",
            list(guest_ids),
        ).fetchall()
        # Oldest guest first. The guests' rows are read only when there are several to
        # order: at a million records a guest's row is seldom in the page cache, and most
        # records have one candidate guest (links reference guests: foreign key).
        found = {r[0] for r in rows}
        if len(found) > 1:
            created = dict(
                self.conn.execute(
                    f"SELECT id, created_at FROM guests WHERE id IN ({marks(len(found))})",
                    list(found),
                ).fetchall()
            )
            rows = [r for r in rows if r[0] in created]
            rows.sort(key=lambda r: (created[r[0]] or "", r[0], r[1], r[2], r[3]))  # NULL first
        else:
            rows.sort(key=lambda r: (r[1], r[2], r[3]))
        return [
            (
                r[0],
                (r[1], r[2], r[3]),
                json.loads(r[4]) if r[4] else Guest.model_validate_json(r[5]),
            )
            for r in rows
        ]
