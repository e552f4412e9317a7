"""The bulk lane's CSV import (ingest, map, resolve, outbox) on PostgreSQL vs SQLite: the
same file, in the same run, each in a child process of its own.

CPU: the child's own (client side), and on PostgreSQL also the server backend's that
served it (read from /proc, so only for a server on this machine): the database's work
moves from the client (SQLite runs in-process) to the server. Wall time is the figure
users feel. Usage: bench_pg_import.py [N ...]   (default 5000 rows)
PostgreSQL: $GUESTSYNC_BENCH_PG (a maintenance database URL), else the test server
(tests/start_postgres.sh), else postgresql://postgres@127.0.0.1:5432/postgres; a database
of its own is created and dropped.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bench_csv_import import make_csv

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = "postgresql://postgres@127.0.0.1:5432/postgres"


def server_url() -> str:
    written = ROOT / ".venv" / "pg" / "url"
    if os.environ.get("GUESTSYNC_BENCH_PG"):
        return os.environ["GUESTSYNC_BENCH_PG"]
    return written.read_text().strip() if written.is_file() else DEFAULT


def backend_cpu(pid: int) -> float:
    """CPU seconds of a local server process (utime + stime), 0 if not readable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def child(csv_path: Path, workdir: Path, store: str) -> dict:
    from guestsync.actions.import_csv import import_files
    from guestsync.config import load_config
    from guestsync.sync_engine import Hub

    cfg = workdir / "guestsync.yaml"
    where = f"{{url: {store}}}" if store.startswith("postgresql") else f"{{path: {store}}}"
    cfg.write_text(
        f"store: {where}\n"
        "sources:\n  site:\n    type: csv\n"
        f"    mapping: {ROOT / 'config' / 'mappings' / 'booking_en.yaml'}\n"
        "targets:\n  hubspot: {type: hubspot, token: x, base_url: 'http://127.0.0.1:9'}\n",
        "utf-8",
    )
    hub = Hub(load_config(cfg))
    hub.bulk = True
    raw = getattr(hub.store.conn, "raw", None)
    pid = raw.info.backend_pid if raw is not None else 0
    server0 = backend_cpu(pid) if pid else 0.0
    t0 = time.perf_counter()
    report = import_files(hub, "site", [str(csv_path)], process=True)
    elapsed = time.perf_counter() - t0
    server = backend_cpu(pid) - server0 if pid else 0.0
    assert report.process.processed > 0, report
    out = {"seconds": elapsed, "guests": hub.store.count_guests(), "server_cpu": server}
    hub.close()
    me, kids = (resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    out["cpu"] = sum(u.ru_utime + u.ru_stime for u in (me, kids))
    return out


def run_child(csv_path: Path, workdir: Path, store: str) -> dict:
    workdir.mkdir()
    res = subprocess.run(
        [sys.executable, __file__, "--child", str(csv_path), str(workdir), store],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        print(json.dumps(child(Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4])))
        return
    import psycopg

    admin_url = server_url()
    admin = psycopg.connect(admin_url, autocommit=True)
    for n in [int(a) for a in sys.argv[1:]] or [5_000]:
        name = f"gs_bench_{uuid.uuid4().hex[:10]}"
        admin.execute(f"CREATE DATABASE {name}")
        try:
            with tempfile.TemporaryDirectory() as tmp:
                csv_path = Path(tmp) / "bookings.csv"
                make_csv(csv_path, n)
                lite = run_child(csv_path, Path(tmp) / "sqlite", str(Path(tmp) / "hub.db"))
                pg_url = admin_url.rsplit("/", 1)[0] + "/" + name
                pg = run_child(csv_path, Path(tmp) / "pg", pg_url)
        finally:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        print(f"rows: {n:,}, bulk lane, import-csv with processing")
        for label, r in (("sqlite", lite), ("postgresql", pg)):
            server = f"  + server CPU {r['server_cpu']:6.1f}s" if label == "postgresql" else ""
            print(
                f"  {label:<11} wall {r['seconds']:7.1f}s {n / r['seconds']:8,.0f} rows/s"
                f"  client CPU {r['cpu']:6.1f}s{server}  {r['guests']:,} guests"
            )
        total = pg["cpu"] + pg["server_cpu"]
        print(
            f"  postgresql / sqlite: wall {pg['seconds'] / lite['seconds']:.2f}x,"
            f" CPU (client + server) {total / lite['cpu']:.2f}x;"
            f" same guests: {pg['guests'] == lite['guests']}"
        )
    admin.close()


if __name__ == "__main__":
    main()
