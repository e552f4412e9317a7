"""Reads the process stage does once for a batch (or a run) instead of once per row."""

from __future__ import annotations

from collections.abc import Iterable

from .base import StoreBase

Ref = tuple[str, str, str]  # (source, stream, external_id)

_CHUNK = 500  # external ids per query: well under SQLite's bound-parameter limit


class BatchOps(StoreBase):
    def any_guest(self) -> bool:
        return self._one("SELECT 1 FROM guests LIMIT 1") is not None

    def refs_absent(self, refs: Iterable[Ref]) -> tuple[set[Ref], set[Ref]]:
        """Of these source records: those with no guest link, and those with no consent
        statement, in two indexed queries per (source, stream) and 500 ids."""
        by_stream: dict[tuple[str, str], list[str]] = {}
        for source, stream, external_id in set(refs):
            by_stream.setdefault((source, stream), []).append(external_id)
        unlinked: set[Ref] = set()
        no_consent: set[Ref] = set()
        for (source, stream), ids in by_stream.items():
            for i in range(0, len(ids), _CHUNK):
                part = ids[i : i + _CHUNK]
                marks = ",".join("?" * len(part))
                for table, absent in (("guest_links", unlinked), ("consent_events", no_consent)):
                    found = {
                        r[0]
                        for r in self.conn.execute(
                            f"SELECT external_id FROM {table} WHERE source = ? AND stream = ?"
                            f" AND external_id IN ({marks})",
                            (source, stream, *part),
                        )
                    }
                    absent.update((source, stream, x) for x in part if x not in found)
        return unlinked, no_consent
