"""Nodes: each `serve` process beats its row in the store (serve/nodes.py), and
`guestsync status` lists every node sharing the store, a silent one as silent."""

from __future__ import annotations

import os
import threading
from datetime import timedelta

from click.testing import CliRunner

from guestsync.cli import cli
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
