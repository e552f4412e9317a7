"""`sync --dry-run`, `outbox` and `dead-letters` against a fake HubSpot on 127.0.0.1."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from guestsync.cli import cli
from guestsync.testing import FakeHubSpot, ServerThread

from .conftest import SAMPLES, slice_config

MORE = (
    "Booking ID,Name,Email,Phone,Date,Time,Party Size,Status,Venue,Notes\n"
    "BK-2003,Kevin Chang,kevin@example.com,+886 988 765 433,2027-02-03,19:00,2,,,\n"
)


@pytest.fixture
def setup(make_config, tmp_path: Path):
    d = tmp_path / "bookings"
    d.mkdir()
    shutil.copy(SAMPLES / "booking_site.csv", d / "site.csv")
    crm = FakeHubSpot()
    with ServerThread(crm.app) as server:
        cfg = make_config(slice_config(server.url))
        yield crm, cfg, d


def _run(cfg: Path, *args: str):
    return CliRunner().invoke(cli, ["-c", str(cfg), *args], catch_exceptions=False)


def test_dry_run_lists_creates_then_field_changes_and_sends_nothing(setup):
    crm, cfg, bookings = setup
    result = _run(cfg, "sync", "--dry-run")
    assert result.exit_code == 1, result.output  # the sample has one bad row
    assert "hubspot: 13 to create, 0 to update, 0 to merge, 0 to delete" in result.output
    assert "email: 'kevin@example.com'" in result.output
    assert crm.counts["requests"] == 0 and crm.contacts == {}

    _run(cfg, "sync")
    assert len(crm.contacts) == 13
    (bookings / "more.csv").write_text(MORE, "utf-8")
    before = crm.counts["requests"]
    result = _run(cfg, "sync", "--dry-run", "--target", "hubspot")
    assert "hubspot: 0 to create, 1 to update" in result.output
    assert "phone: '+886988765432' -> '+886988765433'" in result.output
    assert crm.counts["requests"] == before
    # Nothing was marked delivered: the real sync still sends the update.
    _run(cfg, "sync")
    assert crm.counts["updated"] == 1


def test_outbox_shows_depth_age_and_attempts(setup):
    _, cfg, _ = setup
    _run(cfg, "sync", "--no-deliver")
    result = _run(cfg, "outbox")
    assert result.exit_code == 0
    row = next(line for line in result.output.splitlines() if "hubspot" in line)
    cells = [c.strip() for c in re.split(r"[│|]", row) if c.strip()]
    assert cells[:2] == ["hubspot", "13"] and cells[2].endswith("s")


def test_dead_letters_list_show_and_retry(setup):
    crm, cfg, _ = setup
    _run(cfg, "sync", "--no-deliver")
    from guestsync.config import load_config
    from guestsync.store import Store

    store = Store.open(load_config(cfg).store_path)
    victim = store.pending_outbox("hubspot", limit=1)[0].guest_id
    store.close()
    crm.reject[victim] = "Property values were not valid: lastname too long"
    assert _run(cfg, "sync").exit_code == 1
    listed = _run(cfg, "dead-letters", "list")
    assert victim in listed.output and "lastname too long" in listed.output
    dl_id = next(line for line in listed.output.splitlines() if victim in line).split()[0]
    shown = _run(cfg, "dead-letters", "show", dl_id)
    assert "lastname too long" in shown.output and f'"guestsync_id": "{victim}"' in shown.output

    assert _run(cfg, "dead-letters", "retry").exit_code == 2  # needs IDS or --all
    del crm.reject[victim]
    assert "1 dead letter(s) re-queued" in _run(cfg, "dead-letters", "retry", "--all").output
    assert _run(cfg, "sync").exit_code == 0
    assert len(crm.find("guestsync_id", victim)) == 1
    assert victim not in _run(cfg, "dead-letters", "list").output
    assert victim in _run(cfg, "dead-letters", "list", "--all").output


def test_resume_lifts_a_quota_pause_that_outbox_and_status_show(setup, monkeypatch):
    from datetime import UTC, datetime, timedelta

    from guestsync.delivery.batches import QUOTA_PAUSE
    from guestsync.store import Store, ts

    _, cfg, _ = setup
    _run(cfg, "sync")
    store = Store.open(cfg.parent / "hub.db")
    until = ts(datetime.now(UTC) + timedelta(hours=5))
    with store.atomic():
        store.set_meta(QUOTA_PAUSE.format(target="hubspot"), until)
    from guestsync.cli.app import out

    monkeypatch.setattr(out, "width", 200)  # the tables have many columns
    # shown in defaults.timezone with its offset (issue 24), not as stored (UTC)
    from guestsync.cli.timefmt import local

    shown = local(until, "Asia/Taipei")
    assert shown.endswith("+08:00") and shown in _run(cfg, "outbox").output
    assert f"until {shown}" in _run(cfg, "status").output

    result = _run(cfg, "resume", "hubspot")
    assert result.exit_code == 0 and "lifted" in result.output
    assert store.get_meta(QUOTA_PAUSE.format(target="hubspot")) is None
    assert "not paused" in _run(cfg, "resume", "hubspot").output
    bad = CliRunner().invoke(cli, ["-c", str(cfg), "resume", "nope"])
    assert bad.exit_code == 1 and "no target 'nope'" in bad.output
    store.close()
