"""The insight commands end to end on a real store: report (terminal and HTML), targets
setup (print and create against HubSpot's properties API), forget, refresh."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import responses
from click.testing import CliRunner

from guestsync.cli import cli
from guestsync.config import load_config
from guestsync.sync_engine import Hub

from .activity_fixtures import feed
from .test_aggregates import AMY_RECORDS

CONFIG = """\
store: {path: hub.db}
targets:
  hubspot:
    type: hubspot
    token: test-token
    base_url: http://hubspot.test
  sf_like:
    type: hubspot
    token: test-token
    base_url: http://other.test
crm:
  properties:
    sf_like: {Visits: visit_count, Tier: segment}
"""


@pytest.fixture
def cfg(tmp_path: Path) -> Path:
    path = tmp_path / "guestsync.yaml"
    path.write_text(CONFIG, "utf-8")
    hub = Hub(load_config(path))
    feed(hub.store, AMY_RECORDS)  # Amy: booking, POS and survey records
    hub.close()
    return path


def test_report_prints_the_summary_and_writes_a_self_contained_page(cfg, tmp_path):
    page = tmp_path / "report.html"
    args = ["-c", str(cfg), "report", "--lang", "en", "--html", str(page)]
    result = CliRunner().invoke(cli, args, env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    assert "Guests by segment" in result.output and "regular" in result.output
    assert "Beer" in result.output and "33.3 % of 3" in result.output  # top dish, no-shows
    html = page.read_text("utf-8")
    assert html.startswith("<!doctype html>") and '<html lang="en">' in html
    assert "Seafood set" in html and "No-show rate by source" in html
    assert "http" not in html  # nothing to fetch: it opens offline


def test_report_speaks_the_language_of_the_configs_region(cfg, tmp_path):
    """Issue 24: the default language follows defaults.region (TW here: zh-TW)."""
    page = tmp_path / "report.html"
    args = ["-c", str(cfg), "report", "--html", str(page)]
    result = CliRunner().invoke(cli, args, env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    assert "賓客分群" in result.output and "常客" in result.output
    assert '<html lang="zh-TW">' in page.read_text("utf-8")
    cn = cfg.read_text("utf-8") + "defaults: {region: CN, timezone: Asia/Shanghai}\n"
    cfg.write_text(cn, "utf-8")
    result = CliRunner().invoke(cli, ["-c", str(cfg), "report"], env={"COLUMNS": "120"})
    assert "宾客分群" in result.output and "爽约" in result.output


def test_targets_setup_print_lists_the_custom_properties_per_target(cfg):
    result = CliRunner().invoke(cli, ["-c", str(cfg), "targets", "setup", "--print"])
    assert result.exit_code == 0, result.output
    assert "gs_segment" in result.output and "guestsync_id (unique)" in result.output
    assert "Visits" in result.output and "Tier" in result.output  # configured, not defaults
    assert "gs_visit_count" in result.output


@responses.activate
def test_targets_setup_create_posts_hubspot_property_definitions(cfg):
    responses.post("http://hubspot.test/crm/v3/properties/contacts", json={}, status=201)
    responses.upsert(
        responses.POST,
        "http://hubspot.test/crm/v3/properties/contacts",
        json={"status": "error", "message": "Property already exists", "category": "CONFLICT"},
        status=409,
    )  # every call after the first: already there
    responses.post("http://other.test/crm/v3/properties/contacts", json={}, status=201)
    result = CliRunner().invoke(cli, ["-c", str(cfg), "targets", "setup", "--create"])
    assert result.exit_code == 0, result.output
    bodies = [json.loads(c.request.body) for c in responses.calls]
    seg = next(b for b in bodies if b["name"] == "gs_segment")
    assert seg["type"] == "string" and seg["fieldType"] == "text"
    assert next(b for b in bodies if b["name"] == "guestsync_id")["hasUniqueValue"] is True
    opt = next(b for b in bodies if b["name"] == "gs_email_opt_in")
    assert opt["fieldType"] == "booleancheckbox" and len(opt["options"]) == 2
    assert "exists" in result.output


def test_forget_and_refresh_commands(cfg):
    runner = CliRunner()
    result = runner.invoke(cli, ["-c", str(cfg), "refresh"])
    assert result.exit_code == 0 and "1 guest(s) recomputed" in result.output
    result = runner.invoke(cli, ["-c", str(cfg), "forget", "--email", "amy@example.com", "--yes"])
    assert result.exit_code == 0, result.output
    assert "forgot 1 guest(s)" in result.output
    log = runner.invoke(cli, ["-c", str(cfg), "forget", "--log"])
    assert log.exit_code == 0 and "#1 " in log.output and "done" in log.output
    assert "amy" not in log.output
    again = runner.invoke(cli, ["-c", str(cfg), "forget", "--email", "amy@example.com", "--yes"])
    assert again.exit_code == 2
    both = runner.invoke(cli, ["-c", str(cfg), "forget", "--email", "a@b.c", "--phone", "1"])
    assert both.exit_code != 0
