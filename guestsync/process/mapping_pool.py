"""Use the second core: map inbox rows in a worker process while the main process
resolves guests and writes the previous batch.

Mapping (parsing, phone/email normalization, dates, validation) is pure and about half
of the process stage's CPU; identity resolution and the SQLite writes stay in the one
process that owns the store. The worker is spawned (not forked: the parent may run
threads and holds an open SQLite connection) and compiles the same mapping files. It also
folds each record (identity/prepare.py) and hashes its blocking keys, and hands a window
back as plain columns (handover.py), which the main process takes in for a fraction of
what mapping and folding cost it.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from ..connectors.base import Target
from ..errors import BadRecordError
from ..identity import IdentityConfig
from ..identity.keys import bound_memo
from ..identity.keys import features as fold
from ..identity.prepare import MappedBatch, Prepared, prepare
from ..lifeline import die_with_parent, parent_args
from ..mapping import CompiledMapping, load_mapping
from ..mapping.context import Context
from ..models import Guest, SourceRecord
from ..normalize import email_address, phone_e164
from ..restaurant.hooks import ActivitySettings
from ..store import InboxRow, Store
from ..store.checkpointer import Checkpointer
from . import gc_pacing
from .batch import (
    MAPPING_ERRORS,
    MappingFor,
    ProcessStats,
    Progress,
    map_row,
    process_pending,
    rejection,
)
from .handover import Handover, decode, encode
from .window import hashed

# From this many pending rows a worker maps and folds (#20). It hands each window back as
# plain columns (handover.py), which the main process takes in for ~12 us a row (unpickled
# and rebuilt, the keys' hashes included: 20k rows, GC off, min of 7; the pickled models
# cost 13, and were unpickled besides in the executor's thread, under the collector)
# instead of mapping and folding it (~42 us a row) and hashing its keys. The main
# process's CPU (hub.process() after the ingest, with its threads; medians of alternating
# runs on this shared 2-core machine, another engineer's benchmarks beside):
#   20k rows: 392 -> 309 us a row with the worker (3 runs each); wall 18.0 -> 10.7 s
#     (the quietest pair: 9.8 -> 9.5 s, so about where it starts to pay);
#   50k rows: 383 -> 324 (2 runs; the pickled hand-over 388 -> 348); wall 38.4 -> 23.5 s
#     on the quieter pair, on par (32.7 vs 36.8 s) when a 1M import shared the machine;
#   200k rows (bench_csv_import.py --bulk-only --mapping-worker, its `process` part, 2
#     runs each alternating with the pickled hand-over): 420 -> 375 us a row (pickled:
#     406 -> 388); wall 112 -> 93 s (pickled: 94 -> 83; the machine's load moved more than
#     either: the differences within a run, -74 and -16 us a row, -20 and -17 pickled);
#     the tree's peak RSS 537 MB (pickled, memos unbounded: 773).
# The worker's own CPU, 115-160 us a row (its start-up ~0.8 CPU-s; the hand-over's encoding
# and the keys' hashing, 17 us a row more than the pickled hand-over's worker at 50k), is
# on the other core: the tree spends more (50k: ~445 vs ~385 us a row), and where no core
# is idle the wall gains less or nothing.
# At 1M rows (bench_csv_import.py --worker-only): 558 MB of peak RSS for the tree, under
# the 600, with the memos bounded (WORKER_MEMO, MAIN_MEMO; without, 661 MB were
# sampled before the end), the same 316,707 guests; the peak came as the main process
# settled beside the idle worker, which now exits first. CPU, on a machine shared with
# another 1M import: main process 649 us a row, worker 140 (with the pickled hand-over,
# measured on another day: 722 and 128, 785 MB; without the worker 699 and 431 MB).
# `Hub.parallel_min_rows` sets it (sys.maxsize: never; serve's worker maps in-process).
# A CSV import estimates its files' rows (import_csv.estimated_rows) and starts the worker
# before reading them when they reach it, so that its start-up overlaps the reading.
PARALLEL_MIN_ROWS = 20_000
# A CSV import's windows in one process (import_csv.py), and SQLite's page cache while it
# runs. Each window rewrites pages all over guest_keys, guest_links and reservations_guest
# (random guests), and a window dirtying more pages than the cache holds spills them to
# the WAL before its COMMIT. At 200k rows of bench_csv_import's file, two imports side by
# side: 3000 rows and 32 MiB (the default) 426 CPU us/row, 38.4 KB written per row;
# 3000 and 64 MiB 32.5 KB; 6000 and 64 MiB 407 us/row (-4.5%), 27.0 KB, system CPU
# 7.4 -> 4.7 s; peak RSS 423 -> 495 MB (12000 rows and 160 MiB: 17.4 KB a row but 677 MB,
# over the 600 at 1M rows). With the worker the windows are BATCH rows and the
# cache the same: the tree peaked at 579 MB at 1M rows. #20
IMPORT_WINDOW = 6000
IMPORT_CACHE_MIB = 64
# Rows per window: the bulk lane's reads, writes and commits are per window, so larger
# is cheaper per row; but each mapped window waiting in the main process holds its plain
# values (~0.9 KB a row pickled, several times that unpickled, rebuilt as records when
# taken), and the worker maps LOOKAHEAD ahead. 6000 (#20, 200k rows, alternating runs):
# the main process 375/364 -> 377/370 CPU us a row, its peak RSS +70 MB, the worker's +28.
BATCH = 3000
LOOKAHEAD = 1
RAMP = (250, 1000)  # the first batches: the first one mapped is waited for, the rest not

# Blocking keys remembered in the worker (identity/keys.py's memo, 65,536 by default,
# ~2.1 KB each: ~140 MB when full): a guest's repeat bookings within prepare.py's
# _FOLDED_MAX guests find theirs there already. At 50k rows the worker's peak RSS went
# from 225 to 197 MB with it.
WORKER_MEMO = 8192
# And in the main process meanwhile, which looks up keys only for the linked records it
# meets (process/neighbourhood.py): at 1M rows it held as much as the whole in-process
# import (458 MB 14 minutes in, its memo filled with candidates' keys), which with the
# worker's ~200 MB was 661 MB for the tree, over the 600. A guest's bookings are
# spread over the file, so at 1M rows the memo seldom finds them anyway.
MAIN_MEMO = 16384

_MAPPINGS: dict[tuple[str, str], CompiledMapping] = {}
_FIELDS: list[tuple[str, ...]] = []  # the identity fields records are folded with


def _init_child(
    parent: tuple[int, bool],
    files: dict[tuple[str, str], str],
    ctx: Context,
    fields: tuple[str, ...] = (),
) -> None:
    """The worker dies with its parent (a killed import must not leave it running)."""
    die_with_parent(parent[0], from_main_thread=parent[1])
    _init(files, ctx, fields)
    gc_pacing.pace_for_life()


def _init(files: dict[tuple[str, str], str], ctx: Context, fields: tuple[str, ...] = ()) -> None:
    bound_memo(WORKER_MEMO)
    _MAPPINGS.update({key: load_mapping(path, ctx) for key, path in files.items()})
    _FIELDS[:] = [fields]
    # What mapping and folding load on first use (phone metadata, OpenCC, pypinyin): now,
    # before the first batch is waited for.
    fold(Guest(full_name="陳小明 Amy"), fields)
    with contextlib.suppress(ValueError):
        phone_e164("0912 345 678", ctx.region)
    email_address("amy@example.com")


def _lookup(source: str, stream: str) -> CompiledMapping:
    found = _MAPPINGS.get((source, stream)) or next(
        (m for (s, _), m in _MAPPINGS.items() if s == source), None
    )
    if found is None:
        raise BadRecordError(
            f"source {source!r} is no longer in the config; add it back to process this row"
        )
    return found


def map_rows(
    items: list[tuple[str, str, str, str]],
    lookup: MappingFor = _lookup,
    fields: tuple[str, ...] | None = None,
) -> Handover:
    """Map (source, stream, external id, raw JSON) rows; a failure becomes its reason.
    Each mapped record comes with its identity features and keys (prepare.py) and their
    hashes, all as plain values (handover.py: `decode` makes them a MappedBatch)."""
    out: list[SourceRecord | str] = []
    prepared: list[Prepared | None] = []
    if fields is None:
        fields = _FIELDS[0] if _FIELDS else ()
    for source, stream, external_id, raw in items:
        try:
            record = map_row(lookup, source, stream, external_id, raw)
            prep = prepare(record, fields)
        except MAPPING_ERRORS as exc:
            out.append(rejection(exc))
            prepared.append(None)
            continue
        out.append(record)
        prepared.append(prep)
    return encode(fields, out, prepared, hashed)


class MappingPool:
    def __init__(
        self,
        files: dict[tuple[str, str], str],
        ctx: Context,
        *,
        workers: int = 1,
        fields: tuple[str, ...] = (),
    ):
        self.executor = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_child,
            initargs=(parent_args(), files, ctx, fields),
        )

    def submit(self, rows: list[InboxRow]) -> Future[Handover]:
        """Map `rows` in the worker; `handover.decode` of the result is the MappedBatch."""
        items = [(r.source, r.stream, r.external_id, r.raw) for r in rows]
        return self.executor.submit(map_rows, items)

    def start(self) -> MappingPool:
        """Spawn the worker now (not on the first batch): it starts while the caller works."""
        self.executor.submit(int)
        return self

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> MappingPool:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _taken(future: Future[Handover]) -> Callable[[], MappedBatch]:
    """How process_pending takes a window mapped in the worker: its records rebuilt."""
    return lambda: decode(future.result())


@contextlib.contextmanager
def _memo_bound(entries: int) -> Iterator[None]:
    before = bound_memo(entries)
    try:
        yield
    finally:
        bound_memo(before)


@contextlib.contextmanager
def checkpoints_aside(store: Store) -> Iterator[None]:
    """Meanwhile, WAL checkpoints from a thread of their own (store/wal.py), not inside
    the main thread's commits (but for its backstop): their copying and fsyncs (SQLite
    lets other threads run meanwhile) no longer stall the resolving. Measured at 20k
    rows: the commits' share of the run went from ~1.7 s to ~0.4 s."""
    path = store.file_path()
    if path is None:
        yield
        return
    before = store.autocheckpoint()
    store.defer_checkpoints()
    checkpointer = Checkpointer(path, interval=0.5).start()
    try:
        yield
    finally:
        checkpointer.stop()
        store.autocheckpoint(before)


def process_inbox(
    store: Store,
    mapping_for: Callable[[str, str], CompiledMapping],
    targets: Mapping[str, Target],
    *,
    files: dict[tuple[str, str], str],
    ctx: Context,
    parallel_min_rows: int = PARALLEL_MIN_ROWS,
    batch_size: int = 500,
    ahead: bool = False,
    identity: IdentityConfig | None = None,
    settings: ActivitySettings | None = None,
    progress: Progress | None = None,
    pool: MappingPool | None = None,
    bulk: bool | None = None,
) -> ProcessStats:
    """Process every pending row: in-process for small backlogs, with a mapping worker
    for large ones (`pool`: one already started, which the caller shuts down).
    `progress(done, total)` after each batch counts rows, then the guests they touched as
    they are settled (the total grows when settling starts). `bulk`: the lane
    (process_batch; default: by batch size)."""
    with gc_pacing.paced():
        return _process_inbox(
            store,
            mapping_for,
            targets,
            files=files,
            ctx=ctx,
            parallel_min_rows=parallel_min_rows,
            batch_size=batch_size,
            ahead=ahead,
            identity=identity,
            settings=settings,
            progress=progress,
            pool=pool,
            bulk=bulk,
        )


def _process_inbox(
    store: Store,
    mapping_for: Callable[[str, str], CompiledMapping],
    targets: Mapping[str, Target],
    *,
    files: dict[tuple[str, str], str],
    ctx: Context,
    parallel_min_rows: int,
    batch_size: int,
    ahead: bool,
    identity: IdentityConfig | None,
    settings: ActivitySettings | None,
    progress: Progress | None,
    pool: MappingPool | None,
    bulk: bool | None,
) -> ProcessStats:
    if (os.cpu_count() or 1) < 2 or store.count_pending() < parallel_min_rows:
        return process_pending(
            store,
            mapping_for,
            targets,
            batch_size=batch_size,
            identity=identity,
            settings=settings,
            progress=progress,
            ahead=ahead,
            bulk=bulk,
        )
    fields = tuple((identity or IdentityConfig()).fields)
    own = contextlib.nullcontext(pool) if pool else MappingPool(files, ctx, fields=fields)
    with own as pool, checkpoints_aside(store), _memo_bound(MAIN_MEMO):
        return process_pending(
            store,
            mapping_for,
            targets,
            batch_size=BATCH,
            identity=identity,
            settings=settings,
            progress=progress,
            # batch k+1 is mapped in the worker process while batch k is resolved and written
            premap=lambda rows: _taken(pool.submit(rows)),
            ramp=RAMP,
            lookahead=LOOKAHEAD,  # the worker maps on while the main process resolves
            bulk=bulk,
            # its ~190 MB freed before settling, which the main process does alone: at 1M
            # rows the tree's peak, 558 MB, came as it settled with the worker idle (main
            # process 354, worker 190, multiprocessing's resource tracker 13)
            mapped_all=pool.close,
        )
