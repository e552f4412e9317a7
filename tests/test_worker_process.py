"""`guestsync serve`'s worker in a supervised child process (worker_process.py): it
processes and delivers, /healthz and /metrics see it from the parent, it is started again
when it dies, it drains on stop, and it ends with its parent (kill -9). Also the write
turn the two processes share (store/wal.py) and mapping a batch ahead of its transaction."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from guestsync.config import load_config
from guestsync.process.batch import map_ahead
from guestsync.serve.service import Service
from guestsync.store import Store, WriteTurn
from guestsync.sync_engine import Hub
from guestsync.testing import FakeHubSpot, FaultPlan, ServerThread
from guestsync.webhook_server import create_app

from .test_serve import booking
from .webhook_signing import hmac_headers, webhook_config


def post(url: str, i: int) -> int:
    body = booking(i)
    headers = hmac_headers(body) | {"Content-Type": "application/json"}
    return requests.post(f"{url}/webhooks/zap", data=body, headers=headers, timeout=10).status_code


def wait_for(check, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_the_worker_process_delivers_reports_restarts_and_drains(make_config):
    fake = FakeHubSpot(token="test-token", faults=FaultPlan())
    with ServerThread(fake.app) as crm:
        text = webhook_config(crm.url, extra="server: {worker_interval: 0.05, stop_grace: 20}\n")
        service = Service(load_config(make_config(text)), port=0, worker_process=True).start()
        try:
            assert post(service.url, 1) == 202
            wait_for(lambda: len(fake.contacts) == 1)
            health = requests.get(f"{service.url}/healthz", timeout=10).json()
            assert health["ok"] and health["worker"] is True
            # the child's counters reach the parent's /metrics
            wanted = 'guestsync_deliveries_total{target="hubspot"} 1.0'
            wait_for(lambda: wanted in service.metrics.render().decode())
            # killed, it is started again (new locks), and goes on with the queue
            first = service.worker.process
            os.kill(first.pid, signal.SIGKILL)
            wait_for(lambda: service.worker.process is not first and service.worker.alive())
            assert service.worker.notes()["worker_restarts"] == 1
            assert post(service.url, 2) == 202
            wait_for(lambda: len(fake.contacts) == 2)
        finally:
            service.stop(timeout=20)
        assert service.worker.process.exitcode == 0  # drained, not terminated
        assert not service.worker.alive()


def child_pids(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads /proc (Linux)")
def test_the_worker_process_ends_with_a_killed_parent(make_config):
    config = make_config(webhook_config(extra="server: {worker_interval: 0.05}\n"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "guestsync.cli", "-c", str(config), "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None and "listening on" in proc.stdout.readline()
        wait_for(lambda: child_pids(proc.pid), timeout=30)
        children = child_pids(proc.pid)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)

        def gone() -> bool:
            for pid in children:
                try:
                    stat = Path(f"/proc/{pid}/stat").read_text()
                except FileNotFoundError:
                    continue
                if stat.rsplit(")", 1)[1].split()[0] != "Z":  # a zombie has exited
                    return False
            return True

        wait_for(gone, timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()


def test_writers_sharing_a_turn_take_it_one_at_a_time(tmp_path):
    lock = threading.Lock()
    a, b = Store.open(tmp_path / "hub.db"), Store.open(tmp_path / "hub.db")
    a.write_turn, b.write_turn = WriteTurn(lock), WriteTurn(lock, pause=0.01)
    with a.atomic():
        assert lock.locked()
        with a.atomic():  # a savepoint: the turn is taken once
            pass
        assert lock.locked()
    assert not lock.locked()
    started = time.monotonic()
    with b.atomic():
        pass
    assert time.monotonic() - started >= 0.01  # b rests after its turn
    lock.acquire()  # a holder that never lets go (a dead process): skipped after `wait`
    a.write_turn = WriteTurn(lock, wait=0.05)
    with a.atomic():
        a.set_cursor("s", "t", "1")
    assert a.get_cursor("s", "t") == "1"
    lock.release()
    a.close()
    b.close()


def test_mapping_ahead_gives_what_mapping_in_the_transaction_gives(make_config, tmp_path):
    results = []
    for ahead in (False, True):
        cfg = make_config(webhook_config().replace("hub.db", f"hub-{ahead}.db"))
        hub = Hub(load_config(cfg))
        client = create_app(hub.config, store=hub.store).test_client()
        for i in (1, 2, 2):
            body = booking(i)
            client.post(
                "/webhooks/zap",
                data=body,
                headers=hmac_headers(body),
                content_type="application/json",
            )
        body = b'{"id": "bad", "email": "not an email", "start_at": "never"}'
        client.post(
            "/webhooks/zap", data=body, headers=hmac_headers(body), content_type="application/json"
        )
        hub.process_batch_size, hub.map_ahead = 2, ahead
        if ahead:
            rows = hub.store.pending_inbox(limit=10)
            mapped = map_ahead(rows, hub.mapping_for)
            assert isinstance(mapped[-1], str)  # the bad row: its reason
        stats = hub.process()
        results.append((stats.processed, stats.rejected, hub.store.count_guests()))
        hub.close()
    assert results[0] == results[1] == (2, 1, 2)


def test_a_service_without_a_worker_starts_and_stops_cleanly(make_config):
    """`serve --no-worker`: webhooks are taken in, nothing is spawned, stop() returns."""
    text = webhook_config("http://127.0.0.1:9", extra="")
    service = Service(
        load_config(make_config(text)), port=0, worker=False, worker_process=True
    ).start()
    try:
        assert post(service.url, 1) == 202
        assert service.worker.process is None
    finally:
        service.stop(timeout=5)
    assert not service.worker.alive()
