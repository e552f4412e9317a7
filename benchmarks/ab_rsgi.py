"""EXPERIMENT (issue 26): CPU per durable webhook of `guestsync serve --no-worker`, its
intake on granian's WSGI interface (as shipped) against the RSGI app (serve/rsgi.py),
variants alternating, PAIRS times; medians at the end.

A variant is GUESTSYNC_RSGI (0 = WSGI; 1 = RSGI, commits in one thread beside the loop;
inline = RSGI, commits on the loop) and GUESTSYNC_GRANIAN_OPTS (extra granian Server
arguments as JSON, e.g. {"loop": "uvloop"}, uvloop installed by hand), as `RSGI|OPTS`.
Load: wrk, 16 connections, signed bodies (bench_webhooks.py). CPU: the whole process
tree of serve (user + system), per row committed to the intake file.

    .venv/bin/python benchmarks/ab_rsgi.py PAIRS SECONDS ROUNDS 'RSGI|OPTS' ...
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import bench_webhooks as b


def run(variant: str, seconds: float, rounds: int, first: int) -> list[tuple[float, float]]:
    rsgi, _, opts = variant.partition("|")
    os.environ["GUESTSYNC_RSGI"] = rsgi
    os.environ["GUESTSYNC_GRANIAN_OPTS"] = opts or "{}"
    tmp = Path(tempfile.mkdtemp())
    script = tmp / "post.lua"
    script.write_text(b.LUA)
    app = b.start_guestsync(tmp, "http://127.0.0.1:9", worker=False)
    time.sleep(1)
    out = []
    try:
        for r in range(rounds):
            bodies = tmp / f"b{r}.tsv"
            b.write_bodies(bodies, (first + r) * b.POOL, b.POOL)
            before, cpu0 = b.count(app.db, app.table), b.tree_cpu(app.proc.pid)
            res = b.run_wrk(app.url, seconds, script, bodies)
            n = b.count(app.db, app.table) - before
            cpu = b.tree_cpu(app.proc.pid) - cpu0
            out.append((n / res["seconds"], cpu / n * 1e6))
            print(f"  {variant}: {out[-1][0]:.0f} POST/s, CPU/req {out[-1][1]:.1f} us", flush=True)
    finally:
        app.stop()
    return out


def main() -> None:
    pairs, seconds, rounds = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
    variants = sys.argv[4:]
    seen: dict[str, list[tuple[float, float]]] = {v: [] for v in variants}
    for p in range(pairs):
        for i, v in enumerate(variants):
            seen[v] += run(v, seconds, rounds, (p * len(variants) + i) * rounds)
    base = statistics.median(c for _, c in seen[variants[0]])
    for v, rows in seen.items():
        cpu = statistics.median(c for _, c in rows)
        rps = statistics.median(r for r, _ in rows)
        print(f"{v:40s} median {rps:6.0f} POST/s  CPU/req {cpu:6.1f} us ({cpu / base:.2f}x)")


if __name__ == "__main__":
    main()
