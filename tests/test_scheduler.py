"""Schedules: cron expressions in the config, checked at load, one job per source, no
overlap, a runs row per job run, and `schedule list` with next run times."""

from __future__ import annotations

import shutil
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from click.testing import CliRunner

from guestsync.cli import cli
from guestsync.config import load_config
from guestsync.errors import ConfigError
from guestsync.serve.scheduler import build_scheduler, next_runs, source_jobs
from guestsync.sync_engine import Hub

from .conftest import SAMPLES

CONFIG = """\
store: {path: hub.db}
defaults: {timezone: Asia/Taipei}
sources:
  nightly:
    type: csv
    paths: [in/*.csv]
    mapping: mappings/booking_en.yaml
    schedule: "30 3 * * *"
  manual:
    type: csv
    mapping: mappings/booking_en.yaml
targets:
  hubspot: {type: hubspot, token: x, base_url: "http://127.0.0.1:9"}
"""


def test_a_bad_cron_expression_is_a_config_error_with_its_line(make_config):
    path = make_config(CONFIG.replace('"30 3 * * *"', '"every night"'))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert "guestsync.yaml:8" in str(info.value) and "bad cron expression" in str(info.value)


def test_one_job_per_scheduled_source_with_its_next_run(make_config):
    config = load_config(make_config(CONFIG))
    jobs = source_jobs(config, lambda: Hub(config))
    assert [j.id for j in jobs] == ["source:nightly"]
    now = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Asia/Taipei"))
    ((job_id, cron, when),) = next_runs(jobs, timezone="Asia/Taipei", now=now)
    assert (job_id, cron) == ("source:nightly", "30 3 * * *")
    assert when.isoformat() == "2026-11-24T03:30:00+08:00"


def test_jobs_never_overlap_coalesce_and_have_a_misfire_grace(make_config):
    config = load_config(make_config(CONFIG))
    sched = build_scheduler(
        source_jobs(config, lambda: Hub(config)),
        timezone="Asia/Taipei",
        scheduler=BackgroundScheduler(timezone=ZoneInfo("Asia/Taipei")),
        misfire_grace=120,
    )
    (job,) = sched.get_jobs()
    assert job.id == "source:nightly"
    assert job.max_instances == 1 and job.coalesce is True and job.misfire_grace_time == 120


def test_a_job_run_imports_its_source_and_leaves_a_runs_row(make_config, tmp_path):
    config = load_config(make_config(CONFIG))
    (tmp_path / "in").mkdir()
    shutil.copy(SAMPLES / "booking_site.csv", tmp_path / "in" / "site.csv")
    (job,) = source_jobs(config, lambda: Hub(config))
    assert job.run() in ("ok", "partial")
    hub = Hub(config)
    (run,) = hub.store.runs()
    assert run["kind"] == "schedule:source:nightly" and run["finished_at"]
    assert hub.store.count_guests() > 0
    hub.close()


def test_schedule_list_prints_next_run_times(make_config):
    path = make_config(CONFIG)
    result = CliRunner().invoke(cli, ["-c", str(path), "schedule", "list"])
    assert result.exit_code == 0, result.output
    assert "source:nightly" in result.output and "03:30" in result.output
    assert "manual" not in result.output


def test_every_pull_source_kind_may_have_a_schedule(make_config):
    text = CONFIG.replace(
        "targets:",
        "  forms:\n"
        "    type: jiandaoyun\n"
        "    mapping: mappings/jiandaoyun_feedback.yaml\n"
        '    schedule: "0 * * * *"\n'
        "targets:",
    )
    config = load_config(make_config(text))
    jobs = source_jobs(config, lambda: Hub(config))
    assert [j.id for j in jobs] == ["source:nightly", "source:forms"]
