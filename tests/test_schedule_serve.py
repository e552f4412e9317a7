"""`guestsync serve` runs the scheduled jobs (sources and exports) of issue 6: one job per
`schedule:`, no overlap, a misfire grace, a run row per run, and a scheduled source run
never at the same time as a worker step. The scheduler is paused as soon as serve has
started it: jobs run when the test calls them, never by the clock."""

from __future__ import annotations

import shutil
import threading
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from guestsync.cli import cli
from guestsync.config import load_config
from guestsync.errors import ConfigError
from guestsync.serve.scheduler import Job, guarded, run_source
from guestsync.serve.service import Service
from guestsync.sync_engine import Hub

from .conftest import SAMPLES

CONFIG = """\
store: {path: hub.db}
defaults: {timezone: Asia/Taipei}
server: {worker_interval: 60}
sources:
  nightly:
    type: csv
    paths: [in/*.csv]
    mapping: mappings/booking_en.yaml
    schedule: "30 3 1 1 *"
exports:
  guests:
    path: out/guests.csv
    columns: {display_name: 姓名, email: 電子郵件}
    bom: true
    schedule: "0 4 * * 1"
  adhoc:
    path: out/adhoc.csv
targets:
  hubspot: {type: hubspot, token: x, base_url: "http://127.0.0.1:9"}
"""


class SpyLock:
    """A lock that tells when someone waits for it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.waiting = threading.Event()

    def __enter__(self) -> SpyLock:
        self.waiting.set()
        self.lock.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.lock.release()


@pytest.fixture
def config(make_config, tmp_path):
    (tmp_path / "in").mkdir()
    shutil.copy(SAMPLES / "booking_site.csv", tmp_path / "in" / "site.csv")
    return load_config(make_config(CONFIG))


def test_serve_schedules_every_source_and_export_job_and_runs_them(config, tmp_path):
    service = Service(config, port=0, worker=False).start()
    try:
        sched = service.scheduler
        sched.pause()
        jobs = {j.id: j for j in sched.get_jobs()}
        assert set(jobs) == {"source:nightly", "export:guests"}  # adhoc has no schedule
        for job in jobs.values():
            assert job.max_instances == 1 and job.coalesce and job.misfire_grace_time == 300
        # "0 4 * * 1" is Monday as cron reads it (APScheduler alone would say Tuesday)
        assert jobs["export:guests"].trigger.get_next_fire_time(None, _at(10)).day == 30

        assert jobs["source:nightly"].func() in ("ok", "partial")
        assert jobs["export:guests"].func() == "ok"
    finally:
        service.stop(timeout=5)
    assert not sched.running
    hub = Hub(config)
    kinds = {r["kind"]: r for r in hub.store.runs()}
    assert kinds["schedule:source:nightly"]["finished_at"]
    assert kinds["schedule:export:guests"]["status"] == "ok"
    assert hub.store.count_guests() > 0
    hub.close()
    data = (tmp_path / "out" / "guests.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf" + "姓名,電子郵件".encode())
    assert len(data.decode("utf-8-sig").splitlines()) > 1


def test_jobs_sharing_a_lock_run_one_after_the_other(config):
    """`schedule run`: two sources due at once share one lock (serve: the worker's turn)."""
    spy = SpyLock()
    spy.lock.acquire()  # another job is running
    results: list[str] = []
    t = threading.Thread(
        target=lambda: results.append(run_source(lambda: Hub(config), "nightly", exclusive=spy))
    )
    t.start()
    assert spy.waiting.wait(30)
    assert results == []  # waits for its turn
    spy.lock.release()
    t.join(30)
    assert results and results[0] in ("ok", "partial")
    hub = Hub(config)
    assert hub.store.count_guests() > 0
    hub.close()


def test_a_scheduled_source_run_takes_turns_with_the_worker(config):
    service = Service(config, port=0, worker=False)
    spy = SpyLock()
    service.worker.turn = spy  # type: ignore[assignment]
    service.start()
    try:
        service.scheduler.pause()
        spy.lock.acquire()  # the worker is in the middle of a step
        job = service.scheduler.get_job("source:nightly")
        t = threading.Thread(target=job.func)
        t.start()
        assert spy.waiting.wait(30)  # the job waits for the worker's turn
        spy.lock.release()
        t.join(30)
        assert not t.is_alive()
    finally:
        service.stop(timeout=5)


def test_the_same_job_never_runs_twice_at_once():
    started, release = threading.Event(), threading.Event()

    def slow() -> str:
        started.set()
        release.wait(30)
        return "ok"

    run = guarded(Job("source:x", "* * * * *", slow))
    results: list[str] = []
    t = threading.Thread(target=lambda: results.append(run()))
    t.start()
    assert started.wait(30)
    assert run() == "skipped"
    release.set()
    t.join(30)
    assert results == ["ok"] and run() == "ok"


def test_a_failing_job_is_recorded_and_the_next_run_goes_on():
    calls = []

    def boom() -> str:
        calls.append(1)
        raise RuntimeError("CRM down")

    run = guarded(Job("export:x", "* * * * *", boom))
    assert run() == "failed" and run() == "failed" and len(calls) == 2


def test_schedule_list_and_once_cover_exports(config, tmp_path):
    runner = CliRunner()
    path = str(config.path)
    listed = runner.invoke(cli, ["-c", path, "schedule", "list"])
    assert listed.exit_code == 0, listed.output
    assert "export:guests" in listed.output and "source:nightly" in listed.output
    assert "adhoc" not in listed.output
    assert "ok" not in listed.output  # no run yet
    once = runner.invoke(cli, ["-c", path, "schedule", "once", "export:adhoc", "export:guests"])
    assert once.exit_code == 0, once.output
    assert (tmp_path / "out" / "adhoc.csv").exists()
    assert (tmp_path / "out" / "guests.csv").exists()
    again = runner.invoke(cli, ["-c", path, "schedule", "list"])
    assert "ok" in again.output.split("export:guests")[1].split("source:nightly")[0]
    bad = runner.invoke(cli, ["-c", path, "schedule", "once", "export:nope"])
    assert bad.exit_code != 0 and "unknown job export:nope" in bad.output


def test_an_export_with_an_unknown_column_is_a_config_error_with_its_line(make_config):
    text = CONFIG.replace("display_name: 姓名", "nickname: 暱稱")
    with pytest.raises(ConfigError) as info:
        load_config(make_config(text))
    assert "guestsync.yaml:13" in str(info.value) and "nickname" in str(info.value)


def _at(hour: int):
    from datetime import datetime

    return datetime(2026, 11, 23, hour, 0, tzinfo=ZoneInfo("Asia/Taipei"))
