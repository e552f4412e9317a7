"""`guestsync serve --workers 2` as a real subprocess: several intake processes answer on
one port, an event id is stored once whichever processes get its copies, a size refusal
is counted in /metrics whichever process refused it, and SIGTERM with a backlog stops
within a few seconds, keeping every acknowledged webhook for the next start."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from guestsync.store.intake import intake_path

from .webhook_signing import booking, hmac_headers, webhook_config

WORKERS = 2


def signed(i: int, event: str | None = None) -> tuple[bytes, dict[str, str]]:
    body = booking(i)
    headers = hmac_headers(body) | {"Content-Type": "application/json"}
    return body, headers | {"X-Event-Id": event or f"evt-{i}"}


class Serve:
    def __init__(self, config: Path, *extra: str) -> None:
        cmd = [sys.executable, "-m", "guestsync.cli", "-c", str(config), "serve", "--port", "0"]
        self.proc = subprocess.Popen(
            [*cmd, "--workers", str(WORKERS), *extra],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "COLUMNS": "200", "GUESTSYNC_LOG_LEVEL": "warning"},
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert "listening on" in line, line
        self.url = line.strip().rsplit(" ", 1)[-1]
        self.port = int(self.url.rsplit(":", 1)[1])
        deadline = time.monotonic() + 60
        # every intake process listening (each binds the port itself: SO_REUSEPORT)
        while not self._answers() or listeners(self.port) < WORKERS:
            assert time.monotonic() < deadline, "serve never answered from every process"
            time.sleep(0.1)

    def _answers(self) -> bool:
        try:
            self.get("/healthz")
        except OSError:
            return False
        return True

    def connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def get(self, path: str) -> tuple[int, bytes]:
        conn = self.connection()
        try:
            conn.request("GET", path)
            r = conn.getresponse()
            return r.status, r.read()
        finally:
            conn.close()

    def stop(self) -> float:
        """SIGTERM; seconds until the service exited."""
        t0 = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        assert self.proc.wait(30) == 0
        assert self.proc.stdout is not None
        self.proc.stdout.close()
        return time.monotonic() - t0


@pytest.fixture
def config(make_config) -> Path:
    return make_config(webhook_config(extra="server: {worker_interval: 0.05, threads: 4}\n"))


@pytest.fixture
def serve(config: Path) -> Iterator[Serve]:
    server = Serve(config)
    try:
        yield server
    finally:
        if server.proc.poll() is None:
            server.stop()


def _sockets(port: int, state: str) -> list[str]:
    """The inodes of the TCP sockets on local `port` in `state` (01 established, 0A listen)."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == state:
                found.append(fields[9])
    return found


def listeners(port: int) -> int:
    return len(_sockets(port, "0A"))


def owners(port: int) -> set[int]:
    """The processes holding the server side of the established connections to `port`."""
    inodes = {f"socket:[{inode}]" for inode in _sockets(port, "01")}
    pids = set()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            links = {os.readlink(fd) for fd in (proc / "fd").iterdir()}
        except OSError:  # gone, or not ours to read
            continue
        if links & inodes:
            pids.add(int(proc.name))
    return pids


def post_on(conns: list[http.client.HTTPConnection], requests: list) -> list[int]:
    """Each request on its own connection, all at once; the statuses."""
    statuses = [0] * len(conns)

    def send(k: int) -> None:
        body, headers = requests[k]
        conns[k].request("POST", "/webhooks/zap", body=body, headers=headers)
        r = conns[k].getresponse()
        r.read()
        statuses[k] = r.status

    threads = [threading.Thread(target=send, args=(k,)) for k in range(len(conns))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return statuses


def test_several_intake_processes_answer_on_one_port(serve: Serve, config: Path):
    conns = [serve.connection() for _ in range(16)]
    try:
        statuses = post_on(conns, [signed(i) for i in range(16)])
        answered_by = owners(serve.port)
    finally:
        for c in conns:
            c.close()
    assert statuses == [202] * 16
    assert len(answered_by) == WORKERS  # both intake processes, none of them the service
    assert serve.proc.pid not in answered_by
    db = sqlite3.connect(intake_path(config.parent / "hub.db"))
    assert db.execute("SELECT count(*) FROM webhook_events").fetchone()[0] == 16


def test_copies_of_one_event_in_several_processes_are_stored_once(serve: Serve, config: Path):
    conns = [serve.connection() for _ in range(16)]
    try:
        statuses = post_on(conns, [signed(7, event="same-event")] * 16)
        answered_by = owners(serve.port)
    finally:
        for c in conns:
            c.close()
    assert len(answered_by) == WORKERS
    assert sorted(statuses) == [200] * 15 + [202]
    deadline = time.monotonic() + 30
    while json.loads(serve.get("/healthz")[1]).get("inbox", {}).get("done", 0) < 1:
        assert time.monotonic() < deadline, "the worker never processed the event"
        time.sleep(0.1)
    store = sqlite3.connect(config.parent / "hub.db")
    assert store.execute("SELECT count(*) FROM inbox").fetchone()[0] == 1


def test_every_refused_body_is_counted_whichever_process_refused_it(serve: Serve):
    big = b'{"id": "' + b"x" * 5000 + b'"}'  # zap's max_body is 4096
    # 16 connections: the kernel spreads them over the intake processes at random
    # (SO_REUSEPORT), and with 8 all went to one of two processes once in 128 runs
    conns = [serve.connection() for _ in range(16)]
    try:
        for c in conns[:8]:  # a Content-Length over the limit: refused before reading
            c.request(
                "POST", "/webhooks/zap", body=big, headers={"Content-Type": "application/json"}
            )
        for c in conns[8:]:  # chunked, no length: refused once max_body + 1 bytes were read
            c.request(
                "POST",
                "/webhooks/zap",
                body=iter([big[:3000], big[3000:]]),
                headers={"Content-Type": "application/json"},
                encode_chunked=True,
            )
        statuses = []
        for c in conns:
            r = c.getresponse()
            r.read()
            statuses.append(r.status)
        answered_by = owners(serve.port)
    finally:
        for c in conns:
            c.close()
    assert statuses == [413] * 16
    assert len(answered_by) == WORKERS
    status, text = serve.get("/metrics")
    assert status == 200
    counted = re.search(
        rb'guestsync_webhooks_rejected_total\{reason="too_large",source="zap"\} ([\d.]+)', text
    )
    assert counted is not None and float(counted.group(1)) == 16.0


def waiting(folder: Path) -> int:
    """Rows still in the intake file plus rows pending in the store's inbox."""
    with closing(sqlite3.connect(intake_path(folder / "hub.db"), timeout=30)) as intake:
        (moving,) = intake.execute("SELECT count(*) FROM inbox").fetchone()
    with closing(sqlite3.connect(folder / "hub.db", timeout=30)) as store:
        (pending,) = store.execute("SELECT count(*) FROM inbox WHERE status = 'pending'").fetchone()
    return int(moving) + int(pending)


def test_sigterm_with_a_backlog_stops_within_seconds_and_loses_nothing(config: Path):
    serve = Serve(config)
    accepted: list[int] = []
    lock = threading.Lock()

    def sender(k: int) -> None:
        conn = serve.connection()
        for i in range(k, 4000, 8):
            body, headers = signed(i)
            conn.request("POST", "/webhooks/zap", body=body, headers=headers)
            r = conn.getresponse()
            r.read()
            if r.status == 202:
                with lock:
                    accepted.append(i)
        conn.close()

    try:
        threads = [threading.Thread(target=sender, args=(k,)) for k in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        backlog = waiting(config.parent)  # read from the files: /healthz caches for 1 s
    finally:
        took = serve.stop()
    assert len(accepted) == 4000
    assert backlog > 0  # the worker was still draining when SIGTERM came
    assert took < 15, f"stop took {took:.1f} s"  # a few seconds, whatever the backlog
    restarted = Serve(config)
    try:
        deadline = time.monotonic() + 120
        while True:
            health = json.loads(restarted.get("/healthz")[1])
            if not health["intake_waiting"] and not health["inbox"].get("pending"):
                break
            assert time.monotonic() < deadline, health
            time.sleep(0.2)
    finally:
        restarted.stop()
    store = sqlite3.connect(config.parent / "hub.db")
    done = {r[0] for r in store.execute("SELECT external_id FROM inbox WHERE status = 'done'")}
    assert done == {f"zap-{i}" for i in accepted}
