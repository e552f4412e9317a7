"""Nodes: each `serve` process beats its row in the store (serve/nodes.py), and
`guestsync status` lists every node sharing the store, a silent one as silent."""

from __future__ import annotations

import os
import threading
from datetime import timedelta

from click.testing import CliRunner

from guestsync.cli import cli
from guestsync.metrics import Metrics
from guestsync.serve.nodes import Heartbeat, is_silent
from guestsync.store import Store, open_store, utcnow

from .test_scheduler import CONFIG


def test_a_node_beats_and_leaves(store: Store):
    t0 = utcnow()
    store.beat("h:1:a", host="h", pid=1, role="serve", now=t0)
    store.beat("h:1:a", host="h", pid=1, role="serve", now=t0 + timedelta(seconds=15))
    store.beat("g:7:b", host="g", pid=7, role="serve", now=t0)
    a, b = store.nodes()
    assert (a.host, a.pid, b.host, b.pid) == ("g", 7, "h", 1)
    assert b.started_at == t0 and b.last_seen == t0 + timedelta(seconds=15)
    assert is_silent(a, t0 + timedelta(minutes=5)) and not is_silent(b, t0 + timedelta(seconds=20))
    store.leave("h:1:a")
    assert [n.id for n in store.nodes()] == ["g:7:b"]


def test_status_lists_every_node_of_one_postgresql_store(make_config, pg_url):
    path = make_config(CONFIG.replace("{path: hub.db}", f"{{url: '{pg_url}'}}"))
    nodes = [Heartbeat(lambda: open_store(pg_url), interval=0.05) for _ in range(2)]
    for n in nodes:
        n.start()
    store = open_store(pg_url)
    killed = utcnow() - timedelta(minutes=10)  # a node killed -9 ten minutes ago
    store.beat("other-host:4242:dead", host="other-host", pid=4242, role="serve", now=killed)
    first = {n.id: n.last_seen for n in store.nodes()}
    try:
        for _ in range(200):  # the live nodes beat again, the killed one does not
            seen = {n.id: n.last_seen for n in store.nodes()}
            if all(seen[n.id] > first[n.id] for n in nodes):
                break
            threading.Event().wait(0.05)
        assert seen["other-host:4242:dead"] == first["other-host:4242:dead"]
        assert all(seen[n.id] > first[n.id] for n in nodes)
        result = CliRunner().invoke(cli, ["-c", str(path), "status"])
        assert result.exit_code == 0, result.output
        table = result.output[result.output.index("nodes") :]
        assert "other-host" in table and "4242" in table and "silent" in table
        ours = [line for line in table.splitlines() if f" {os.getpid()} " in line]
        assert len(ours) == 2 and all(" up " in line for line in ours)
    finally:
        for n in nodes:
            n.stop()
    assert [n.id for n in store.nodes()] == ["other-host:4242:dead"]  # stopped: gone
    store.close()


def test_status_and_metrics_show_every_node_and_its_worker(make_config, pg_url):
    """Issue #22: each node's worker (up, down, none) in `status` and in /metrics, read
    from the nodes table: the same whichever node is asked."""
    path = make_config(CONFIG.replace("{path: hub.db}", f"{{url: '{pg_url}'}}"))
    up = Heartbeat(lambda: open_store(pg_url), role="serve+worker", worker=lambda: True)
    down = Heartbeat(lambda: open_store(pg_url), role="serve+worker", worker=lambda: False)
    intake = Heartbeat(lambda: open_store(pg_url), role="serve")
    store = open_store(pg_url)
    killed = utcnow() - timedelta(minutes=10)  # its worker said up, then the node went silent
    store.beat("gone:9:x", host="gone", pid=9, role="serve+worker", now=killed, worker="up")
    for n in (up, down, intake):
        n.start()
    try:
        result = CliRunner().invoke(cli, ["-c", str(path), "status"])
        assert result.exit_code == 0, result.output
        table = result.output[result.output.index("nodes") :]
        cells = [
            [c.strip() for c in line.split("│")[1:-1]]
            for line in table.splitlines()
            if line.count("│") > 6
        ]
        ours = [c for c in cells if c[1] == str(os.getpid())]
        assert sorted(c[-1] for c in ours) == ["-", "down", "up"]
        gone = [c for c in cells if c[0] == "gone"]
        assert len(gone) == 1 and gone[0][-2:] == ["silent", "?"]
        metrics = Metrics()
        metrics.watch_store(store, threading.Lock())
        text = metrics.render().decode()
        worker_up = {
            line.split('node="')[1].split('"')[0]: float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith("guestsync_node_worker_up{")
        }
        assert worker_up == {up.id: 1.0, down.id: 0.0, "gone:9:x": 0.0}  # none for intake
        node_up = [ln for ln in text.splitlines() if ln.startswith("guestsync_node_up{")]
        assert len(node_up) == 4 and sum(ln.endswith(" 1.0") for ln in node_up) == 3
    finally:
        for n in (up, down, intake):
            n.stop()
        store.close()
