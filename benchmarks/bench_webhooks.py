"""Durable webhook POSTs/s of `guestsync serve` against a plain Flask app, in the same run,
with the same load generator and the same signed bodies.

The reference (benchmarks/reference_app.py): Flask under gunicorn, 2 workers x 4 threads,
HMAC check, one SQLite insert per request. guestsync: `guestsync serve` as a user starts
it (intake processes: one per core; the worker on, draining what arrives meanwhile).
Bodies: bookings of distinct new guests (a name, email and phone of its own each), the
same file of signed bodies for both apps in a round, new ones each round.

Each round, for each app (in alternating order): POST for DURATION seconds with wrk
(16 connections), then GET its own /healthz the same way. Durable POST/s: rows committed
(counted in the app's database) / wrk's duration. Before the reference's turn the bench
waits until guestsync's worker has drained (so it takes no core from the reference).
CPU seconds: the app's whole process tree (utime + stime), beside the wall time, and the
whole machine's busy CPU seconds meanwhile (every process: wrk's, and any other work on
a shared machine, which the latencies also wait for).

Then the drain: 10,000 webhooks stored by `guestsync serve --no-worker`, then moved from
the intake file and processed by serve's worker code (serve/worker.py, in this process,
as serve's worker process runs it; delivery paused) while
that serve goes on answering webhooks (a trickle of new bookings from a separate process,
TRICKLE per second), timed until the intake file and the inbox are empty: rows/s from
the intake file to the outbox, CPU seconds, and where they went, per phase (wall and
CPU; a phase nested in another counts in the inner one only): move (intake file ->
inbox), map (raw JSON -> canonical records), resolve (identity features, match and write
each window, mark the inbox rows), settle (golden records, aggregates), queue (project
CRM payloads into the outbox), other (the rest of each step: claims, counts, the daily
refresh, fetch).

Load generator: wrk (Debian: apt-get install -y wrk); without it, a Python load
generator (threads, keep-alive), noted in the output: it takes more of the cores.
--drain-only: the drain alone; --no-drain: the rounds alone.
Usage: bench_webhooks.py [ROUNDS] [DURATION] [--drain-only | --no-drain]
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import os
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from guestsync.config import load_config  # noqa: E402
from guestsync.metrics import Metrics  # noqa: E402
from guestsync.process import batch  # noqa: E402
from guestsync.serve.worker import Worker, serve_worker_hub  # noqa: E402
from guestsync.store.intake import IntakeFile, intake_path  # noqa: E402
from guestsync.sync_engine import Hub  # noqa: E402
from guestsync.testing import FakeHubSpot, ServerThread  # noqa: E402

SECRET = "bench-secret"
CONNECTIONS = 16
POOL = 60_000  # bodies per round: more than either app answers in DURATION
DRAIN_ROWS = 10_000
TRICKLE = 50  # webhooks/s sent to serve while the worker drains
CONFIG = f"""\
store: {{path: hub.db}}
server: {{worker_interval: 0.2}}
sources:
  zap:
    type: webhook
    mapping: {ROOT / "config" / "mappings" / "generic_booking.yaml"}
    stream: bookings
    webhook: {{scheme: hmac, secrets: [{SECRET}], prefix: "sha256="}}
targets:
  crm:
    type: hubspot
    token: bench
    base_url: CRM_URL
"""
LUA = """\
local counter = 0
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end
function init(args)
  local path, threads = args[1], tonumber(args[2])
  reqs = {}
  local i = 0
  for line in io.lines(path) do
    if i % threads == id then
      local sig, body = line:match("([^\\t]*)\\t(.*)")
      reqs[#reqs + 1] = wrk.format("POST", "/webhooks/zap",
        {["Content-Type"] = "application/json", ["X-Signature"] = sig}, body)
    end
    i = i + 1
  end
  n = 0
end
function request()
  n = n + 1
  return reqs[((n - 1) % #reqs) + 1]
end
"""


def body(i: int) -> bytes:
    return json.dumps(
        {
            "id": f"b-{i}",
            "name": f"Guest {i}",
            "email": f"g{i}@example.com",
            "phone": f"+8869{i % 10**8:08d}",
            "start_at": "2026-12-01T19:00:00+08:00",
            "party_size": 2,
        }
    ).encode()


def signature(b: bytes) -> str:
    return "sha256=" + hmac.new(SECRET.encode(), b, hashlib.sha256).hexdigest()


def write_bodies(path: Path, first: int, n: int) -> None:
    with path.open("wb") as f:
        for i in range(first, first + n):
            b = body(i)
            f.write(signature(b).encode() + b"\t" + b + b"\n")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) of `pid` and its live descendants."""
    tick = os.sysconf("SC_CLK_TCK")
    stats: dict[int, tuple[int, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        stats[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick)
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        total += stats.get(p, (0, 0.0))[1]
        todo += [c for c, (parent, _) in stats.items() if parent == p]
    return total


def wait_http(url: str, timeout: float = 60.0) -> None:
    host, port = url.removeprefix("http://").split(":")
    deadline = time.monotonic() + timeout
    while True:
        try:
            conn = http.client.HTTPConnection(host, int(port), timeout=5)
            conn.request("GET", "/healthz")
            conn.getresponse().read()
            conn.close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def get_json(url: str, path: str) -> dict:
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    conn.request("GET", path)
    data = json.loads(conn.getresponse().read())
    conn.close()
    return data


_UNIT = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def run_wrk(url: str, seconds: float, script: Path | None, bodies: Path | None) -> dict:
    """{"rps", "seconds", "p50", "p99" (ms), "errors"} from wrk's report."""
    cmd = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{round(seconds)}s", "--latency"]
    cmd += ["--timeout", "10s"]
    if script is not None:
        cmd += ["-s", str(script), url, "--", str(bodies), "2"]
    else:
        cmd.append(url + "/healthz")
    text = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    out = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))}  # type: ignore[union-attr]
    out["seconds"] = float(re.search(r"requests in ([\d.]+)s", text).group(1))  # type: ignore[union-attr]
    for p in (50, 99):
        m = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)", text, re.M)
        out[f"p{p}"] = float(m.group(1)) * _UNIT[m.group(2)] if m else float("nan")
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    out["errors"] = float(m.group(1)) if m else 0.0
    return out


def run_python(url: str, seconds: float, bodies: Path | None) -> dict:
    """The fallback load generator: CONNECTIONS threads, keep-alive, for `seconds`."""
    host, port = url.removeprefix("http://").split(":")
    lines = bodies.read_bytes().splitlines() if bodies else []
    lat: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def client(k: int) -> None:
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        mine, bad, i = [], 0, k
        while time.perf_counter() < stop:
            t0 = time.perf_counter()
            if lines:
                sig, b = lines[i % len(lines)].split(b"\t", 1)
                headers = {"X-Signature": sig.decode(), "Content-Type": "application/json"}
                conn.request("POST", "/webhooks/zap", body=b, headers=headers)
                i += CONNECTIONS
            else:
                conn.request("GET", "/healthz")
            r = conn.getresponse()
            r.read()
            mine.append((time.perf_counter() - t0) * 1000)
            bad += not 200 <= r.status < 300
        conn.close()
        with lock:
            lat.extend(mine)
            errors[0] += bad

    t0 = time.perf_counter()
    threads = [threading.Thread(target=client, args=(k,)) for k in range(CONNECTIONS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    q = statistics.quantiles(lat, n=100)
    return {"rps": len(lat) / elapsed, "seconds": elapsed, "p50": q[49], "p99": q[98]} | {
        "errors": float(errors[0])
    }


def load(url: str, seconds: float, script: Path | None, bodies: Path | None) -> dict:
    if shutil.which("wrk"):
        return run_wrk(url, seconds, script, bodies)
    return run_python(url, seconds, bodies)


def count(db: Path, table: str) -> int:
    conn = sqlite3.connect(db, timeout=30)
    try:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    finally:
        conn.close()


class App:
    def __init__(self, name: str, proc: subprocess.Popen, url: str, db: Path, table: str) -> None:
        self.name, self.proc, self.url, self.db, self.table = name, proc, url, db, table
        self.post: list[dict] = []
        self.health: list[dict] = []
        # (cpu seconds, wall seconds, the machine's busy cpu seconds) per POST phase
        self.cpu: list[tuple[float, float, float]] = []

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(60)


def start_reference(tmp: Path) -> App:
    port = free_port()
    db = tmp / "reference.db"
    env = {**os.environ, "REF_DB": str(db), "REF_SECRET": SECRET}
    cmd = [sys.executable, "-m", "gunicorn", "-w", "2", "--threads", "4", "-k", "gthread"]
    cmd += ["-b", f"127.0.0.1:{port}", "--chdir", str(ROOT / "benchmarks"), "--log-level"]
    cmd += ["warning", "--no-control-socket", "reference_app:app"]
    proc = subprocess.Popen(cmd, env=env)
    url = f"http://127.0.0.1:{port}"
    wait_http(url)
    sqlite3.connect(db).execute(
        "CREATE TABLE IF NOT EXISTS webhooks (id INTEGER PRIMARY KEY, received_at TEXT, body BLOB)"
    ).connection.close()
    return App("plain Flask + gunicorn", proc, url, db, "webhooks")


def start_guestsync(tmp: Path, crm: str, *, worker: bool = True) -> App:
    cfg = tmp / "guestsync.yaml"
    cfg.write_text(CONFIG.replace("CRM_URL", crm), "utf-8")
    cmd = [sys.executable, "-m", "guestsync.cli", "-c", str(cfg), "serve", "--port", "0"]
    if not worker:
        cmd.append("--no-worker")
    env = {**os.environ, "COLUMNS": "200", "GUESTSYNC_LOG_LEVEL": "warning"}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env, cwd=tmp)
    assert proc.stdout is not None
    url = proc.stdout.readline().strip().rsplit(" ", 1)[-1]
    wait_http(url)
    return App("guestsync serve", proc, url, intake_path(tmp / "hub.db"), "webhook_events")


def drained(app: App, timeout: float = 300.0) -> int:
    """Wait (at most `timeout` s) until the worker moved and processed everything
    acknowledged; the rows still waiting then. A round leaves 20,000-40,000 rows, which
    take the worker 10-20 CPU s: on a busy machine a minute was not always enough, and
    the reference's turn then shared the cores with guestsync's worker."""
    deadline = time.monotonic() + timeout
    while True:
        h = get_json(app.url, "/healthz")
        left = int(h.get("intake_waiting", 0)) + int(h.get("inbox", {}).get("pending", 0))
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.5)


def machine_busy() -> float:
    """CPU seconds every core of the machine has been busy since boot (/proc/stat)."""
    with open("/proc/stat") as f:
        ticks = [int(x) for x in f.readline().split()[1:]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")  # not idle, iowait


def measure(app: App, bodies: Path, script: Path, seconds: float) -> None:
    busy0 = machine_busy()
    before, cpu0, t0 = count(app.db, app.table), tree_cpu(app.proc.pid), time.perf_counter()
    result = load(app.url, seconds, script, bodies)
    wall, cpu = time.perf_counter() - t0, tree_cpu(app.proc.pid) - cpu0
    result["durable"] = (count(app.db, app.table) - before) / result["seconds"]
    app.post.append(result)
    app.cpu.append((cpu, wall, machine_busy() - busy0))
    app.health.append(load(app.url, seconds, None, None))


TRICKLE_SCRIPT = """
import http.client, json, os, sys, time
url, bodies, rate, stop = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
host, port = url.removeprefix("http://").split(":")
conn = http.client.HTTPConnection(host, int(port), timeout=30)
lat, status = [], {}
with open(bodies, "rb") as f:
    lines = f.read().splitlines()
start = time.perf_counter()
for i, line in enumerate(lines):
    if os.path.exists(stop):
        break
    time.sleep(max(0.0, start + i / rate - time.perf_counter()))
    sig, body = line.split(b"\\t", 1)
    t0 = time.perf_counter()
    conn.request("POST", "/webhooks/zap", body=body,
                 headers={"X-Signature": sig.decode(), "Content-Type": "application/json"})
    r = conn.getresponse()
    r.read()
    lat.append((time.perf_counter() - t0) * 1000)
    status[r.status] = status.get(r.status, 0) + 1
lat = sorted(lat) or [0.0]
print(json.dumps({"sent": sum(status.values()), "status": status,
                  "p50": lat[len(lat) // 2], "p99": lat[int(len(lat) * .99)]}))
"""


class Phases:
    """Wall and CPU seconds (this process) per phase of the drain; time spent in a phase
    nested inside another counts for the inner one only."""

    def __init__(self) -> None:
        self.wall: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self._stack: list[list] = []  # [name, wall start, cpu start, wall of inner, cpu of inner]

    def wrap(self, name: str, fn):  # type: ignore[no-untyped-def]
        def timed(*a, **k):  # type: ignore[no-untyped-def]
            self._stack.append([name, time.perf_counter(), time.process_time(), 0.0, 0.0])
            try:
                return fn(*a, **k)
            finally:
                _, w0, c0, wi, ci = self._stack.pop()
                w, c = time.perf_counter() - w0, time.process_time() - c0
                self.wall[name] = self.wall.get(name, 0.0) + w - wi
                self.cpu[name] = self.cpu.get(name, 0.0) + c - ci
                if self._stack:
                    self._stack[-1][3] += w
                    self._stack[-1][4] += c

        return timed


def drain_rate(tmp: Path, seconds: float, crm: str) -> None:
    """10,000 webhooks stored with the worker off, then moved and processed by serve's
    worker code in this process (delivery paused: inbox -> outbox only) while serve
    answers a trickle of new webhooks."""
    gs = start_guestsync(tmp, crm, worker=False)
    bodies, script = tmp / "drain.txt", tmp / "post.lua"
    script.write_text(LUA, "utf-8")
    write_bodies(bodies, 10**8, DRAIN_ROWS)
    trickle_bodies, stop = tmp / "trickle.txt", tmp / "trickle.stop"
    write_bodies(trickle_bodies, 10**8 + 5 * 10**7, 100_000)  # other guests
    try:
        while count(gs.db, gs.table) < DRAIN_ROWS:  # the pool wraps: repeats are duplicates
            load(gs.url, seconds, script, bodies)
        config = load_config(tmp / "guestsync.yaml")
        hub = serve_worker_hub(Hub(config))
        intake = IntakeFile.open(intake_path(config.store_path), checkpoints=False)
        worker = Worker(hub, metrics=Metrics(), intake=intake)
        worker.paused = {t: (float("inf"), 0.0) for t in hub.targets}
        phases = Phases()
        patches = [
            (batch, "map_ahead", "map"),
            (batch, "process_batch", "resolve"),
            (batch, "settle_dirty", "settle"),
            (batch, "queue_for_targets", "queue"),
            (worker, "step", "other"),
        ]
        originals = [(obj, attr, getattr(obj, attr)) for obj, attr, _ in patches]
        for obj, attr, name in patches:
            setattr(obj, attr, phases.wrap(name, getattr(obj, attr)))
        intake.move_into = phases.wrap("move", intake.move_into)  # type: ignore[method-assign]
        waiting = intake.waiting()
        trickle = subprocess.Popen(
            [
                sys.executable,
                "-c",
                TRICKLE_SCRIPT,
                gs.url,
                str(trickle_bodies),
                str(TRICKLE),
                str(stop),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        cpu0, t0 = time.process_time(), time.perf_counter()
        steps = 0
        while True:
            busy = worker.step()
            steps += 1
            if not stop.exists() and hub.store.inbox_counts().get("done", 0) >= waiting:
                stop.touch()  # the stored 10,000 are done: the trickle ends, the rest drains
                trickle.wait()
            if not busy and stop.exists():
                break
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        sent = json.loads(trickle.communicate()[0])
        for obj, attr, fn in originals:
            setattr(obj, attr, fn)
        counts = hub.store.inbox_counts()
        outbox = sum(n for n, _ in hub.store.outbox_depths().values())
        rows = sum(counts.values())
        intake.close()
        hub.close()
    finally:
        stop.touch()
        gs.stop()
    print(
        f"drain: {waiting} webhooks waiting in the intake file + {sent['sent']} sent"
        f" meanwhile -> inbox {counts} -> outbox {outbox} in {steps} worker steps:"
        f" {wall:.2f} s wall, {cpu:.2f} s CPU: {rows / wall:.0f} rows/s (target >= 2000"
        f" rows/s); {rows / cpu:.0f} rows per CPU second"
    )
    print(
        f"  serve meanwhile: {sent['sent']} webhooks at {TRICKLE}/s, answers {sent['status']},"
        f" p50 {sent['p50']:.1f} ms, p99 {sent['p99']:.1f} ms"
    )
    print(f"  {'phase':8s} {'wall s':>7s} {'CPU s':>7s} {'CPU ms/row':>10s}")
    for name in ("move", "map", "resolve", "settle", "queue", "other"):
        w, c = phases.wall.get(name, 0.0), phases.cpu.get(name, 0.0)
        print(f"  {name:8s} {w:7.2f} {c:7.2f} {1000 * c / rows:10.3f}")


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    rounds = int(args[0]) if args else 3
    seconds = float(args[1]) if len(args) > 1 else 5.0
    generator = "wrk -t2 -c16" if shutil.which("wrk") else "Python threads (wrk not found)"
    print(f"load generator: {generator}; {CONNECTIONS} connections; cores: {os.cpu_count()}")
    # the CRM guestsync's worker delivers to (deliveries in batches of 100: a small load)
    crm = ServerThread(FakeHubSpot(token="bench").app).start()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        script = tmp / "post.lua"
        script.write_text(LUA, "utf-8")
        if "--drain-only" not in sys.argv:
            (tmp / "gs").mkdir()
            (tmp / "ref").mkdir()
            ref, gs = start_reference(tmp / "ref"), start_guestsync(tmp / "gs", crm.url)
            left: list[int] = []  # guestsync's backlog when the reference's turn began
            try:
                for r in range(rounds):
                    bodies = tmp / f"round{r}.txt"
                    write_bodies(bodies, r * POOL, POOL)
                    for app in (ref, gs) if r % 2 == 0 else (gs, ref):
                        if app is ref:
                            left.append(drained(gs))
                        measure(app, bodies, script, seconds)
                    bodies.unlink()
                drained(gs)
                health = get_json(gs.url, "/healthz")
            finally:
                ref.stop()
                gs.stop()
            report(ref, gs, rounds, seconds, health)
            print(f"guestsync rows still waiting when the reference's turns began: {left}")
        if "--no-drain" not in sys.argv:
            (tmp / "drain").mkdir()
            drain_rate(tmp / "drain", seconds, crm.url)
    crm.stop()


def report(ref: App, gs: App, rounds: int, seconds: float, health: dict) -> None:
    print(f"{rounds} rounds x {seconds:.0f} s per phase, alternating; medians of the rounds")
    for app in (ref, gs):
        post = statistics.median(p["durable"] for p in app.post)
        hz = statistics.median(h["rps"] for h in app.health)
        cpu = sum(c for c, _, _ in app.cpu)
        wall = sum(w for _, w, _ in app.cpu)
        busy = sum(b for _, _, b in app.cpu)
        p50 = statistics.median(p["p50"] for p in app.post)
        p99 = statistics.median(p["p99"] for p in app.post)
        errors = sum(p["errors"] for p in app.post)
        print(
            f"{app.name:24s} durable POST/s {post:7.0f}  p50 {p50:5.1f} ms  p99 {p99:6.1f} ms"
            f"  non-2xx {errors:.0f}  /healthz {hz:7.0f}/s  POST/healthz {post / hz:.2f}"
            f"  CPU {cpu:.1f} s in {wall:.1f} s wall (machine busy {busy:.1f} CPU s of"
            f" {(os.cpu_count() or 1) * wall:.1f})"
        )
        print(
            f"  per round: POST/s {[round(p['durable']) for p in app.post]},"
            f" p99 ms {[round(p['p99'], 1) for p in app.post]}"
        )
    paired = [g["durable"] / r["durable"] for g, r in zip(gs.post, ref.post, strict=True)]
    print(
        f"guestsync / plain: {statistics.median(paired):.2f}x (median of paired rounds;"
        f" rounds {[round(x, 2) for x in paired]}; target >= 1.5x, p99 < 50 ms with the"
        " worker draining)"
    )
    print(f"guestsync after the rounds: {health}")


if __name__ == "__main__":
    main()
