"""A loyalty app's points ledger through `import-csv` (bulk lane: ingest, map, resolve
each movement to its member, store it, recompute the members' balances, tiers and CRM
payloads), vs `sqlite-utils insert --csv` of the same file into a bare table, in the same
run. Rows/s, CPU seconds beside wall, peak RSS.

The members file (Traditional Chinese profile, one row per member with a tier and a
stated balance) is imported first, untimed; then the ledger (earn / redeem / expire /
adjust, each with its balance after, in time order per member) is timed.
Usage: bench_loyalty.py [MOVEMENTS MEMBERS]   (default 100000 10000; the issue's size:
1000000 100000). Each side runs in its own child process, so CPU and RSS are its own.
"""

from __future__ import annotations

import csv
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from bare import bare_insert

ROOT = Path(__file__).resolve().parent.parent
MAPPINGS = ROOT / "config" / "mappings"
SURNAMES = "陳林黃張李王吳劉蔡楊許鄭謝郭洪曾邱廖賴周"
GIVEN = ["小明", "美玲", "志強", "雅婷", "建國", "淑芬", "家豪", "怡君", "俊傑", "佩珊"]
TIERS = ["金卡", "銀卡", "一般會員"]
KINDS = ["累點"] * 6 + ["兌換", "兌換", "到期", "調整"]


def make_files(members: Path, ledger: Path, n: int, m: int, seed: int = 1) -> int:
    """Write both files; returns the members' final balances summed (the liability)."""
    rng = random.Random(seed)
    start = datetime(2025, 12, 1, 11, 0)
    balances = [rng.randrange(0, 2000) for _ in range(m)]
    with members.open("w", newline="", encoding="utf-8-sig") as fh:
        w = csv.writer(fh)
        w.writerow(["會員編號", "姓名", "手機", "會員等級", "入會日期", "目前點數", "點數更新時間"])
        for i in range(m):
            own = random.Random(i * 2654435761 + seed)
            name = SURNAMES[own.randrange(20)] + GIVEN[own.randrange(10)] + GIVEN[i % 10][0]
            phone = f"09{own.randrange(10**8):08d}"
            w.writerow([f"A{i:07d}", name, phone, rng.choice(TIERS), "2024/05/01",
                        balances[i], f"{start:%Y/%m/%d %H:%M}"])  # fmt: skip
    # movements in time order, spread over the year after the members' statement
    with ledger.open("w", newline="", encoding="utf-8-sig") as fh:
        w = csv.writer(fh)
        w.writerow(["交易編號", "會員編號", "類型", "點數", "交易後點數", "交易時間", "單號"])
        for j in range(n):
            i = rng.randrange(m)
            kind = rng.choice(KINDS)
            pts = rng.randrange(1, 300)
            delta = pts if kind == "累點" else (pts if kind == "調整" else -pts)
            balances[i] += delta
            at = start + timedelta(minutes=1 + j * 525_000 // n)
            w.writerow([f"P{j}", f"A{i:07d}", kind, pts, balances[i], f"{at:%Y/%m/%d %H:%M}",
                        f"B{j}" if kind == "累點" else ""])  # fmt: skip
    return sum(balances)


def _cpu() -> float:
    """CPU seconds of this process and its mapping workers."""
    return sum(
        u.ru_utime + u.ru_stime
        for u in (resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    )


def child_pipeline(members: Path, ledger: Path, workdir: Path) -> dict:
    from guestsync.actions.import_csv import import_files
    from guestsync.config import load_config
    from guestsync.sync_engine import Hub

    cfg = workdir / "guestsync.yaml"
    cfg.write_text(
        f"store: {{path: {workdir / 'hub.db'}}}\n"
        "crm: {tiers: {rules: {vip: {spend_12m: 30000}, senior: {visits_12m: 6}}}}\n"
        "sources:\n"
        f"  members: {{type: csv, mapping: {MAPPINGS / 'loyalty_members_zh.yaml'}}}\n"
        f"  points: {{type: csv, mapping: {MAPPINGS / 'loyalty_points_zh.yaml'}}}\n"
        "targets:\n  hubspot: {type: hubspot, token: x, base_url: 'http://127.0.0.1:9'}\n",
        "utf-8",
    )
    hub = Hub(load_config(cfg))
    hub.bulk = True
    import_files(hub, "members", [str(members)])
    before = _cpu()
    t0 = time.perf_counter()
    report = import_files(hub, "points", [str(ledger)])
    elapsed = time.perf_counter() - t0
    p = report.process
    assert p is not None and p.processed > 0, report
    out = {
        "seconds": elapsed,
        "cpu": _cpu() - before,
        "rows": report.ingest.rows,
        "rejected": p.rejected,
        "guests": hub.store.count_guests(),
        "movements": hub.store._one("SELECT count(*) FROM points_movements"),
        "liability": str(sum(v for v, _ in hub.store.points_liability().values())),
    }
    hub.close()
    return out


def run_child(kind: str, members: Path, ledger: Path, workdir: Path) -> dict:
    workdir.mkdir()
    res = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(members), str(ledger), str(workdir)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        kind, members, ledger, workdir = sys.argv[2], *map(Path, sys.argv[3:6])
        out = (
            bare_insert(ledger, workdir / "bare.db")
            if kind == "bare"
            else child_pipeline(members, ledger, workdir)
        )
        out["peak_rss_mb"] = (
            max(
                resource.getrusage(w).ru_maxrss
                for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
            )
            / 1024
        )
        print(json.dumps(out))
        return
    n, m = (int(a) for a in (sys.argv[1:3] if len(sys.argv) > 2 else (100_000, 10_000)))
    with tempfile.TemporaryDirectory() as tmp:
        members, ledger = Path(tmp) / "members.csv", Path(tmp) / "ledger.csv"
        owed = make_files(members, ledger, n, m)
        mb = ledger.stat().st_size / 1e6
        runs = {k: run_child(k, members, ledger, Path(tmp) / k) for k in ("bare", "bulk")}
    bare, bulk = runs["bare"], runs["bulk"]
    print(f"ledger: {n:,} movements for {m:,} members ({mb:.1f} MB)")
    for kind, r in runs.items():
        print(
            f"  {kind:<5} wall {r['seconds']:7.1f}s {n / r['seconds']:9,.0f} rows/s"
            f"  CPU {r['cpu']:7.1f}s {r['cpu'] / n * 1e6:6.0f} us/row"
            f"  peak RSS {r['peak_rss_mb']:5.0f} MB"
        )
    print(
        f"  stored {bulk['movements']:,} movements, {bulk['rejected']} rejected,"
        f" {bulk['guests']:,} guests; points liability {bulk['liability']}"
        f" (the file's final balances: {owed})"
    )
    print(
        f"  bulk / bare: rows/s {bare['seconds'] / bulk['seconds']:.3f}x,"
        f" CPU per row {bulk['cpu'] / bare['cpu']:.1f}x bare's"
    )


if __name__ == "__main__":
    main()
