"""Prometheus metrics of the service, in a registry of its own (one per app, so tests and
several apps in one process do not collide). Queue gauges are read from the store when
scraped, so they are right even after a restart.

Under `guestsync serve` several processes count (the intake processes, the service that
receives the worker's counts): prometheus_client's multiprocess mode, each process writing
its values to files in PROMETHEUS_MULTIPROC_DIR, and /metrics, answered by any intake
process, adds up the files of all of them."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, values
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class _QueueCollector(Collector):
    def __init__(self, store: Any, lock: threading.Lock) -> None:
        self.store = store
        self.lock = lock

    def collect(self) -> Iterator[GaugeMetricFamily]:
        with self.lock:
            inbox = self.store.inbox_counts()
            oldest = self.store.oldest_pending_inbox_age()
            outbox = self.store.outbox_depths()
            dead = self.store.dead_letter_counts()
            nodes = self.store.nodes()
        g = GaugeMetricFamily("guestsync_inbox_rows", "Inbox rows by status", labels=["status"])
        for status in ("pending", "fetch", "done", "error", "suppressed"):
            g.add_metric([status], inbox.get(status, 0))
        yield g
        yield GaugeMetricFamily(
            "guestsync_inbox_oldest_pending_seconds",
            "Age of the oldest inbox row not yet processed",
            value=oldest or 0.0,
        )
        depth = GaugeMetricFamily("guestsync_outbox_pending", "Pending pushes", labels=["target"])
        age = GaugeMetricFamily(
            "guestsync_outbox_oldest_pending_seconds", "Oldest pending push", labels=["target"]
        )
        for target, (n, a) in outbox.items():
            depth.add_metric([target], n)
            age.add_metric([target], a or 0.0)
        yield depth
        yield age
        d = GaugeMetricFamily("guestsync_dead_letters", "Dead letters", labels=["target"])
        for target, n in dead.items():
            d.add_metric([target], n)
        yield d
        yield from _node_gauges(nodes)


def _node_gauges(nodes: list[Any]) -> Iterator[GaugeMetricFamily]:
    """Every `serve` node sharing the store and its worker, from the store's nodes table
    (serve/nodes.py): the same on whichever node /metrics is scraped."""
    now = datetime.now(UTC)
    labels = ["node", "host", "pid", "role"]
    up = GaugeMetricFamily(
        "guestsync_node_up", "1 while the node beats, 0 once silent", labels=labels
    )
    seen = GaugeMetricFamily(
        "guestsync_node_last_seen_seconds", "Seconds since the node's last beat", labels=labels
    )
    worker = GaugeMetricFamily(
        "guestsync_node_worker_up",
        "1 while the node's worker runs (0: down, or the node silent); nodes without one absent",
        labels=labels,
    )
    for n in nodes:
        key = [n.id, n.host, str(n.pid), n.role]
        silent = n.silent(now)
        up.add_metric(key, 0 if silent else 1)
        seen.add_metric(key, (now - n.last_seen).total_seconds())
        if n.worker is not None:
            worker.add_metric(key, 1 if n.worker == "up" and not silent else 0)
    yield up
    yield seen
    yield worker


SHARED_DIR = "PROMETHEUS_MULTIPROC_DIR"


def share_between_processes(directory: str) -> None:
    """Count this process's metrics in `directory`, with the processes started after this
    call (they inherit the variable). prometheus_client picks its value class when it is
    imported, before `serve` knows the directory: it is set again here."""
    os.environ[SHARED_DIR] = directory
    values.ValueClass = values.MultiProcessValue()


class Metrics:
    def __init__(self) -> None:
        self.shared_dir = os.environ.get(SHARED_DIR)
        self._watched: list[Collector] = []
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.received = Counter(
            "guestsync_webhooks_received", "Webhook requests", ["source"], registry=r
        )
        self.accepted = Counter(
            "guestsync_webhooks_accepted", "Webhooks stored (202)", ["source"], registry=r
        )
        self.duplicates = Counter(
            "guestsync_webhooks_duplicate",
            "Webhooks already received (200)",
            ["source"],
            registry=r,
        )
        self.rejected = Counter(
            "guestsync_webhooks_rejected", "Webhooks refused", ["source", "reason"], registry=r
        )
        self.commits = Counter(
            "guestsync_webhook_commits", "Inbox transactions (group commits)", registry=r
        )
        self.committed = Counter(
            "guestsync_webhook_committed_events", "Events written by those commits", registry=r
        )
        self.deliveries = Counter(
            "guestsync_deliveries", "Records accepted by a target", ["target"], registry=r
        )
        self.retries = Counter("guestsync_delivery_retries", "Retries", ["target"], registry=r)
        self.dead = Counter("guestsync_delivery_dead", "New dead letters", ["target"], registry=r)
        self.runs = Histogram(
            "guestsync_run_seconds", "Duration of worker stages", ["stage"], registry=r
        )

    def watch_store(self, store: Any, lock: threading.Lock) -> None:
        collector = _QueueCollector(store, lock)
        self._watched.append(collector)
        self.registry.register(collector)

    def render(self) -> bytes:
        """This registry; under multiprocess mode, every process's counts instead."""
        if self.shared_dir is None:
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=self.shared_dir)
        for collector in self._watched:
            registry.register(collector)
        return generate_latest(registry)
