"""A prototype of the design change #20's notes name: resolve a whole import set-based
instead of record by record, with the lane's own functions (`keys_for`, `lookup_keys`,
`Scorer`, `identity.cluster`). It measures what that resolution costs per row, and
whether its guests are the bulk lane's. Not a lane: nothing is written (no link, key,
golden record, booking, match-log or outbox row), and it starts from an empty store.

How it resolves: each pair of distinct records (by their features' JSON) that meet on a
blocking key is scored once; union-find joins the pairs that score a merge; a group
whose names differ is decided again by `identity.cluster` over its rows, in the order
of their refs, as the lane's regrouping does. The lane's other rules, set-based:
- caps: a key is used when the records holding it are within its cap, or when they are
  once the merging pairs among them are joined (`settles_within`: in the lane's order
  such a key was used while it held few guests, who merged as they came);
- `Neighbourhood.through`: a group's records are scored against the holders of every
  key of the group's records, to a fixed point.

Two variants, each in its own child process: `in-memory` (the import's keys and features
in dicts: its memory grows with the file) and `bounded` (the keys, the features and the
pairs in a scratch SQLite database, joined and grouped there; in memory only the
union-find over distinct records and a bounded cache of parsed features). Each phase's
CPU is timed with process_time; the keys (and, bounded, their hashes) are what the
mapping worker already computes and hands over in an import.

The input: bench_csv_import's file, imported by the bulk lane in a child process (its
whole import: CPU and guests, as bench_csv_import's `bulk`); or `--synthetic`
(synthetic.rows: typos, households on one phone, cross-script names; the lane's
resolution alone is timed, and both groupings are scored against the truth); or
`--store DB`, a store the lane made before (e.g. at 1M rows: no lane CPU then). The
prototype reads each link's features from that store (what mapping and folding made of
the row, a function of the row alone). Then, untimed, it compares its grouping of the
rows with the lane's (`guest_links.guest_id`): pairwise precision and recall, and the
share of the lane's guests it has exactly (BENCH_SETWISE_DIFF=1 prints those it has not).
The in-memory variant also counts what else a set-based lane would change: the lane's
`merges` rows (guests its order made, then joined) and review items, against a review
queue defined on the final groups (a pair of guests with a pair of records scoring a
review, or a merge kept apart).

Usage: bench_setwise_proto.py [N] [--synthetic [--seed S]] [--store DB]
       [--in-memory | --bounded]      (default: 200000 rows, both variants)
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from array import array
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from bench_csv_import import make_csv, run_child

from guestsync import identity
from guestsync.identity import DISTINCT, MERGE, IdentityConfig, Scorer
from guestsync.identity.keys import Features, Key, bound_memo, keys_for, lookup_keys
from guestsync.identity.scoring import form
from guestsync.process.mapping_pool import MAIN_MEMO
from guestsync.process.neighbourhood import RECORDS
from guestsync.store.keyhash import key_hash
from guestsync.testing.quality import pairwise_quality


class UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, a: int) -> int:
        parent = self.parent
        root = a
        while parent[root] != root:
            root = parent[root]
        while parent[a] != root:
            parent[a], a = root, parent[a]
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


class Phases:
    """CPU seconds by phase (time.process_time)."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = {}
        self._t = time.process_time()

    def done(self, name: str) -> None:
        now = time.process_time()
        self.spent[name] = self.spent.get(name, 0.0) + now - self._t
        self._t = now


# A key over its cap by records is tried (its records' pairs scored) when they make at
# most this many times its cap groups so far.
SETTLE = 4


def settles_within(
    found: list[int], limit: int, uf: UnionFind, merges: Callable[[int, int], bool]
) -> bool:
    """Whether the records holding a key, once the pairs among them that merge are joined,
    are at most `limit` groups: the key is then used, as the lane used it while it held
    no more guests than its cap (in the lane's order its guests merged as they came)."""
    roots = {uf.find(d) for d in found}
    if len(roots) <= limit:
        return True
    if len(roots) > SETTLE * limit:
        return False
    local = {r: r for r in roots}

    def top(r: int) -> int:
        while local[r] != r:
            r = local[r]
        return r

    for i, a in enumerate(found):
        for b in found[i + 1 :]:
            ra, rb = top(uf.find(a)), top(uf.find(b))
            if ra != rb and merges(a, b):
                local[max(ra, rb)] = min(ra, rb)
    return len({top(r) for r in roots}) <= limit


def group_rows(
    uf: UnionFind,
    of_row: Sequence[int],
    feats: Callable[[int], Features],
    rows_of: Callable[[list[int]], list[tuple[int, str, int]]],
    scorer: Scorer,
) -> tuple[array, int, int]:
    """Each row's group: the component of its record, except where names differ within
    one, which `cluster` decides again as the lane's regrouping does, over every row of
    it ((row, ref, record) from `rows_of`: a record's second booking, later in ref order,
    may join groups the first did not). Also how many groups, and how many clustered."""
    n = len(uf.parent)
    members: defaultdict[int, list[int]] = defaultdict(list)
    for d in range(n):
        members[uf.find(d)].append(d)
    group = array("l", bytes(8 * n))
    by_row: dict[int, int] = {}  # the rows of clustered groups
    count = clustered = 0
    for ds in members.values():
        linked: list[tuple[int, str, int]] = []
        if len(ds) > 1 and identity.differs_within({form(feats(d), "name") for d in ds}, scorer):
            linked = rows_of(ds)
        if 0 < len(linked) <= RECORDS:
            clustered += 1
            row_of = {ref: i for i, ref, _ in linked}
            for part in identity.cluster([(ref, feats(d)) for _, ref, d in linked], scorer):
                by_row.update((row_of[ref], count) for ref in part)
                count += 1
        else:
            for d in ds:
                group[d] = count
            count += 1
    return array("l", (by_row.get(i, group[d]) for i, d in enumerate(of_row))), count, clustered


def read_rows(db: Path) -> list[tuple[str, str]]:
    """(ref text, features JSON) of every linked record, in no set order."""
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT source || ':' || stream || ':' || external_id, features FROM guest_links"
        ).fetchall()


def setwise(
    rows: list[tuple[str, str]], config: IdentityConfig, phases: Phases
) -> tuple[list[int], set[tuple[int, int]]]:
    """A group number for each row: the set-based resolution this bench measures. And the
    pairs of groups a set-based review queue would hold (`review_pairs`: the pairs above
    "distinct" are kept as they are scored, a list append each within the timed phases)."""
    scorer = Scorer(config)
    blocking = set(config.blocking)
    cap, caps = config.max_candidates_per_key, config.key_caps()

    # distinct records: each features JSON parsed once
    index: dict[str, int] = {}
    of_row = [index.setdefault(f, len(index)) for _, f in rows]
    feats: list[Features] = [json.loads(f) for f in index]
    del index
    phases.done("distinct + parse")

    # blocking: who holds each key (stored keys), and what each record looks up by
    holders: defaultdict[Key, list[int]] = defaultdict(list)
    probes: list[tuple[Key, ...]] = []
    for d, f in enumerate(feats):
        for k in keys_for(f):
            holders[k].append(d)
        probes.append(tuple(k for k in lookup_keys(f) if k[0] in blocking))
    phases.done("keys (the mapping worker's)")

    scored = Scored(len(feats), scorer, feats.__getitem__, near=True)
    uf = scored.uf

    def link(usable: Callable[[Key, list[int]], bool]) -> None:
        """Score each new pair of records meeting on a usable key; union those merging."""
        for a, keys in enumerate(probes):
            for k in keys:
                found = holders.get(k)
                if found and usable(k, found):
                    for b in found:
                        scored.pair(a, b)

    # a key is used while it holds no more guests than its cap: first the keys whose
    # records alone are within it, then those whose groups so far are
    def limit(k: Key) -> int:
        return caps.get(k[0], cap)

    link(lambda k, found: len(found) <= limit(k))
    phases.done("score pairs (keys within cap by records)")
    more = {
        k
        for k, found in holders.items()
        if len(found) > limit(k) and settles_within(found, limit(k), uf, scored.merges)
    }
    link(lambda k, found: k in more)
    phases.done("score pairs (keys within cap by groups)")

    # through a group: a record scores a merge with one that only the keys of another
    # record of its group find (the lane's Neighbourhood.through), to a fixed point
    def usable(k: Key) -> bool:
        found = holders.get(k)
        return bool(found) and (len(found) <= limit(k) or k in more)

    changed = True
    while changed:
        changed = False
        members: defaultdict[int, list[int]] = defaultdict(list)
        for d in range(len(feats)):
            members[uf.find(d)].append(d)
        for ds in members.values():
            if len(ds) == 1:
                continue
            mine = set(ds)
            near = {b for d in ds for k in probes[d] if usable(k) for b in holders[k]} - mine
            for a in ds:
                for b in near:
                    changed = scored.pair(a, b) or changed
    phases.done("score pairs (through a group)")

    refs: defaultdict[int, list[tuple[int, str]]] = defaultdict(list)
    for i, ((ref, _), d) in enumerate(zip(rows, of_row, strict=True)):
        refs[d].append((i, ref))
    groups, count, clustered = group_rows(
        uf,
        of_row,
        feats.__getitem__,
        lambda ds: [(i, r, d) for d in ds for i, r in refs[d]],
        scorer,
    )
    phases.done("components + cluster")
    print(
        f"  in-memory: distinct records {len(feats):,}, keys {len(holders):,},"
        f" pairs scored {scored.count:,}, groups {count:,} ({clustered:,} clustered)",
        file=sys.stderr,
    )
    group_of = {d: groups[i] for i, d in enumerate(of_row)}
    return list(groups), review_pairs(scored.near or [], group_of)


def review_pairs(near: Iterable[tuple[int, int]], group_of: dict[int, int]) -> set[tuple[int, int]]:
    """The pairs of groups a review queue defined on the final groups would hold: those
    with a pair of records that scores a review, or a merge that a guard rule or
    `cluster` kept apart. (One item per pair of guests; the lane adds one per record
    whose arrival met such a guest and merged with nobody.)"""
    return {unordered(group_of[a], group_of[b]) for a, b in near if group_of[a] != group_of[b]}


def unordered(x: int, y: int) -> tuple[int, int]:
    return (x, y) if x < y else (y, x)


class Scratch:
    """What the bounded variants keep out of memory: each distinct record's features'
    JSON and each row's record number, in a scratch SQLite database (with the variant's
    own tables, whose rows it buffers too), and the features read back through a
    bounded cache."""

    def __init__(self, path: Path, schema: str = "", cache_mib: int = 2) -> None:
        self.db = sqlite3.connect(path, isolation_level=None)
        for pragma in (
            "journal_mode = OFF",
            "synchronous = OFF",
            f"cache_size = -{cache_mib << 10}",
        ):
            self.db.execute(f"PRAGMA {pragma}")
        self.db.executescript(
            "CREATE TABLE recs (d INTEGER PRIMARY KEY, f TEXT);"
            "CREATE TABLE rowmap (i INTEGER PRIMARY KEY, ref TEXT, d INTEGER);" + schema
        )
        self.buffers: dict[str, list[tuple[Any, ...]]] = {"recs": [], "rowmap": []}
        self.of_row = array("l")  # each row's distinct record
        self._cache: dict[int, Features] = {}

    def records(self, db: Path) -> Iterator[tuple[int, Features]]:
        """(number, features) of each distinct record of `db`'s links, streamed in
        (source, stream, external id) order; every row is numbered and kept."""
        distinct: dict[int, int] = {}  # hash of the features' JSON -> record number
        rows, of_row = self.buffers["rowmap"], self.of_row
        src = sqlite3.connect(db)
        for ref, fj in src.execute(
            "SELECT source || ':' || stream || ':' || external_id, features FROM guest_links"
            " ORDER BY source, stream, external_id"
        ):
            h = hash(fj)
            d = distinct.get(h)
            if d is None:
                d = distinct[h] = len(distinct)
                self.buffers["recs"].append((d, fj))
                yield d, json.loads(fj)
            rows.append((len(of_row), ref, d))
            of_row.append(d)
            if len(rows) >= 50_000:
                self.flush()
        self.flush()
        src.close()

    def flush(self) -> None:
        self.db.execute("BEGIN")
        for table, rows in self.buffers.items():
            if rows:
                marks = ", ".join("?" * len(rows[0]))
                self.db.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
                rows.clear()
        self.db.execute("COMMIT")

    def feats(self, d: int) -> Features:
        f = self._cache.get(d)
        if f is None:
            if len(self._cache) >= 20_000:
                self._cache.clear()
            (fj,) = self.db.execute("SELECT f FROM recs WHERE d = ?", (d,)).fetchone()
            f = self._cache[d] = json.loads(fj)
        return f

    def finish(self, label: str, scored: Scored, scorer: Scorer, phases: Phases) -> array:
        """Each row's group (its records' component; `cluster` over the rows of one whose
        names differ, as `setwise`), in the order the rows were streamed."""

        def rows_of(ds: list[int]) -> list[tuple[int, str, int]]:
            ins = ",".join(map(str, ds))
            return self.db.execute(f"SELECT i, ref, d FROM rowmap WHERE d IN ({ins})").fetchall()

        groups, count, clustered = group_rows(scored.uf, self.of_row, self.feats, rows_of, scorer)
        phases.done("components + cluster")
        self.db.close()
        print(
            f"  {label}: distinct records {len(scored.uf.parent):,}, pairs scored"
            f" {scored.count:,}, groups {count:,}"
            f" ({clustered:,} clustered)",
            file=sys.stderr,
        )
        return groups


class Scored:
    """Each pair of distinct records scored once; those merging joined."""

    def __init__(
        self, n: int, scorer: Scorer, feats: Callable[[int], Features], *, near: bool = False
    ) -> None:
        self.uf = UnionFind(n)
        self.done: set[int] = set()
        self.count = 0
        self._outcome, self._score, self._feats = scorer.outcome, scorer.score, feats
        # with `near`: the pairs scoring a merge or a review (a set-based review queue is
        # made of those whose records end in different groups: `review_pairs`)
        self.near: list[tuple[int, int]] | None = [] if near else None

    def outcome(self, a: int, b: int) -> str:
        return self._outcome(self._score(self._feats(a), self._feats(b)))

    def merges(self, a: int, b: int) -> bool:
        return self.outcome(a, b) == MERGE

    def pair(self, a: int, b: int) -> bool:
        """Score the pair (once); whether they merged now."""
        x = a << 32 | b if a < b else b << 32 | a
        if a == b or x in self.done:
            return False
        self.done.add(x)
        self.count += 1
        outcome = self.outcome(a, b)
        if self.near is not None and outcome != DISTINCT:
            self.near.append((a, b))
        if outcome == MERGE:
            self.uf.union(a, b)
            return True
        return False


def setwise_bounded(db: Path, config: IdentityConfig, phases: Phases, work: Path) -> array:
    """`setwise` with bounded memory: the keys, the records' features and the pairs in a
    scratch SQLite database (joined and grouped there), and in memory only the union-find
    over distinct records and a bounded cache of parsed features. Returns the group of
    each of `db`'s links, in (source, stream, external id) order."""
    scorer = Scorer(config)
    blocking = set(config.blocking)
    cap, caps = config.max_candidates_per_key, config.key_caps()
    bound_memo(MAIN_MEMO)  # as the import bounds it
    scratch = Scratch(
        work / "setwise.db",
        "CREATE TABLE held (key INTEGER, d INTEGER, lim INTEGER);"
        "CREATE TABLE probe (key INTEGER, d INTEGER);",
        cache_mib=64,
    )
    held = scratch.buffers["held"] = []
    probe = scratch.buffers["probe"] = []
    keys_cpu, n = 0.0, 0
    for d, f in scratch.records(db):
        started = time.process_time()
        held.extend((key_hash(*k), d, caps.get(k[0], cap)) for k in keys_for(f))
        probe.extend((key_hash(*k), d) for k in lookup_keys(f) if k[0] in blocking)
        keys_cpu += time.process_time() - started
        n = d + 1
    phases.done("read, distinct, scratch tables")
    # what the mapping worker hands over already (Prepared keys, hashes: handover.py)
    phases.spent["read, distinct, scratch tables"] -= keys_cpu
    phases.spent["keys + hashes (the mapping worker's)"] = keys_cpu

    tmp = scratch.db
    tmp.executescript(
        "CREATE INDEX held_key ON held (key, d);"
        "CREATE TABLE cnt (key INTEGER PRIMARY KEY, n INTEGER, lim INTEGER);"
        "INSERT INTO cnt SELECT key, count(*), max(lim) FROM held GROUP BY key;"
        "CREATE INDEX probe_d ON probe (d, key);"
        "CREATE INDEX rowmap_d ON rowmap (d);"
    )
    phases.done("index + count keys")

    scored = Scored(n, scorer, scratch.feats)
    uf = scored.uf
    for a, b in tmp.execute(
        # (CROSS JOIN: in this order; most probe keys are in no other record)
        "SELECT DISTINCT min(p.d, h.d), max(p.d, h.d) FROM probe p"
        " CROSS JOIN cnt c ON c.key = p.key CROSS JOIN held h ON h.key = p.key"
        " WHERE c.n <= c.lim AND h.d != p.d"
    ):
        scored.pair(a, b)
    phases.done("score pairs (keys within cap by records)")
    more = [
        (key,)
        for key, lim, ds in tmp.execute(
            "SELECT key, lim, group_concat(d) FROM held WHERE key IN"
            " (SELECT key FROM cnt WHERE n > lim) GROUP BY key"
        )
        if settles_within([int(d) for d in ds.split(",")], lim, uf, scored.merges)
    ]
    tmp.executescript(
        "CREATE TABLE usable (key INTEGER PRIMARY KEY);"
        "INSERT INTO usable SELECT key FROM cnt WHERE n <= lim;"
    )
    tmp.executemany("INSERT INTO usable VALUES (?)", more)
    for a, b in tmp.execute(
        "SELECT DISTINCT min(p.d, h.d), max(p.d, h.d) FROM probe p"
        " JOIN held h ON h.key = p.key WHERE h.d != p.d"
        " AND p.key IN (SELECT key FROM cnt WHERE n > lim)"
        " AND p.key IN (SELECT key FROM usable)"
    ):
        scored.pair(a, b)
    phases.done("score pairs (keys within cap by groups)")

    def multi(roots: set[int] | None = None) -> dict[int, list[int]]:
        members: defaultdict[int, list[int]] = defaultdict(list)
        for d in range(n):
            r = uf.find(d)
            if roots is None or r in roots:
                members[r].append(d)
        return {r: ds for r, ds in members.items() if len(ds) > 1}

    todo = multi()
    while todo:  # through a group, to a fixed point
        tmp.execute("DROP TABLE IF EXISTS comp")
        tmp.execute("CREATE TABLE comp (d INTEGER PRIMARY KEY, root INTEGER)")
        comp = ((d, r) for r, ds in todo.items() for d in ds)
        tmp.executemany("INSERT INTO comp VALUES (?, ?)", comp)
        near: defaultdict[int, set[int]] = defaultdict(set)
        for root, d in tmp.execute(
            "SELECT DISTINCT c.root, h.d FROM comp c CROSS JOIN probe p ON p.d = c.d"
            " CROSS JOIN usable u ON u.key = p.key CROSS JOIN held h ON h.key = p.key"
        ):
            near[root].add(d)
        changed = set()
        for root, ds in todo.items():
            others = near[root].difference(ds)
            for a in ds:
                for b in others:
                    if scored.pair(a, b):
                        changed.add(root)
        if not changed:
            break
        todo = multi({uf.find(c) for c in changed})
    phases.done("score pairs (through a group)")

    return scratch.finish("bounded", scored, scorer, phases)


D_BITS = 20  # distinct records numbered below 2**20 in the compact variant
D_MASK = (1 << D_BITS) - 1
# 39 bits of a key's hash: all 32 of the whole key's, 7 of its group's (store/keyhash.py:
# its high bits alone would make one key of every key of a name). Two keys sharing them
# (~7 pairs in 2.75M keys) only add candidates.
KEY_MASK = (1 << 39) - 1


def setwise_compact(db: Path, config: IdentityConfig, phases: Phases, work: Path) -> array:
    """`setwise` in bounded memory without a scratch index: each record's keys as 64-bit
    integers (39 bits of the key's hash, its cap's code, the record's number) in two
    arrays sorted once, and merge-joined in memory for each pass; the features' JSON in a
    scratch table read through a bounded cache. Returns the group of each of `db`'s
    links, in (source, stream, external id) order."""
    scorer = Scorer(config)
    blocking = set(config.blocking)
    cap, caps = config.max_candidates_per_key, config.key_caps()
    limits = sorted({cap, *caps.values()})
    code = {lim: i for i, lim in enumerate(limits)}
    bound_memo(MAIN_MEMO)
    scratch = Scratch(work / "compact.db")
    held = array("q")  # key << 24 | cap code << 20 | record
    probe = array("q")  # key << 20 | record
    keys_cpu, n = 0.0, 0
    for d, f in scratch.records(db):
        assert d <= D_MASK, "the compact variant numbers up to 2**20 distinct records"
        started = time.process_time()
        for k in keys_for(f):
            held.append((key_hash(*k) & KEY_MASK) << 24 | code[caps.get(k[0], cap)] << 20 | d)
        for k in lookup_keys(f):
            if k[0] in blocking:
                probe.append((key_hash(*k) & KEY_MASK) << 20 | d)
        keys_cpu += time.process_time() - started
        n = d + 1
    phases.done("read, distinct, scratch table")
    phases.spent["read, distinct, scratch table"] -= keys_cpu
    phases.spent["keys + hashes (the mapping worker's)"] = keys_cpu
    scratch.db.execute("CREATE INDEX rowmap_d ON rowmap (d)")
    held = array("q", sorted(held))
    probe = array("q", sorted(probe))
    phases.done("sort the key arrays")

    def keys() -> Iterator[tuple[int, int, list[int], list[int]]]:
        """(key, cap, holders, probers) of every key some record probes and another
        holds or probes: the sorted arrays merge-joined."""
        i = j = 0
        nh, np_ = len(held), len(probe)
        while i < nh and j < np_:
            kh, kp = held[i] >> 24, probe[j] >> 20
            if kh < kp:
                i += 1
                continue
            if kp < kh:
                j += 1
                continue
            lim = limits[held[i] >> 20 & 0xF]
            hs = []
            while i < nh and held[i] >> 24 == kh:
                hs.append(held[i] & D_MASK)
                i += 1
            ps = []
            while j < np_ and probe[j] >> 20 == kh:
                ps.append(probe[j] & D_MASK)
                j += 1
            if len(hs) > 1 or ps != hs:
                yield kh, lim, hs, ps

    scored = Scored(n, scorer, scratch.feats)
    uf, pair = scored.uf, scored.pair
    found = sorted(
        {
            min(a, b) << 32 | max(a, b)
            for _, lim, hs, ps in keys()
            if len(hs) <= lim
            for a in ps
            for b in hs
            if a != b
        }
    )
    phases.done("merge-join: pairs")
    for x in found:
        pair(x >> 32, x & 0xFFFFFFFF)
    del found
    phases.done("score pairs (keys within cap by records)")
    # (which keys settle is decided on pass 1's groups, then their pairs are scored)
    more = {
        kh
        for kh, lim, hs, _ in keys()
        if len(hs) > lim and settles_within(hs, lim, uf, scored.merges)
    }
    for kh, _, hs, ps in keys():
        if kh in more:
            for a in ps:
                for b in hs:
                    pair(a, b)
    phases.done("score pairs (keys within cap by groups)")

    while True:  # through a group, to a fixed point
        near: defaultdict[int, set[int]] = defaultdict(set)
        for kh, lim, hs, ps in keys():
            if len(hs) > lim and kh not in more:
                continue
            roots = {uf.find(d) for d in ps}
            for b in hs:
                rb = uf.find(b)
                for r in roots:
                    if r != rb:
                        near[r].add(b)
        members: defaultdict[int, list[int]] = defaultdict(list)
        for d in range(n):
            if (r := uf.find(d)) in near:
                members[r].append(d)
        before = scored.count
        for r, bs in near.items():
            if len(ds := members[r]) > 1:
                for a in ds:
                    for b in bs:
                        pair(a, b)
        if scored.count == before:
            break
    phases.done("score pairs (through a group)")

    return scratch.finish("compact", scored, scorer, phases)


def agreement(a: Iterable[Any], b: Iterable[Any]) -> dict[str, float]:
    """Pairwise precision, recall and F1 of grouping `b` against `a` (same rows, same
    order: testing.quality's), and the share of `a`'s groups that `b` has exactly."""
    a, b = list(a), list(b)
    out = pairwise_quality(dict(enumerate(b)), dict(enumerate(a)))
    both = Counter(zip(a, b, strict=True))
    size_a, size_b = Counter(a), Counter(b)
    same = sum(1 for (x, y), n in both.items() if size_a[x] == n == size_b[y])
    return out | {"groups_a": len(size_a), "groups_b": len(size_b), "identical": same / len(size_a)}


def child_synthetic(people: int, seed: int, db: Path) -> None:
    """The bulk lane resolves synthetic.rows (typos, households on one phone, cross-script
    names) into a new store at `db`; the truth goes beside it, as truth.json."""
    from guestsync.models import SourceRecord
    from guestsync.process.batch import process_pending
    from guestsync.store import Store
    from guestsync.testing.records import RecordMapping, inbox_entries
    from guestsync.testing.synthetic import rows, to_record

    records: list[SourceRecord] = []
    truth: dict[str, int] = {}
    for row, person in rows(people, 3.0, seed=seed):
        records.append(to_record(row))
        truth[f"{row['source']}:guests:{row['id']}"] = person
    store = Store.open(db)
    with store.atomic():
        store.add_to_inbox(inbox_entries(records, origin="bench"))
    started, t0 = time.process_time(), time.perf_counter()
    process_pending(store, lambda s, st: RecordMapping(), {}, batch_size=3000, bulk=True)  # type: ignore[arg-type,return-value]
    cpu, wall = time.process_time() - started, time.perf_counter() - t0
    guests = store.count_guests()
    store.close()
    db.with_name("truth.json").write_text(json.dumps(truth))
    print(json.dumps({"cpu": cpu, "seconds": wall, "guests": guests, "tree_rss_mb": 0.0}))


def show_differences(rows: list[tuple[str, str]], lane: list[str], groups: list[int]) -> None:
    """To stderr: each lane guest whose rows this grouping does not hold as one group,
    with its records' features and the groups they went to."""
    by_lane: defaultdict[str, list[int]] = defaultdict(list)
    for i, g in enumerate(lane):
        by_lane[g].append(i)
    size = Counter(groups)
    for g, idx in by_lane.items():
        mine = {groups[i] for i in idx}
        if len(mine) == 1 and size[groups[idx[0]]] == len(idx):
            continue
        print(f"lane guest {g}:", file=sys.stderr)
        for i in sorted(idx, key=lambda i: rows[i][0]):
            print(f"   group {groups[i]:>6} {rows[i][0]:<28} {rows[i][1]}", file=sys.stderr)


def child(db: Path, variant: str) -> None:
    phases = Phases()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if variant != "in-memory":  # (they stream the links: reading is their first phase)
        resolve = setwise_bounded if variant == "bounded" else setwise_compact
        groups: Any = resolve(db, IdentityConfig(), phases, db.parent)
    else:
        rows = read_rows(db)
        phases.done("read")
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        groups, reviews = setwise(rows, IdentityConfig(), phases)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with sqlite3.connect(db) as conn:  # untimed: the lane's guests, in the same order
        lane = dict(
            conn.execute(
                "SELECT source || ':' || stream || ':' || external_id, guest_id FROM guest_links"
                " ORDER BY source, stream, external_id"  # as Scratch.records streams them
            ).fetchall()
        )
    if variant != "in-memory":
        rows = [(r, "") for r in lane]
    n = len(rows)
    if os.environ.get("BENCH_SETWISE_DIFF"):  # the lane's guests split or joined here
        show_differences(rows, [lane[r] for r, _ in rows], groups)
    truth_file = db.with_name("truth.json")
    if truth_file.exists():
        truth = json.loads(truth_file.read_text())
        true = [truth[r] for r, _ in rows]
        scores = {
            "lane vs truth": agreement(true, [lane[r] for r, _ in rows]),
            "set-based vs truth": agreement(true, groups),
        }
    else:
        scores = {}
    out = {
        "rows": n,
        "truth": scores,
        "queues": queues(db, rows, groups, reviews) if variant == "in-memory" else {},
        "phases": phases.spent,
        "rss_before_mb": rss_before,
        "peak_rss_mb": peak,
        "agreement": agreement([lane[r] for r, _ in rows], groups),
    }
    print(json.dumps(out))


def queues(
    db: Path, rows: list[tuple[str, str]], groups: list[int], reviews: set[tuple[int, int]]
) -> dict[str, int]:
    """What stands between the lane and a set-based one beside the guests: the lane's
    merges rows (guests its order made, then joined) and review items, against the
    review pairs defined on the final groups. A lane item is a pair of the groups its
    record and candidate are in now (the same group: merged since)."""
    group = {ref: g for (ref, _), g in zip(rows, groups, strict=True)}
    with sqlite3.connect(db) as conn:
        merges = conn.execute("SELECT count(*) FROM merges").fetchone()[0]
        items = conn.execute(
            "SELECT record_ref, candidate_ref, status FROM review_queue"
        ).fetchall()
    lane: set[tuple[int, int]] = set()
    joined = 0
    for a, b, _ in items:
        x, y = group[a], group[b]
        if x == y:
            joined += 1
        else:
            lane.add(unordered(x, y))
    return {
        "lane merges rows": merges,
        "lane review items": len(items),
        "open": sum(status == "open" for _, _, status in items),
        "lane items now within one guest": joined,
        "lane review pairs of guests": len(lane),
        "set-based review pairs": len(reviews),
        "in both": len(lane & reviews),
    }


def run_variant(db: Path, variant: str) -> dict[str, Any]:
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, __file__, "--child", str(db), variant],
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    )
    out: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return out | {"wall": time.perf_counter() - t0}


def report(variant: str, proto: dict[str, Any], lane: dict[str, Any] | None) -> None:
    n = proto["rows"]
    resolve = sum(proto["phases"].values())
    print(
        f"  set-based resolution, {variant}: CPU {resolve:.1f}s ({resolve / n * 1e6:.0f} us/row),"
        f" wall {proto['wall']:.1f}s, peak RSS {proto['peak_rss_mb']:.0f} MB"
        f" ({proto['rss_before_mb']:.0f} MB before resolving)"
    )
    for name, s in proto["phases"].items():
        print(f"    {name:<42} {s:7.2f}s {s / n * 1e6:6.1f} us/row")
    a = proto["agreement"]
    print(
        f"    agreement with the lane: pairwise precision {a['precision']:.4f},"
        f" recall {a['recall']:.4f}; guests {a['groups_a']:,} (lane) vs {a['groups_b']:,},"
        f" {a['identical']:.2%} of the lane's identical"
    )
    for name, t in proto["truth"].items():
        print(
            f"    {name}: pairwise precision {t['precision']:.4f}, recall {t['recall']:.4f},"
            f" F1 {t['f1']:.4f}"
        )
    if proto["queues"]:
        print(
            "    merges and reviews: " + ", ".join(f"{k} {v:,}" for k, v in proto["queues"].items())
        )
    if lane is not None:
        print(f"    ratio: its CPU / the lane's {resolve / lane['cpu']:.3f}")


def main() -> None:
    args = sys.argv[1:]
    if args[:1] == ["--child"]:
        child(Path(args[1]), args[2])
        return
    if args[:1] == ["--child-synthetic"]:
        child_synthetic(int(args[1]), int(args[2]), Path(args[3]))
        return
    synthetic = "--synthetic" in args
    seed = int(args[args.index("--seed") + 1]) if "--seed" in args else 1
    store = Path(args[args.index("--store") + 1]) if "--store" in args else None
    sizes = [a for i, a in enumerate(args) if a.isdigit() and args[i - 1 : i] != ["--seed"]]
    n = int(sizes[0]) if sizes else 200_000
    every = ("in-memory", "bounded", "compact")
    variants = [v for v in every if f"--{v}" in args] or list(every)
    lane: dict[str, Any] | None = None
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bulk" / "hub.db"
        if store is not None:  # a store the lane made earlier: its guests, no lane CPU
            db.parent.mkdir()
            shutil.copy(store, db)
        elif synthetic:  # n rows of about n / 3 people
            db.parent.mkdir()
            built = subprocess.run(
                [sys.executable, __file__, "--child-synthetic", str(n // 3), str(seed), str(db)],
                stdout=subprocess.PIPE,
                text=True,
                check=True,
            )
            lane = json.loads(built.stdout.strip().splitlines()[-1])
        else:
            csv_path = Path(tmp) / "bookings.csv"
            make_csv(csv_path, n)
            lane = run_child("bulk", csv_path, db.parent)
        runs = {v: run_variant(db, v) for v in variants}
    rows = next(iter(runs.values()))["rows"]
    what = f"synthetic, seed {seed}" if synthetic else "bench_csv_import's file"
    print(f"rows: {rows:,} ({what})")
    if lane is not None:
        part = "its resolution" if synthetic else "the whole import, in one process"
        print(
            f"  bulk lane ({part}): CPU {lane['cpu']:.1f}s ({lane['cpu'] / rows * 1e6:.0f}"
            f" us/row), wall {lane['seconds']:.1f}s, {lane['guests']:,} guests"
        )
    for variant, proto in runs.items():
        report(variant, proto, lane)


if __name__ == "__main__":
    main()
