"""The cyclic garbage collector while a backlog is processed (#20).

A full collection walks every object of the heap: the name dictionaries of pypinyin and
OpenCC (some 250k objects), the caches of folded names, phones and key hashes, and a
window's records, features and decisions (some 200k more). With the default thresholds one
ran every few hundred rows: 15–23% of the CPU of a 20k-row import
(benchmarks/bench_import_phases.py, measured with gc.callbacks), for garbage that is almost
all freed by reference counting anyway (records, windows and models hold no cycles).
The rules (the first three measured together: 1.97 -> 0.25 CPU-s of full collections at
20k rows, the same guests):

- `paced()` around a whole backlog (`process_inbox`) and for the mapping worker's life:
  what exists when it starts is frozen (never walked, still freed when unreferenced) and
  full collections come 10x less often;
- `no_collections()` around each bulk window, its mapping included (and each
  per-record batch, whose records, features and decisions live as long: full collections
  took some 15% of bench_identity's CPU before, 0.4 of 99 CPU-s at 100k records with it
  and `paced()`): no collection runs inside it. Young ones ran every 700 allocations,
  5,962 of them at 50k rows (0.4 CPU-s), walking the window's newest records, features
  and decisions only to promote them; the middle generation, run inside the window too,
  walked them all every ten (0.17 -> 0.09 CPU-s at 20k rows when it stopped). They are
  freed by reference counting as the window ends (no cycles), before the next young
  collection: the caller drops its mapped records first. A cycle made inside a window
  waits for that collection, so a window's memory is what it holds anyway (peak RSS the
  same, 319 MB at 50k rows). All collections of a 50k-row import: 3.1% -> 1.5% of its
  CPU (gc.callbacks, #20);
- `settling()` around each chunk of guests settled, and around all the chunks of a
  `settle_dirty`: a chunk's golden records, activities and aggregates live for the chunk,
  and at the default 700 allocations a young collection walked them again and again as
  they aged (5–8% of settle's CPU, gc.callbacks); at 20k, one still ran in each chunk or
  between two, collecting nothing (0.03–0.08 CPU-s of a 50k-row import's ~2 s of
  settling; 200k: one, 0.005 s). A chunk frees its objects as it ends, so the count
  stays far below;
- `window_done()` after each window of a paced backlog, the window taken in (the worker's
  hand-over rebuilt) inside its `no_collections()`: what the window leaves alive (the
  next window's hand-over, unpickled meanwhile by the executor's thread, and memo
  entries) is frozen, not walked by the young and middle collections that followed each
  window end (36 ms each at 100k rows with the worker; with the hand-over rebuilt under
  the paced thresholds besides, 2.78 s of collections in all, ~0.2 s now; inline,
  0.95 -> 0.22 s; the same 1,230 objects collected, as `paced()` ends);
- `freeze_long_lived()` once per process after its first bulk window, for callers that
  process windows outside `paced()` (serve's worker): what is alive then lives as long as
  the process. Only a cycle among those objects, made garbage later, would stay; the
  collection before the freeze leaves none behind. Inside `paced()` it does nothing: the
  backlog's start is frozen already, and `paced()` unfreezes all as it ends (its full
  collection cost 3-6 us a row of a 20k-row import, for nothing).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

PACED_GC = (700, 10, 100)
SETTLE_GEN0 = 200_000  # net allocations between young collections while guests are settled
_NEVER = 1 << 30  # a threshold no window's allocations reach

_frozen = False
_paced = 0  # how many `paced()` are open


@contextmanager
def paced() -> Iterator[None]:
    global _paced
    before = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(*PACED_GC)
    _paced += 1
    try:
        yield
    finally:
        _paced -= 1
        gc.set_threshold(*before)
        gc.unfreeze()


def pace_for_life() -> None:
    """`paced()` for the rest of the process (the mapping worker: its whole life is mapping)."""
    gc.freeze()
    gc.set_threshold(*PACED_GC)


@contextmanager
def no_collections() -> Iterator[None]:
    gen0, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(_NEVER, _NEVER, _NEVER)
    try:
        yield
    finally:
        gc.set_threshold(gen0, gen1, gen2)


@contextmanager
def settling() -> Iterator[None]:
    gen0, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(max(gen0, SETTLE_GEN0), gen1, gen2)
    try:
        yield
    finally:
        gc.set_threshold(gen0, gen1, gen2)


def window_done() -> None:
    """After a window of a paced backlog: what it leaves alive is frozen, not walked by the
    collections after (the module's docstring). Still freed by reference counting;
    `paced()` unfreezes all as the backlog ends, and a cycle among them is collected then."""
    if _paced:
        gc.freeze()


def freeze_long_lived() -> None:
    global _frozen
    if not _frozen and not _paced:
        _frozen = True
        gc.collect()
        gc.freeze()
