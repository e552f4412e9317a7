"""Webhook accepts/s against the real server (`guestsync serve`, waitress, in a subprocess)
vs the same server's GET /healthz, measured in the same run.

16 concurrent clients (threads, keep-alive sessions) on 127.0.0.1 post N distinct signed
bookings (generic HMAC-SHA256 scheme); then the same clients GET /healthz N times. Prints
requests/s, p50 and p99 latency for both, and the ratio (target: >= 0.8, p99 < 50 ms).

A third phase posts the same signed bodies to a source that does not exist: the server
reads the body and answers 404 before any verification or write. That is the ceiling any
webhook handler on this server can reach (HTTP transport of a POST alone); the gap between
it and the ratio target is the time left per webhook for the signature check, the JSON
parse and the inbox commit.
The worker is off unless --worker is given (it then runs in its own process, as under
serve, and takes turns with the webhook writer at SQLite's write lock).
Usage: bench_webhooks.py [N] [CLIENTS] [SERVER_THREADS] [ROUNDS] [--worker]
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-secret"
CONFIG = f"""\
store: {{path: hub.db}}
server: {{threads: THREADS, worker_interval: 0.2}}
sources:
  zap:
    type: webhook
    mapping: {ROOT / "config" / "mappings" / "generic_booking.yaml"}
    stream: bookings
    webhook: {{scheme: hmac, secrets: [{SECRET}], prefix: "sha256="}}
"""


FLOOR_PATH = "/webhooks/no-such-source"


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


def signed(i: int) -> tuple[bytes, dict[str, str]]:
    b = body(i)
    sig = "sha256=" + hmac.new(SECRET.encode(), b, hashlib.sha256).hexdigest()
    return b, {"X-Signature": sig, "Content-Type": "application/json"}


def run_clients(
    url: str, n: int, clients: int, *, post: bool, first: int = 0, path: str = "/webhooks/zap"
) -> tuple[float, list[float], int]:
    """(elapsed seconds, latencies in seconds, answered count: 2xx, or 404 for the
    unknown source of the floor phase)."""
    latencies: list[float] = []
    ok = [0]
    lock = threading.Lock()
    bodies = [signed(first + i) for i in range(n)] if post else []
    start_gate = threading.Barrier(clients + 1)

    host, port = url.removeprefix("http://").split(":")

    def client(k: int) -> None:
        # http.client, keep-alive: the lightest Python client, so the server is measured
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        mine: list[float] = []
        good = 0
        start_gate.wait()
        for i in range(k, n, clients):
            t0 = time.perf_counter()
            if post:
                b, h = bodies[i]
                conn.request("POST", path, body=b, headers=h)
            else:
                conn.request("GET", "/healthz")
            r = conn.getresponse()
            r.read()
            mine.append(time.perf_counter() - t0)
            good += 200 <= r.status < 300 or (r.status == 404 and path == FLOOR_PATH)
        conn.close()
        with lock:
            latencies.extend(mine)
            ok[0] += good

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    start_gate.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    return time.perf_counter() - t0, latencies, ok[0]


def requests_metrics(url: str) -> dict[str, float]:
    """The unlabelled counters of GET /metrics."""
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    conn.request("GET", "/metrics")
    text = conn.getresponse().read().decode()
    conn.close()
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#") and "{" not in line:
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out


def pct(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100)[int(p) - 1] * 1000 if len(values) > 1 else 0.0


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    n = int(args[0]) if args else 2000
    clients = int(args[1]) if len(args) > 1 else 16
    with_worker = "--worker" in sys.argv
    threads = int(args[2]) if len(args) > 2 else 16
    repeat = int(args[3]) if len(args) > 3 else 3
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "guestsync.yaml"
        cfg.write_text(CONFIG.replace("THREADS", str(threads)), "utf-8")
        cmd = [sys.executable, "-m", "guestsync.cli", "-c", str(cfg), "serve", "--port", "0"]
        if not with_worker:
            cmd.append("--no-worker")
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, text=True, env={**os.environ, "COLUMNS": "200"}
        )
        assert proc.stdout is not None
        url = proc.stdout.readline().strip().rsplit(" ", 1)[-1]
        h_rates: list[float] = []
        w_rates: list[float] = []
        f_rates: list[float] = []
        h_lat: list[float] = []
        w_lat: list[float] = []
        h_ok = w_ok = 0
        try:
            run_clients(url, 200, clients, post=False)  # warm up
            # alternate the two phases: this machine's load drifts; medians of the rounds
            for r in range(repeat):
                el, lat, ok = run_clients(url, n, clients, post=False)
                h_rates.append(ok / el)
                h_lat += lat
                h_ok += ok
                el, lat, ok = run_clients(url, n, clients, post=True, first=r * n)
                w_rates.append(ok / el)
                w_lat += lat
                w_ok += ok
                el, _, ok = run_clients(url, n, clients, post=True, path=FLOOR_PATH)
                f_rates.append(ok / el)
            metrics = requests_metrics(url)
        finally:
            proc.terminate()
            proc.wait(60)
            proc.stdout.close()
    h_rate, w_rate = statistics.median(h_rates), statistics.median(w_rates)
    f_rate = statistics.median(f_rates)
    print(
        f"clients={clients} requests={n} x {repeat} rounds, server threads={threads},"
        f" worker={'on' if with_worker else 'off'} (medians of the rounds)"
    )
    print(
        f"GET /healthz      {h_rate:8.0f} req/s  p50 {pct(h_lat, 50):6.1f} ms"
        f"  p99 {pct(h_lat, 99):6.1f} ms  ({h_ok} ok)"
    )
    print(
        f"POST /webhooks    {w_rate:8.0f} accepted/s  p50 {pct(w_lat, 50):6.1f} ms"
        f"  p99 {pct(w_lat, 99):6.1f} ms  ({w_ok} accepted)"
    )
    print(f"POST unknown src  {f_rate:8.0f} answered/s (404 before any work: the ceiling)")
    commits = metrics.get("guestsync_webhook_commits_total", 0.0)
    events = metrics.get("guestsync_webhook_committed_events_total", 0.0)
    print(f"group commit: {events:.0f} events in {commits:.0f} transactions")
    print(
        f"per round: healthz {[round(x) for x in h_rates]}, webhooks {[round(x) for x in w_rates]},"
        f" ceiling {[round(x) for x in f_rates]}"
    )
    paired = statistics.median(w / h for w, h in zip(w_rates, h_rates, strict=True))
    print(
        f"ratio accepted/healthz: {w_rate / h_rate:.2f}x of medians, {paired:.2f}x median of"
        " paired rounds (target >= 0.8x, p99 < 50 ms)"
    )
    # what a webhook may cost on top of a bare POST for the ratio to reach 0.8x
    room = (1 / (0.8 * h_rate) - 1 / f_rate) * 1e6
    print(
        f"ceiling/healthz: {f_rate / h_rate:.2f}x; at 0.8x a webhook may take {room:.0f} us more"
        f" than a bare POST; it takes {(1 / w_rate - 1 / f_rate) * 1e6:.0f} us more"
    )


if __name__ == "__main__":
    main()
