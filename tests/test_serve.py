"""`guestsync serve` as a real subprocess (intake processes, worker): kill -9 while webhooks arrive
and deliveries are in flight, restart, and every webhook answered 2xx reaches the fake CRM
exactly once. Then SIGTERM drains and exits 0."""

from __future__ import annotations

import errno
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from guestsync.config import load_config
from guestsync.serve.service import Service
from guestsync.store import Store
from guestsync.testing import FakeHubSpot, FaultPlan, ServerThread

from .webhook_signing import booking, hmac_headers, webhook_config


class SlowCrm:
    """The fake CRM, 30 ms per call, so that a kill often lands mid-delivery."""

    def __init__(self, crm: FakeHubSpot) -> None:
        self.crm = crm

    def __call__(self, environ, start_response):
        time.sleep(0.03)
        return self.crm.app(environ, start_response)


@pytest.fixture
def crm() -> Iterator[tuple[FakeHubSpot, ServerThread]]:
    fake = FakeHubSpot(
        token="test-token", faults=FaultPlan(script=[None, 500, None, 500], rate_500=0.1)
    )
    with ServerThread(SlowCrm(fake)) as server:
        yield fake, server


def start(config: Path) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "guestsync.cli", "-c", str(config), "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert "listening on" in line, line
    url = line.strip().rsplit(" ", 1)[-1]
    assert proc.stdout.readline().strip() == f"POST {url}/webhooks/square  (square)"
    return proc, url


class Sender:
    """Posts bookings one after another from a thread; remembers which got a 2xx."""

    def __init__(self, url: str, first: int) -> None:
        self.url, self.next = url, first
        self.accepted: list[int] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        session = requests.Session()
        while not self.stop.is_set():
            body, i = booking(self.next), self.next
            self.next += 1
            try:
                r = session.post(
                    f"{self.url}/webhooks/zap",
                    data=body,
                    headers=hmac_headers(body) | {"Content-Type": "application/json"},
                    timeout=5,
                )
            except requests.RequestException:
                continue
            if 200 <= r.status_code < 300:
                self.accepted.append(i)

    def wait_for(self, n: int, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while len(self.accepted) < n and time.monotonic() < deadline:
            time.sleep(0.01)


def test_kill_9_then_restart_delivers_every_acknowledged_webhook_once(make_config, crm):
    fake, server = crm
    config = make_config(webhook_config(server.url, extra="server: {worker_interval: 0.05}\n"))
    proc, url = start(config)
    sender = Sender(url, 0)
    sender.thread.start()
    sender.wait_for(30)
    # wait until the worker has pushed something, so that deliveries are under way
    deadline = time.monotonic() + 20
    while not fake.contacts and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    proc.stdout.close()
    time.sleep(0.2)
    sender.stop.set()
    sender.thread.join(10)
    first = list(sender.accepted)
    assert len(first) >= 30

    proc, url = start(config)
    try:
        # the sender's retries of what the dead server did not answer, then new ones
        again = Sender(url, sender.next - 3)
        again.thread.start()
        again.wait_for(20)
        again.stop.set()
        again.thread.join(10)
        accepted = set(first) | set(again.accepted)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            emails = [c.get("email") for c in fake.contacts.values()]
            if all(f"guest{i}@example.com" in emails for i in accepted):
                break
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        proc.stdout.close()
    emails = [c.get("email") for c in fake.contacts.values()]
    for i in accepted:
        assert emails.count(f"guest{i}@example.com") == 1, i
    assert len(emails) == len(set(emails))  # nothing pushed twice as two contacts
    assert fake.counts["500"] > 0  # retries happened along the way


def test_service_in_process_health_and_a_drain_that_cuts_retry_waits_short(make_config):
    fake = FakeHubSpot(token="test-token", faults=FaultPlan(rate_500=1.0))
    with ServerThread(fake.app) as crm_server:
        text = webhook_config(crm_server.url, extra="server: {worker_interval: 0.05}\n")
        text = text.replace("initial_wait: 0, max_wait: 0", "initial_wait: 60, max_wait: 60")
        service = Service(load_config(make_config(text)), port=0).start()
        try:
            body = booking(1)
            r = requests.post(
                f"{service.url}/webhooks/zap",
                data=body,
                headers=hmac_headers(body) | {"Content-Type": "application/json"},
                timeout=10,
            )
            assert r.status_code == 202
            health = requests.get(f"{service.url}/healthz", timeout=10).json()
            assert health["ok"] and health["worker"] is True
            # this node is listed for `guestsync status` while it serves
            listed = Store.open(service.config.store_path)
            assert [(n.pid, n.role) for n in listed.nodes()] == [(os.getpid(), "serve+worker")]
            listed.close()
            deadline = time.monotonic() + 20
            while fake.counts["500"] == 0 and time.monotonic() < deadline:
                time.sleep(0.01)  # the worker is now waiting 60 s before its retry
            assert fake.counts["500"] >= 1
        finally:
            service.stop(timeout=5)
        assert not service.worker._thread.is_alive()  # the 60 s wait was cut short
        store = Store.open(service.config.store_path)
        assert store.outbox_counts("hubspot") == {"pending": 1}  # kept for the restart
        assert store.dead_letters() == []
        assert store.nodes() == []  # a clean stop takes the node off the list
        store.close()


def test_stop_goes_on_when_waitress_trigger_cannot_be_pulled(make_config, caplog, monkeypatch):
    """stop() reaches waitress's loop through its trigger (a pipe). If the pipe is closed
    (EBADF), stop() logs that and still stops the worker and closes the stores, instead
    of raising with them open."""
    config = load_config(make_config(webhook_config("http://127.0.0.1:9")))
    service = Service(config, port=0).start()
    trigger = service.server.trigger

    def closed() -> None:
        raise OSError(errno.EBADF, "Bad file descriptor")

    monkeypatch.setattr(trigger, "_physical_pull", closed)
    try:
        service.stop(timeout=0.5)
        assert "already closed" in caplog.text
        assert not service.worker._thread.is_alive()
        with pytest.raises(sqlite3.ProgrammingError):  # the stores are closed
            service.app_store.conn.execute("SELECT 1")
    finally:
        monkeypatch.undo()
        trigger.pull_trigger()  # the loop runs the queued closing calls, then ends
        service._http.join(5)
    assert not service._http.is_alive()


def test_serves_worker_moves_the_intake_file_and_processes_it_in_bulk_windows(
    make_config, monkeypatch
):
    """Webhooks wait in the intake file; a worker step moves them into the inbox and
    processes them in the bulk lane (one window per WORKER_WINDOW rows), not a row per
    transaction."""
    from guestsync.metrics import Metrics
    from guestsync.models import InboxEntry
    from guestsync.process import batch
    from guestsync.serve import worker
    from guestsync.store.intake import IntakeFile, intake_path
    from guestsync.sync_engine import Hub

    windows: list[tuple[int, bool | None]] = []
    real = batch.process_batch

    def spy(store, rows, *a, bulk=None, **k):
        windows.append((len(rows), bulk))
        return real(store, rows, *a, bulk=bulk, **k)

    monkeypatch.setattr(batch, "process_batch", spy)
    monkeypatch.setattr(worker, "WORKER_WINDOW", 30)
    config = load_config(make_config(webhook_config("http://127.0.0.1:9")))
    hub = worker.serve_worker_hub(Hub(config))
    intake = IntakeFile.open(intake_path(config.store_path))
    records = [
        {"id": f"b-{i}", "name": f"Guest {i}", "email": f"g{i}@example.com", "party_size": 2}
        | {"start_at": "2026-12-01T19:00:00+08:00", "phone": f"+8869{i:08d}"}
        for i in range(70)
    ]
    entry = lambda i, r: InboxEntry.of(  # noqa: E731
        source="zap", stream="bookings", external_id=f"b-{i}", record=r, origin="webhook"
    )
    events = [("zap", f"e-{i}", [(entry(i, r), False)]) for i, r in enumerate(records)]
    assert all(intake.add_webhook_events(events))
    hub.process_batch_size = worker.WORKER_WINDOW
    assert worker.Worker(hub, metrics=Metrics(), intake=intake).step()
    assert intake.waiting() == 0
    assert hub.store.inbox_counts() == {"done": 70}
    assert windows == [(30, True), (30, True), (10, True)]
    intake.close()
    hub.close()
