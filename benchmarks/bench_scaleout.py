"""Scale-out on PostgreSQL (issue #22): webhook accepts/s and drain rows/s with 1, 2 and
4 processes sharing one PostgreSQL database, against the SQLite single-process figure in
the same run.

Accepts: `guestsync serve --no-worker` nodes (1, 2, 4 on PostgreSQL; on SQLite one node
with one intake process, `--workers 1`), signed bookings of distinct new guests POSTed
for DURATION seconds by wrk (16 connections in all, split across the nodes, as a load
balancer would); accepts/s = event ids committed in the store / wrk's duration.

Drain: the same DRAIN_ROWS webhooks put in the inbox (add_webhook_events, as intake does),
then 1, 2, 4 worker processes each run serve's worker code (serve/worker.py, delivery
paused: inbox -> outbox) until nothing is left; rows/s = rows / wall time from the start
barrier to the last worker's end. On SQLite one worker process.

CPU seconds beside wall: the serve nodes' process trees; the workers' own and, on
PostgreSQL, their server backends' (read from /proc: a server on this machine). The
machine is shared: wall figures follow the share of the 2 cores these processes get,
the CPU seconds per row what the work costs. Each figure is the median of ROUNDS rounds.
Usage: bench_scaleout.py [ROUNDS] [DURATION] [DRAIN_ROWS]   (default 3, 5 s, 4000)
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
from bench_pg_import import backend_cpu, server_url
from bench_pg_workers import run_together
from bench_webhooks import (
    CONFIG,
    CONNECTIONS,
    LUA,
    body,
    free_port,
    tree_cpu,
    wait_http,
    write_bodies,
)

from guestsync.config import load_config
from guestsync.metrics import Metrics
from guestsync.models import InboxEntry
from guestsync.serve.worker import Worker, serve_worker_hub
from guestsync.store import open_store
from guestsync.store.intake import IntakeFile, intake_path
from guestsync.sync_engine import Hub

WORKERS = (1, 2, 4)
WRK = ["wrk", "-t1", "--timeout", "10s"]


def config_text(store: str) -> str:
    where = f"{{url: '{store}'}}" if store.startswith("postgresql") else f"{{path: {store}}}"
    return CONFIG.replace("{path: hub.db}", where).replace("CRM_URL", "http://127.0.0.1:9")


def start_node(cfg: Path, *, intake_processes: int | None = None) -> tuple[subprocess.Popen, str]:
    cmd = [sys.executable, "-m", "guestsync.cli", "-c", str(cfg), "serve", "--no-worker"]
    cmd += ["--port", str(free_port())]
    if intake_processes is not None:
        cmd += ["--workers", str(intake_processes)]
    env = {**os.environ, "COLUMNS": "200", "GUESTSYNC_LOG_LEVEL": "warning"}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env, cwd=cfg.parent)
    assert proc.stdout is not None
    url = proc.stdout.readline().strip().rsplit(" ", 1)[-1]
    wait_http(url)
    return proc, url


def events(store: str) -> int:
    s = open_store(store)
    try:
        return int(s._one("SELECT count(*) FROM webhook_events") or 0)
    finally:
        s.close()


def accepts(tmp: Path, store: str, nodes: int, seconds: float, first: int) -> dict[str, float]:
    """Accepts/s of `nodes` serve nodes on `store` (1 on SQLite, one intake process)."""
    cfg = tmp / f"accept-{nodes}-{first}.yaml"
    cfg.write_text(config_text(store), "utf-8")
    sqlite = not store.startswith("postgresql")
    started = [start_node(cfg, intake_processes=1 if sqlite else None) for _ in range(nodes)]
    script = tmp / "post.lua"
    script.write_text(LUA, "utf-8")
    files = []
    for k in range(nodes):  # distinct bodies per node: every POST is a new event
        f = tmp / f"bodies-{first}-{k}.txt"
        write_bodies(f, first + k * 10**6, 40_000)
        files.append(f)
    try:
        before = events(store)
        cpu0 = sum(tree_cpu(p.pid) for p, _ in started)
        t0 = time.perf_counter()
        per = max(1, CONNECTIONS // nodes)
        runs = [
            subprocess.Popen(
                [
                    *WRK,
                    f"-c{per}",
                    f"-d{round(seconds)}s",
                    "-s",
                    str(script),
                    url,
                    "--",
                    str(f),
                    "1",
                ],
                stdout=subprocess.PIPE,
                text=True,
            )
            for (_, url), f in zip(started, files, strict=True)
        ]
        for r in runs:
            r.wait()
        wall = time.perf_counter() - t0
        cpu = sum(tree_cpu(p.pid) for p, _ in started) - cpu0
        if sqlite:  # acknowledged in the intake file; moved to the store by the worker
            intake = IntakeFile.open(intake_path(store))
            got = int(intake._one("SELECT count(*) FROM webhook_events") or 0)
            intake.close()
        else:
            got = events(store) - before
    finally:
        for p, _ in started:
            p.terminate()
            p.wait(60)
    return {"rate": got / seconds, "cpu": cpu, "wall": wall}


def fill(store: str, n: int, first: int) -> None:
    s = open_store(store)
    batch = []
    for i in range(first, first + n):
        b = body(i)
        entry = InboxEntry.of(
            source="zap",
            stream="bookings",
            external_id=f"b-{i}",
            record=json.loads(b),
            origin="webhook",
        )
        batch.append(("zap", f"evt-{i}", [(entry, False)]))
        if len(batch) == 500:
            s.add_webhook_events(batch)
            batch = []
    if batch:
        s.add_webhook_events(batch)
    s.close()


def worker(cfg: str, start: Any, out: Any) -> None:
    config = load_config(cfg)
    hub = serve_worker_hub(Hub(config))
    w = Worker(hub, metrics=Metrics())
    w.paused = {t: (float("inf"), 0.0) for t in hub.targets}
    raw = getattr(hub.store.conn, "raw", None)
    pid = raw.info.backend_pid if raw is not None else 0
    server0 = backend_cpu(pid) if pid else 0.0
    start.wait()
    me0 = resource.getrusage(resource.RUSAGE_SELF)
    while w.step():
        pass
    me1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = me1.ru_utime + me1.ru_stime - me0.ru_utime - me0.ru_stime
    server = (backend_cpu(pid) - server0) if pid else 0.0
    restarts = hub.store.key_restarts
    hub.close()
    out.put((cpu, server, restarts))


def drain(tmp: Path, store: str, workers: int, rows: int) -> dict[str, float]:
    cfg = tmp / f"drain-{workers}-{uuid.uuid4().hex[:6]}.yaml"
    cfg.write_text(config_text(store), "utf-8")
    fill(store, rows, 10**8)
    wall, results = run_together(worker, str(cfg), workers)
    s = open_store(store)
    counts = s.inbox_counts()
    s.close()
    assert counts.get("done", 0) == rows, counts
    return {
        "rate": rows / wall,
        "wall": wall,
        "cpu": sum(r[0] for r in results),
        "server": sum(r[1] for r in results),
        "restarts": sum(r[2] for r in results),
    }


def median(runs: list[dict[str, float]]) -> dict[str, float]:
    return {k: statistics.median(r[k] for r in runs) for k in runs[0]}


def main() -> None:
    args = sys.argv[1:]
    rounds = int(args[0]) if args else 3
    seconds = float(args[1]) if len(args) > 1 else 5.0
    rows = int(args[2]) if len(args) > 2 else 4000
    admin_url = server_url()
    admin = psycopg.connect(admin_url, autocommit=True)
    acc: dict[str, list[dict[str, float]]] = {}
    dr: dict[str, list[dict[str, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="gs-scaleout-") as d:
        tmp = Path(d)
        for r in range(rounds):
            # SQLite: one node, one process of each kind
            lite = tmp / f"r{r}" / "hub.db"
            lite.parent.mkdir()
            acc.setdefault("sqlite", []).append(accepts(tmp, str(lite), 1, seconds, r * 10**7))
            lite2 = tmp / f"r{r}" / "drain.db"
            dr.setdefault("sqlite", []).append(drain(tmp, str(lite2), 1, rows))
            for k in WORKERS:
                for kind in ("accept", "drain"):
                    name = f"gs_bench_{uuid.uuid4().hex[:10]}"
                    admin.execute(f"CREATE DATABASE {name}")
                    url = admin_url.rsplit("/", 1)[0] + "/" + name
                    try:
                        open_store(url).close()  # migrated before the clock starts
                        if kind == "accept":
                            f = accepts(tmp, url, k, seconds, r * 10**7 + k * 10**6)
                            acc.setdefault(f"pg{k}", []).append(f)
                        else:
                            dr.setdefault(f"pg{k}", []).append(drain(tmp, url, k, rows))
                    finally:
                        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin.close()
    report(acc, dr, rounds, seconds, rows)


def report(
    acc: dict[str, list[dict[str, float]]],
    dr: dict[str, list[dict[str, float]]],
    rounds: int,
    seconds: float,
    rows: int,
) -> None:
    print(
        f"cores: {os.cpu_count()}; load average at the end: {os.getloadavg()[0]:.1f};"
        f" medians of {rounds} rounds; accepts: wrk {CONNECTIONS} connections for"
        f" {seconds:.0f} s; drain: {rows:,} webhooks, delivery paused"
    )
    base_a, base_d = median(acc["sqlite"]), median(dr["sqlite"])
    print("webhook accepts/s (durable)          rate  vs SQLite   wall  node CPU s")
    rows_a = [("SQLite, 1 node (1 intake process)", base_a)]
    rows_a += [(f"PostgreSQL, {k} node(s)", median(acc[f"pg{k}"])) for k in WORKERS]
    for label, a in rows_a:
        print(
            f"  {label:34} {a['rate']:7,.0f} {a['rate'] / base_a['rate']:8.2f}x"
            f" {a['wall']:5.1f}s {a['cpu']:6.1f}"
        )
    print(
        "drain rows/s (inbox -> outbox)         rate  vs SQLite   wall  worker CPU s"
        "  server CPU s  CPU ms/row  restarts"
    )
    rows_d = [("SQLite, 1 worker process", base_d)]
    rows_d += [(f"PostgreSQL, {k} worker process(es)", median(dr[f"pg{k}"])) for k in WORKERS]
    for label, f in rows_d:
        server = f.get("server", 0.0)
        print(
            f"  {label:34} {f['rate']:7,.0f} {f['rate'] / base_d['rate']:8.2f}x"
            f" {f['wall']:5.1f}s {f['cpu']:12.1f}  {server:12.1f}"
            f"  {1000 * (f['cpu'] + server) / rows:10.2f}  {f.get('restarts', 0):8.0f}"
        )
    one, two = median(dr["pg1"]), median(dr["pg2"])
    a1, a2 = median(acc["pg1"]), median(acc["pg2"])
    print(
        f"scaling 1 -> 2 on PostgreSQL: drain {two['rate'] / one['rate']:.2f}x"
        f" (CPU per row {(two['cpu'] + two['server']) / (one['cpu'] + one['server']):.2f}x),"
        f" accepts {a2['rate'] / a1['rate']:.2f}x"
    )


if __name__ == "__main__":
    main()
