"""Scheduled jobs once per cluster: several `serve` nodes on one store each fire every
job, and one of them runs each firing (serve/scheduler.py `cluster_turn`)."""

from __future__ import annotations

import shutil
import threading
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler

from guestsync.config import load_config
from guestsync.serve.scheduler import Job, build_scheduler, cluster_turn, fired_at, source_jobs
from guestsync.store import Store, open_store, ts
from guestsync.sync_engine import Hub

from .conftest import SAMPLES
from .test_scheduler import CONFIG

TZ = "Asia/Taipei"


def _at(hh: int, mm: int, ss: int = 0) -> datetime:
    return datetime(2026, 11, 23, hh, mm, ss, tzinfo=ZoneInfo(TZ))


def test_a_firing_is_the_latest_cron_time_at_or_before_now():
    assert fired_at("*/5 * * * *", TZ, _at(10, 7, 30)) == _at(10, 5)
    assert fired_at("*/5 * * * *", TZ, _at(10, 5)) == _at(10, 5)
    assert fired_at("30 3 * * *", TZ, _at(3, 33)) == _at(3, 30)  # run late, within grace
    assert fired_at("30 3 * * *", TZ, _at(10, 0)) is None  # no firing within the grace


def test_a_firing_is_claimed_once_and_a_later_one_again(store: Store):
    assert store.claim_firing("source:x", ts(_at(10, 5)))
    assert not store.claim_firing("source:x", ts(_at(10, 5)))  # the other node
    assert store.claim_firing("source:y", ts(_at(10, 5)))  # another job
    assert store.claim_firing("source:x", ts(_at(10, 10)))
    assert not store.claim_firing("source:x", ts(_at(10, 5)))  # a late, older firing


def _node(url: str, job_id: str, runs: list[str], name: str, hold: threading.Event | None):
    """One node's scheduler with one every-minute job that counts its runs."""
    store = open_store(url)

    def run() -> str:
        with cluster_turn(store, job_id) as mine:
            if not mine:
                return "skipped"
            runs.append(name)
            if hold is not None:
                hold.wait(30)
            return "ok"

    sched = build_scheduler(
        [Job(job_id, "* * * * *", run)],
        timezone=TZ,
        scheduler=BackgroundScheduler(timezone=ZoneInfo(TZ)),
    )
    return store, sched.get_job(job_id).func  # what the scheduler calls at each firing


def test_two_nodes_firing_a_job_one_after_the_other_run_it_once(pg_url):
    runs: list[str] = []
    (a, fire_a), (b, fire_b) = (_node(pg_url, "export:x", runs, n, None) for n in "ab")
    assert fire_a() == "ok"
    assert fire_b() == "skipped"  # same minute: the firing was claimed by a
    assert runs == ["a"]
    assert fire_a() == "skipped"  # and a itself does not run it twice either
    a.close()
    b.close()


def test_two_nodes_firing_at_once_run_it_once(pg_url):
    runs: list[str] = []
    hold = threading.Event()
    (a, fire_a), (b, fire_b) = (_node(pg_url, "export:x", runs, n, hold) for n in "ab")
    results: dict[str, str] = {}
    threads = [
        threading.Thread(target=lambda n=n, f=f: results.__setitem__(n, f()))
        for n, f in (("a", fire_a), ("b", fire_b))
    ]
    for t in threads:
        t.start()
    for _ in range(600):  # until one of them runs it (and holds the lease meanwhile)
        if runs and len(results) == 1:
            break
        threading.Event().wait(0.05)
    assert len(runs) == 1 and list(results.values()) == ["skipped"]
    hold.set()
    for t in threads:
        t.join(30)
    assert sorted(results.values()) == ["ok", "skipped"] and len(runs) == 1
    a.close()
    b.close()


def test_a_scheduled_source_sync_runs_once_on_two_nodes_of_one_store(make_config, pg_url, tmp_path):
    config = load_config(make_config(CONFIG.replace("{path: hub.db}", f"{{url: '{pg_url}'}}")))
    (tmp_path / "in").mkdir()
    shutil.copy(SAMPLES / "booking_site.csv", tmp_path / "in" / "site.csv")
    minute = [_at(3, 30, 2)]  # the nightly job (30 3 * * *) fires on both nodes

    def node() -> Any:
        sched = build_scheduler(
            source_jobs(config, lambda: Hub(config)),
            timezone=TZ,
            scheduler=BackgroundScheduler(timezone=ZoneInfo(TZ)),
            clock=lambda: minute[0],
        )
        return sched.get_job("source:nightly").func

    a, b = node(), node()
    assert a() in ("ok", "partial") and b() == "skipped"
    minute[0] = _at(3, 30, 40)  # b's clock, a little behind: still the same firing
    assert b() == "skipped"
    minute[0] = datetime(2026, 11, 24, 3, 30, 1, tzinfo=ZoneInfo(TZ))  # the next night
    assert b() in ("ok", "partial") and a() == "skipped"
    store = open_store(pg_url)
    kinds = [r["kind"] for r in store.runs()]
    assert kinds.count("schedule:source:nightly") == 2
    assert store.count_guests() > 0
    store.close()
