"""Workers on several nodes sharing one PostgreSQL store drain one backlog together:
each claims its own inbox windows (store/inbox.py), every row is processed once, the
guests are those one worker gives, and a worker killed with a window claimed loses
nothing."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

from guestsync.process.batch import ProcessStats, process_batch, process_pending
from guestsync.store import Store, open_store, utcnow
from guestsync.testing.synthetic import rows, to_record

from .activity_fixtures import RecordMapping, settings, to_inbox


def _mapping(source: str, stream: str) -> Any:
    return RecordMapping()


def _records() -> list[Any]:
    return [to_record(r) for r, _ in rows(150, 3.0, seed=7)]


def _drain(store: Store, **kw: Any) -> ProcessStats:
    return process_pending(store, _mapping, {}, batch_size=25, settings=settings(), **kw)


def _clusters(store: Store) -> list[list[tuple[str, str, str]]]:
    by_guest: dict[str, set[tuple[str, str, str]]] = {}
    for s, st, x, g in store.conn.execute(
        "SELECT source, stream, external_id, guest_id FROM guest_links"
    ):
        by_guest.setdefault(g, set()).add((s, st, x))
    return sorted(sorted(refs) for refs in by_guest.values())


def _inbox(store: Store) -> Counter[str]:
    return Counter(s for (s,) in store.conn.execute("SELECT status FROM inbox"))


def _gone(store: Store, pid: int) -> None:
    for _ in range(200):
        if not store.conn.execute(
            "SELECT 1 FROM pg_stat_activity WHERE pid = ?", (pid,)
        ).fetchone():
            return
        time.sleep(0.05)
    raise AssertionError(f"backend {pid} still there after 10 s")


def _one_worker(tmp_path: Path, records: list[Any]) -> list[list[tuple[str, str, str]]]:
    store = Store.open(tmp_path / "one.db")
    to_inbox(store, records)
    _drain(store)
    out = _clusters(store)
    store.close()
    return out


def test_two_workers_process_each_row_once_and_give_one_workers_guests(pg_url, tmp_path):
    records = _records()
    a, b = open_store(pg_url), open_store(pg_url)
    to_inbox(a, records)
    start = threading.Barrier(2)
    stats: dict[str, ProcessStats] = {}

    def work(name: str, store: Store) -> None:
        start.wait()
        stats[name] = _drain(store, ahead=True)

    threads = [threading.Thread(target=work, args=(n, s)) for n, s in (("a", a), ("b", b))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert set(stats) == {"a", "b"}
    # each took a share of the backlog, and together every row exactly once
    assert stats["a"].processed > 0 and stats["b"].processed > 0
    assert stats["a"].processed + stats["b"].processed == len(records)
    assert _inbox(a) == {"done": len(records)}
    assert _clusters(a) == _one_worker(tmp_path, records)
    a.close()
    b.close()


def test_a_window_claimed_in_a_transaction_that_never_commits_is_free_again(pg_url):
    records = _records()[:60]
    dead, live = open_store(pg_url), open_store(pg_url)
    to_inbox(live, records)
    dead.conn.execute("BEGIN")
    assert len(dead.claim_inbox(limit=40, owner="dead")) == 40
    pid = dead.conn.raw.info.backend_pid  # type: ignore[union-attr]
    dead.close()  # killed before COMMIT: the claim rolls back with its transaction
    _gone(live, pid)  # (the server notices the closed connection a moment later)
    assert _drain(live).processed == len(records)
    assert _inbox(live) == {"done": len(records)}
    live.close()


def test_a_killed_workers_claimed_window_waits_for_its_expiry_then_is_taken_over(pg_url):
    records = _records()[:60]
    dead, live = open_store(pg_url), open_store(pg_url)
    to_inbox(live, records)
    claimed = dead.claim_inbox(limit=40, owner="dead", ttl=timedelta(seconds=30))
    assert [r.id for r in claimed] == sorted(r.id for r in claimed)
    dead.close()  # killed after its claim committed
    assert _drain(live).processed == 20  # a live claim is not taken
    assert _inbox(live) == {"done": 20, "pending": 40}
    live.conn.execute("UPDATE inbox SET claimed_until = '2000-01-01T00:00:00.000000+00:00'")
    assert _drain(live).processed == 40  # the claim expired: its window is taken over
    assert _inbox(live) == {"done": len(records)}
    live.close()


def test_a_window_claimed_by_a_process_of_this_host_that_died_is_taken_over_at_once(pg_url):
    records = _records()[:60]
    dead, live = open_store(pg_url), open_store(pg_url)
    to_inbox(live, records)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    host = socket.gethostname()
    dead.claim_inbox(limit=30, owner=f"{host}:{gone.pid}:run1")
    alive = dead.claim_inbox(limit=10, owner=f"{host}:{os.getpid()}:run2")
    assert len(alive) == 10
    dead.close()  # killed -9 after its claims committed, well before CLAIM_TTL
    assert _drain(live).processed == 50  # the dead process's 30 and the 20 never claimed
    assert _inbox(live) == {"done": 50, "pending": 10}  # a live process keeps its claim
    live.close()


def test_a_window_claimed_by_a_node_whose_heartbeat_went_silent_is_taken_over(pg_url):
    """A worker on another machine that went down: its node stopped beating."""
    records = _records()[:60]
    store = open_store(pg_url)
    to_inbox(store, records)
    now = utcnow()
    store.beat("far:41:n1", host="far", pid=41, role="serve+worker", now=now - timedelta(minutes=2))
    store.beat("near:42:n2", host="near", pid=42, role="serve+worker", now=now)
    store.claim_inbox(limit=30, owner="far:41:run1")  # a silent node's claim
    store.claim_inbox(limit=10, owner="near:42:run2")  # a node still beating
    assert _drain(store).processed == 50  # the silent node's 30 and the 20 never claimed
    assert _inbox(store) == {"done": 50, "pending": 10}
    store.close()


def test_rows_another_worker_processed_meanwhile_are_dropped_not_processed_twice(pg_url):
    records = _records()[:30]
    slow, fast = open_store(pg_url), open_store(pg_url)
    to_inbox(fast, records)
    window = slow.claim_inbox(limit=30, owner="slow", ttl=timedelta(0))  # expires at once
    assert _drain(fast).processed == len(records)  # took the expired window over
    links = _clusters(fast)
    logged = fast.conn.execute("SELECT count(*) FROM match_log").fetchone()[0]
    stats = ProcessStats()
    process_batch(slow, window, _mapping, {}, stats, settings=settings(), defer=True)
    assert stats.processed == 0
    assert _clusters(fast) == links
    assert fast.conn.execute("SELECT count(*) FROM match_log").fetchone()[0] == logged
    slow.close()
    fast.close()


def test_a_run_gives_back_the_windows_it_claimed_and_did_not_process(pg_url):
    records = _records()[:60]
    store = open_store(pg_url)
    to_inbox(store, records)
    calls = {"n": 0}
    claimed: list[int] = []

    def failing_mapping(source: str, stream: str) -> Any:
        calls["n"] += 1
        if calls["n"] > 1:
            q = "SELECT count(*) FROM inbox WHERE claimed_by IS NOT NULL"
            claimed.append(store.conn.execute(q).fetchone()[0])
            raise RuntimeError("the mapping's config went away")
        return RecordMapping()

    try:
        process_pending(store, failing_mapping, {}, batch_size=25, settings=settings())
    except RuntimeError:
        pass
    else:
        raise AssertionError("the run should have failed")
    assert claimed == [50]  # the batch being processed and the one read ahead
    assert _inbox(store) == {"pending": len(records)}
    assert store.conn.execute(
        "SELECT count(*) FROM inbox WHERE status = 'pending' AND claimed_by IS NOT NULL"
    ).fetchone() == (0,)
    store.close()
