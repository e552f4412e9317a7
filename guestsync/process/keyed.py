"""A worker's window on PostgreSQL, beside other workers' windows (store/keylocks.py).

Each record of the window needs the locks of its refs and of its probe keys (what it
will read from guest_keys). Two windows of 200 records being resolved at once nearly
always share someone (on a booking backlog, a few records in a window are about people
the other window also has), and a window that waited or started again for each such
record would run its whole work in turn with the other. So a window is taken in two
passes:

1. the records whose locks are free are admitted (tried, never waited for) and
   processed together in one transaction; the others are left for
2. a second transaction, which waits for their locks at BEGIN (in sorted order: what the
   other window holds is released when it commits) and then processes them.

The records of one person are then resolved in another order than the inbox's; identity
resolution gives the same guests in any order (DESIGN.md). A guest met on the way that
another window holds still starts the pass again, holding it (keylocks.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import fields
from typing import Any

from ..identity import IdentityConfig
from ..identity.prepare import MappedBatch, Prepared, prepare, prepared_of
from ..models import SourceRecord
from ..store import InboxRow, Store
from ..store.keyhash import key_hash
from ..store.keylocks import lock_id

Mapped = list[SourceRecord | str]
Run = Callable[[list[InboxRow], Mapped, bool], None]  # (rows, mapped, bulk) in a transaction


def lock_groups(
    rows: Sequence[InboxRow], mapped: Mapped, identity: IdentityConfig | None
) -> list[set[int]]:
    """Per row: the locks it needs (its refs, its probe keys within their caps)."""
    config = identity or IdentityConfig()
    field_names = tuple(config.fields)
    blocking, caps = set(config.blocking), config.key_caps()
    cap = config.max_candidates_per_key
    # the worker's hashes of the keys (process/handover.py), else hashed here
    hashes = mapped.hashes if isinstance(mapped, MappedBatch) else {}
    out: list[set[int]] = []
    for i, (row, m) in enumerate(zip(rows, mapped, strict=True)):
        group = {lock_id("ref", row.source, row.stream, row.external_id)}
        if not isinstance(m, str):
            group.add(lock_id("ref", m.source, m.stream, m.external_id))
            p: Prepared = prepared_of(mapped, i) or prepare(m, field_names)  # cached: once
            group.update(
                h if (h := hashes.get(k)) is not None else key_hash(*k)
                for k in p.probe
                if k[0] in blocking and caps.get(k[0], cap) > 0
            )
        out.append(group)
    return out


def subset(mapped: Mapped, keep: list[int]) -> Mapped:
    """The rows `keep` of `mapped`, with their `Prepared` and the hashes if it has them."""
    items = [mapped[i] for i in keep]
    if isinstance(mapped, MappedBatch):
        return MappedBatch(items, [mapped.prepared[i] for i in keep], mapped.hashes)
    return items


def keyed_batch(
    store: Store,
    rows: list[InboxRow],
    mapped: Mapped,
    stats: Any,
    identity: IdentityConfig | None,
    *,
    bulk: bool,
    run: Run,
) -> None:
    """Process the window in the two passes of the module docstring; `run` processes
    rows in the transaction it is given (a savepoint in it)."""
    groups = lock_groups(rows, mapped, identity)
    left: list[int] = []

    def first() -> None:
        before = _snapshot(stats)

        def attempt() -> None:
            _restore(stats, before)
            with store.atomic():
                free = store.try_locks(groups)
                left[:] = [i for i in range(len(rows)) if i not in set(free)]
                if free:
                    run([rows[i] for i in free], subset(mapped, free), bulk)

        store.keyed(attempt, known=set().union(*groups))

    first()
    if not left:
        return
    before = _snapshot(stats)
    later = [rows[i] for i in left]

    def second() -> None:
        _restore(stats, before)
        with store.atomic():
            run(later, subset(mapped, left), bulk)

    store.keyed(second, wait_for=set().union(*(groups[i] for i in left)))


def _snapshot(stats: Any) -> dict[str, Any]:
    return {
        f.name: [*v] if isinstance(v := getattr(stats, f.name), list) else v for f in fields(stats)
    }


def _restore(stats: Any, before: dict[str, Any]) -> None:
    """A pass started again counts once."""
    for name, value in before.items():
        setattr(stats, name, [*value] if isinstance(value, list) else value)
