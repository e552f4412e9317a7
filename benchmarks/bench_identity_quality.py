"""Identity resolution quality per category of guest, before and after, in one run.

Generates the extended synthetic data (guestsync.testing.synthetic: Western names with
typos and no contact point, numbered namesakes at one provider, reversed given names in a
family, impossible birthdays, Latin names that read as pinyin, short-token typos, plus the
classic CJK / romanized / family-phone mix), resolves every record into a fresh SQLite
store as the process stage does (batches of 500 per transaction), and prints pairwise
precision / recall / F1 per category and overall against the ground truth.

"before" is the model of another git revision (default: where this branch left main),
run on the very same records in the same run: its `guestsync` package is extracted with
`git archive` into a temporary directory and put first on the child's PYTHONPATH. The
records cross over as SourceRecord JSON, so both models see identical input (an
impossible birthday is already dropped, as `invalid: drop` does). With several seeds the
median per figure is printed.

Usage: bench_identity_quality.py [SIZE] [--seeds 1,2,3] [--before REV|none]
(SIZE: source records, default 10000). Also: BENCH_QUALITY_JSON=path writes the figures.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BATCH = 500
T0 = datetime(2026, 1, 1, tzinfo=UTC)
FIGURES = ("precision", "recall", "f1")


def resolve_file(records_path: str, out_path: str) -> None:
    """Child: resolve the SourceRecord JSON lines of `records_path` with whatever
    `guestsync` is first on the path; write {external_id: guest_id} to `out_path`."""
    from guestsync.models import SourceRecord
    from guestsync.process.resolve import Resolver
    from guestsync.store import Store

    records = [
        SourceRecord.model_validate_json(line)
        for line in Path(records_path).read_text(encoding="utf-8").splitlines()
    ]
    t0 = time.process_time()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(Path(tmp) / "q.db")
        for b in range(0, len(records), BATCH):
            resolver = Resolver(store)
            with store.atomic():
                for i, rec in enumerate(records[b : b + BATCH], start=b):
                    resolver.resolve(rec, T0 + timedelta(seconds=i))
                for gid in resolver.live(set()):
                    resolver.refresh(gid)
        links = store.link_map()  # external_id -> guest id
        store.close()
    cpu = time.process_time() - t0
    Path(out_path).write_text(json.dumps({"links": links, "cpu_s": cpu}), encoding="utf-8")


def _extract(rev: str, into: Path) -> Path:
    """The `guestsync` package as of `rev`, extracted (no worktree, no checkout)."""
    tar = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", rev, "guestsync"],
        check=True,
        stdout=subprocess.PIPE,
    ).stdout
    with tarfile.open(fileobj=BytesIO(tar)) as t:
        t.extractall(into, filter="data")
    return into


def _model_run(records: Path, pythonpath: str | None) -> dict[str, Any]:
    out = records.with_suffix(f".{os.getpid()}.{time.monotonic_ns()}.json")
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    subprocess.run(
        [sys.executable, __file__, "--resolve", str(records), str(out)], check=True, env=env
    )
    r: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return r


def _merge_base() -> str:
    return subprocess.run(
        ["git", "-C", str(ROOT), "merge-base", "HEAD", "main"],
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    ).stdout.strip()


def measure(size: int, seed: int, before_path: str | None, tmp: Path) -> dict[str, Any]:
    from guestsync.testing.synthetic import dataset, quality_by_category, to_record

    data = dataset(max(1, int(size / 2.6)), 3.0, seed=seed)
    rows = data.rows[:size]
    truth = {r["id"]: t for r, t in rows}
    path = tmp / f"records-{seed}.jsonl"
    path.write_text(
        "".join(to_record(r).model_dump_json() + "\n" for r, _ in rows), encoding="utf-8"
    )
    models = {"after": _model_run(path, None)}
    if before_path:
        models["before"] = _model_run(path, before_path)
    out: dict[str, Any] = {}
    for name, r in models.items():
        pred = {k: r["links"].get(k, k) for k in truth}
        out[name] = {
            "quality": quality_by_category(pred, truth, data.categories),
            "cpu_us_per_record": 1e6 * r["cpu_s"] / len(rows),
        }
    return out


def main(argv: list[str]) -> None:
    if argv[:1] == ["--resolve"]:
        resolve_file(argv[1], argv[2])
        return
    size, seeds, before = 10_000, [1], "merge-base"
    args = iter(argv)
    for a in args:
        if a == "--seeds":
            seeds = [int(x) for x in next(args).split(",")]
        elif a == "--before":
            before = next(args)
        else:
            size = int(a)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        before_path = None
        if before != "none":
            rev = _merge_base() if before == "merge-base" else before
            before_path = str(_extract(rev, tmp / "before"))
            print(f"before: guestsync at {rev[:10]}; after: this tree", flush=True)
        runs = [measure(size, s, before_path, tmp) for s in seeds]
    _report(size, seeds, runs)


def _report(size: int, seeds: list[int], runs: list[dict[str, Any]]) -> None:
    models = [m for m in ("before", "after") if m in runs[0]]
    cats = list(runs[0]["after"]["quality"])
    med: dict[str, dict[str, dict[str, float]]] = {
        m: {
            c: {k: statistics.median(r[m]["quality"][c][k] for r in runs) for k in FIGURES}
            for c in cats
        }
        for m in models
    }
    print(f"{size:,} records, seeds {seeds} (median of {len(runs)}): pairwise P / R / F1")
    head = "".join(f"{m + ' P':>10}{m + ' R':>10}{m + ' F1':>10}" for m in models)
    print(f"{'category':<12}{'pairs':>8}{head}")
    for c in cats:
        pairs = statistics.median(r["after"]["quality"][c]["true_pairs"] for r in runs)
        line = "".join(f"{med[m][c][k]:>10.4f}" for m in models for k in FIGURES)
        print(f"{c:<12}{pairs:>8.0f}{line}")
    for m in models:
        cpu = statistics.median(r[m]["cpu_us_per_record"] for r in runs)
        print(f"{m}: CPU {cpu:.0f} us/record (resolving, store included)")
    if models == ["before", "after"]:
        b, a = (statistics.median(r[m]["cpu_us_per_record"] for r in runs) for m in models)
        print(f"CPU per record after / before: {a / b:.2f}")
    if path := os.environ.get("BENCH_QUALITY_JSON"):
        Path(path).write_text(json.dumps({"size": size, "median": med}, indent=1))


if __name__ == "__main__":
    main(sys.argv[1:])
