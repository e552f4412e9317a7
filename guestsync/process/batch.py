"""Stage 2 and 3: map inbox rows, resolve guests, upsert entities, queue changed payloads.

One batch of inbox rows is one transaction: its guests, links, reservations, outbox rows
and the inbox status commit together. A row that cannot be mapped is marked `error` with
the reason (inside its own savepoint) and the batch goes on.
"""

from __future__ import annotations

import json
import os
import socket
import uuid
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field, fields, replace
from functools import partial
from typing import Any

from pydantic import ValidationError

from ..connectors.base import Target
from ..errors import BadRecordError
from ..identity import IdentityConfig
from ..identity.prepare import MappedBatch, Prepared, prepare, prepared_of
from ..mapping import CompiledMapping
from ..models import SourceRecord
from ..restaurant import hooks
from ..restaurant.hooks import ActivitySettings
from ..store import InboxRow, Store
from . import fastpath, gc_pacing
from .keyed import keyed_batch, subset
from .ordering import WindowVersions, is_current
from .outbox import queue_for_targets
from .removals import note_removal
from .resolve import Resolver
from .window import WindowStore

Progress = Callable[[int, int], None]  # (done, total): rows, then guests to settle


@dataclass
class ProcessStats:
    processed: int = 0
    rejected: int = 0
    guests_created: int = 0
    guests_matched: int = 0
    queued: int = 0
    stale: int = 0  # older than a state already processed: skipped (ordering.py)
    suppressed: int = 0  # records about forgotten guests, dropped (privacy.py)
    errors: list[str] = field(default_factory=list)  # "origin: reason", for the summary
    warnings: list[str] = field(default_factory=list)  # values kept as written (mapping)


# What a row that cannot be mapped raises: it is marked `error` with the reason, and kept.
MAPPING_ERRORS = (BadRecordError, ValidationError, ValueError)
MappingFor = Callable[[str, str], CompiledMapping]  # (source, stream) -> its mapping


def map_row(
    mapping_for: MappingFor, source: str, stream: str, external_id: str, raw: str
) -> SourceRecord:
    """One inbox row (its raw JSON) as its canonical record; raises one of MAPPING_ERRORS.
    The one way a row is mapped: in its transaction, ahead of it, or in the mapping pool."""
    return mapping_for(source, stream).apply(
        json.loads(raw), source=source, stream=stream, external_id=external_id
    )


def rejection(exc: Exception) -> str:
    """The reason kept with a rejected row (file, row and field when the mapping knows)."""
    return exc.render() if isinstance(exc, BadRecordError) else str(exc)


def resolve_guest(
    store: Store,
    record: SourceRecord,
    seen: Any,
    resolver: Resolver | None = None,
    prepared: Prepared | None = None,
) -> tuple[str, bool, str | None]:
    """Link the record to its guest (existing or new); see guestsync.process.resolve.

    Returns (guest id, created, the guest the record was linked to before if another).
    """
    res = (resolver or Resolver(store)).resolve(record, seen, prepared)
    return res.guest_id, res.created, res.previous


def settle(
    store: Store,
    guest_ids: set[str],
    targets: Mapping[str, Target],
    resolver: Resolver,
    settings: ActivitySettings | None = None,
) -> int:
    """Bring touched guests up to date: golden record, aggregates, segment and consent,
    then their CRM payloads. A guest merged away keeps nothing and is not queued. Returns
    how many payloads it queued."""
    with gc_pacing.settling():
        goldens = resolver.refresh_many(resolver.live(guest_ids))
        settings = hooks.settings_for(store, settings)
        hooks.after_batch(store, set(goldens), settings, goldens)
        return queue_for_targets(store, set(goldens), targets, settings, goldens)


def settle_dirty(
    store: Store,
    targets: Mapping[str, Target],
    identity: IdentityConfig | None = None,
    settings: ActivitySettings | None = None,
    *,
    chunk: int = 1000,
    progress: Progress | None = None,
    rows_done: int = 0,
) -> int:
    """Settle every guest the process stage noted (m0016), `chunk` guests per transaction.
    Returns how many payloads it queued. `progress` counts rows then guests:
    (rows_done + guests settled, rows_done + guests to settle)."""
    queued = settled = 0
    total = store.count_dirty()
    with gc_pacing.settling():  # between chunks too (each ran a young collection there)
        while True:
            with store.atomic():  # read in the transaction: another writer may note more
                if not (noted := store.dirty_guests(limit=chunk)):
                    break
                resolver = Resolver(store, identity)
                queued += settle(store, set(noted), targets, resolver, settings)
                store.clear_dirty(noted)
            settled += len(noted)
            if progress:
                progress(rows_done + settled, rows_done + max(total, settled))
    return queued


# A batch this large is resolved as one window (window.py): the candidates of all its
# records read set-based, links and keys written with executemany, no savepoint per row.
BULK_ROWS = 200


class _WindowFailed(Exception):
    """A row of a bulk window failed after it began writing: the window is rolled back
    and processed again row by row, each row in its own savepoint."""


def process_batch(
    store: Store,
    rows: list[InboxRow],
    mapping_for: Callable[[str, str], CompiledMapping],
    targets: Mapping[str, Target],
    stats: ProcessStats,
    identity: IdentityConfig | None = None,
    *,
    mapped: list[SourceRecord | str] | None = None,
    settings: ActivitySettings | None = None,
    defer: bool = False,
    bulk: bool | None = None,
) -> None:
    """`mapped`, if given, holds each row already mapped (or its rejection reason), e.g.
    by a mapping worker process (mapping_pool.py) while the previous batch was resolved.

    The guests the batch touched are settled in the same transaction, or with `defer`
    noted for `settle_dirty` (one settle per guest per run, however many batches touched
    it). `bulk` (default: batches of BULK_ROWS rows or more) resolves the batch as one
    window; both ways give the same guests (tests/test_bulk_lane.py). Deferred, on
    PostgreSQL: beside other workers' windows, under key locks (process/keyed.py)."""
    if defer and store.dialect == "postgresql" and not store.in_keyed_window():
        again = partial(
            process_batch,
            store,
            mapping_for=mapping_for,
            targets=targets,
            stats=stats,
            identity=identity,
            settings=settings,
            defer=True,
        )
        bulk = bulk if bulk is not None else len(rows) >= BULK_ROWS
        mapped = mapped if mapped is not None else map_ahead(rows, mapping_for)
        run = lambda part, done, window: again(part, mapped=done, bulk=window)  # noqa: E731
        return keyed_batch(store, rows, mapped, stats, identity, bulk=bulk, run=run)
    if bulk if bulk is not None else len(rows) >= BULK_ROWS:
        # the lists only grow: their lengths restore them (no copy per window of a run's
        # warnings, which may be one per row)
        before, errors, warnings = replace(stats), len(stats.errors), len(stats.warnings)
        try:
            with gc_pacing.no_collections():  # the window's records live as long
                mapped = mapped if mapped is not None else map_ahead(rows, mapping_for)
                _process(store, rows, targets, stats, identity, mapped, settings, defer, bulk=True)
                mapped = None  # freed now: not walked by the young collection due next
            gc_pacing.freeze_long_lived()
            return
        except _WindowFailed:
            for f in fields(stats):
                setattr(stats, f.name, getattr(before, f.name))
            del stats.errors[errors:], stats.warnings[warnings:]
    with gc_pacing.no_collections():  # as a bulk window (gc_pacing: one batch's objects)
        _process(
            store, rows, targets, stats, identity, mapped, settings, defer, mapping_for=mapping_for
        )


def _process(
    store: Store,
    rows: list[InboxRow],
    targets: Mapping[str, Target],
    stats: ProcessStats,
    identity: IdentityConfig | None,
    mapped: list[SourceRecord | str] | None,
    settings: ActivitySettings | None,
    defer: bool,
    *,
    bulk: bool = False,
    mapping_for: Callable[[str, str], CompiledMapping] | None = None,
) -> None:
    touched: set[str] = set()
    resolver = Resolver(store, identity)
    done: list[int] = []
    with store.atomic():
        # Another worker may have processed some of these rows since they were read (its
        # claim expired ours, store/inbox.py): those still pending are this batch's.
        pending = store.pending_of([r.id for r in rows])
        if len(pending) < len(rows):
            keep = [i for i, r in enumerate(rows) if r.id in pending]
            rows = [rows[i] for i in keep]
            mapped = subset(mapped, keep) if mapped is not None else None
        # No forgotten guest, no record to screen: the batch holds the write lock, so no
        # `forget` can add a suppression before it commits.
        screen = store.any_suppressions()
        # Records new to the store need no per-row look-ups of their link or consent.
        refs = {(r.source, r.stream, r.external_id) for r in rows}
        refs.update(_ref(m) for m in mapped or () if not isinstance(m, str))
        resolver.unlinked, no_consent = store.refs_absent(refs)
        log = resolver.log_buffer = []  # the match log, written once for the batch
        window = preps = versions = None
        if bulk:
            assert mapped is not None
            preps = [
                prepared_of(mapped, i) or prepare(m, resolver.fields)
                if not isinstance(m, str)
                else None
                for i, m in enumerate(mapped)
            ]
            window = WindowStore(
                store,
                ([k for k in p.probe if k[0] in resolver.blocking] for p in preps if p),
                refs,
                cap=resolver.cap,
                caps=resolver.caps,
                hashes=mapped.hashes if isinstance(mapped, MappedBatch) else None,
            )
            resolver.over(window)
            versions = WindowVersions(store, refs)
        same = nullcontext()  # the bulk lane's rows share the window's transaction
        for i, row in enumerate(rows):
            logged = len(log)
            if bulk and isinstance(record := mapped[i], str):  # type: ignore[index]
                _reject(store, row, record, stats)  # nothing of it was written: no savepoint
                continue
            try:
                with same if bulk else store.atomic():
                    if mapped is not None:
                        record = mapped[i]
                        if isinstance(record, str):
                            raise BadRecordError(record)
                    else:
                        assert mapping_for is not None
                        record = map_row(
                            mapping_for, row.source, row.stream, row.external_id, row.raw
                        )
                    if record.warnings:
                        stats.warnings.extend(
                            f"{row.source} {row.origin}: {w}" for w in record.warnings
                        )
                    if not (versions.is_current(record) if versions else is_current(store, record)):
                        stats.stale += 1
                        done.append(row.id)
                        continue
                    seen = record.updated_at or row.received_at
                    if screen and not hooks.admit(store, record):  # a forgotten guest
                        store.mark_inbox_suppressed(row.id)
                        stats.suppressed += 1
                        continue
                    ref = _ref(record)
                    if record.deleted or ref not in resolver.unlinked:
                        if window is not None:
                            window.flush()  # the link may be one this window made
                        if note_removal(store, record, touched):
                            # the source removed it (a record never linked needs no unmarking)
                            done.append(row.id)
                            stats.processed += 1
                            continue
                    prepared = preps[i] if preps is not None else prepared_of(mapped, i)
                    # a record meeting nobody: a new guest, as the Resolver would make it
                    alone = None
                    if window is not None and prepared is not None:
                        alone = fastpath.new_alone(resolver, window, ref, prepared, seen)
                    if alone is not None:
                        guest_id, created, previous = alone, True, None
                    else:
                        guest_id, created, previous = resolve_guest(
                            store, record, seen, resolver, prepared
                        )
                    hooks.record(
                        window or store, record, guest_id, seen, relink=ref not in no_consent
                    )
                    no_consent.discard(ref)
                    touched.add(guest_id)
                    if previous:  # the record moved: its old guest is re-derived too
                        touched.add(previous)
            except MAPPING_ERRORS as exc:
                if bulk:  # it may have written already, and there is no savepoint to undo it
                    raise _WindowFailed() from exc
                del log[logged:]  # rolled back with the row
                _reject(store, row, rejection(exc), stats)
                continue
            done.append(row.id)
            stats.processed += 1
            stats.guests_created += created
            stats.guests_matched += not created
        if window is not None:
            window.flush()
        if versions is not None:
            versions.flush()
        store.log_matches(log)
        resolver.log_buffer = None
        if defer:
            live = resolver.live(touched)
            store.mark_dirty(live)
        else:
            stats.queued += settle(store, touched, targets, resolver, settings)
        store.mark_inbox_done(done)


def _reject(store: Store, row: InboxRow, reason: str, stats: ProcessStats) -> None:
    store.mark_inbox_error(row.id, reason)
    stats.rejected += 1
    stats.errors.append(f"{row.source} {row.origin}: {reason}")


def _ref(record: SourceRecord) -> tuple[str, str, str]:
    return (record.source, record.stream, record.external_id)


def map_ahead(
    rows: list[InboxRow], mapping_for: Callable[[str, str], CompiledMapping]
) -> list[SourceRecord | str]:
    """Map rows before their transaction (pure work: no write lock held meanwhile); a
    row that cannot be mapped becomes its reason, as process_batch's `mapped` takes it."""
    out: list[SourceRecord | str] = []
    for row in rows:
        try:
            out.append(map_row(mapping_for, row.source, row.stream, row.external_id, row.raw))
        except MAPPING_ERRORS as exc:
            out.append(rejection(exc))
    return out


def claimant() -> str:
    """Who claims inbox windows: this host, process and run (store/inbox.py)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


Premap = Callable[[list[InboxRow]], Callable[[], list[SourceRecord | str] | None]]


def process_pending(
    store: Store,
    mapping_for: Callable[[str, str], CompiledMapping],
    targets: Mapping[str, Target],
    *,
    batch_size: int = 500,
    identity: IdentityConfig | None = None,
    settings: ActivitySettings | None = None,
    progress: Progress | None = None,
    ahead: bool = False,
    premap: Premap | None = None,
    ramp: Sequence[int] = (),
    lookahead: int = 1,
    bulk: bool | None = None,
    mapped_all: Callable[[], None] | None = None,
) -> ProcessStats:
    """Process every pending row, `batch_size` rows per transaction, then settle the guests
    they touched. `progress(done, total)` counts rows, then guests to settle.

    Mapping inside the batch's transaction is the default. `ahead`: map each batch before
    its transaction opens (`guestsync serve`: the webhook writer waits for the write lock
    only while guests are resolved). `premap(rows)` starts mapping a batch and returns
    how to get the result: called for batch k+1 before batch k is written (mapping_pool.py
    maps in a worker process meanwhile); `lookahead` batches are started ahead. `ramp`:
    sizes of the first batches, smaller, so that the first wait for a mapped batch is
    short. `bulk`: as process_batch takes it (default: by the batch's size).
    `mapped_all()` once every row is processed, before the guests are settled (the
    mapping worker exits then: mapping_pool.py)."""
    if premap is None and ahead:
        premap = lambda rows: lambda: map_ahead(rows, mapping_for)  # noqa: E731
    stats = ProcessStats()
    done = 0
    pending = store.count_pending() if progress else 0
    sizes = [*ramp]
    queue: deque[tuple[list[InboxRow], Callable[[], list[SourceRecord | str] | None] | None]]
    queue = deque()
    more, after = True, 0
    owner = claimant()  # workers on other nodes take other windows (store/inbox.py)
    store.release_dead_claims()  # a worker killed here needs no CLAIM_TTL to be over
    try:
        while True:
            while more and len(queue) <= lookahead:  # read (and start mapping) ahead
                size = sizes.pop(0) if sizes else batch_size
                following = store.claim_inbox(limit=size, after_id=after, owner=owner)
                more = bool(following)
                if following:
                    after = following[-1].id
                    queue.append((following, premap(following) if premap else None))
            if not queue:
                break
            rows, taking = queue.popleft()
            # taken in (the hand-over rebuilt) with no collection, then frozen: window_done
            with gc_pacing.no_collections():
                mapped = taking() if taking else None
                taking = None  # its future held the hand-over as sent, through the window
                process_batch(
                    store,
                    rows,
                    mapping_for,
                    targets,
                    stats,
                    identity,
                    mapped=mapped,
                    settings=settings,
                    defer=True,
                    bulk=bulk,
                )
                mapped = None
                gc_pacing.window_done()
            done += len(rows)
            if progress:
                progress(done, max(pending, done))
    finally:  # windows claimed ahead and left unprocessed (an error) are free at once
        store.release_inbox_claims(owner)
    if mapped_all is not None:
        mapped_all()
    # guests settled per transaction: 1000 by default; serve's worker, writing a few rows
    # per transaction so as not to hold the write lock, settles a few guests per one too
    chunk = min(1000, 2 * batch_size)
    stats.queued += settle_dirty(
        store, targets, identity, settings, chunk=chunk, progress=progress, rows_done=done
    )
    return stats
