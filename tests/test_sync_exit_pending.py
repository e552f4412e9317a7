"""Issue 23: `sync` says how many records wait and why, and exits 3; an empty secret is a
config error; `outbox` and `status` agree on the age of the oldest pending record."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from guestsync.cli import cli, main
from guestsync.config import load_config
from guestsync.errors import ConfigError
from guestsync.store import Store, ts, utcnow
from guestsync.testing import ServerThread
from guestsync.testing.fake_hubspot import FakeHubSpot

from .conftest import SAMPLES

RETRY = {"max_attempts": 2, "initial_wait": 0, "max_wait": 0}


def _config(make_config, tmp_path: Path, url: str, token: str = "test-token") -> Path:
    d = tmp_path / "bookings"
    d.mkdir(exist_ok=True)
    rows = (SAMPLES / "booking_site.csv").read_text("utf-8").splitlines()[:4]
    (d / "site.csv").write_text("\n".join(rows) + "\n", "utf-8")  # rows that all map
    block = {"type": "hubspot", "token": token, "base_url": url, "retry": RETRY}
    return make_config(
        "store: {path: hub.db}\n"
        "sources:\n"
        "  site: {type: csv, paths: [bookings/*.csv], mapping: mappings/booking_en.yaml}\n"
        f"targets: {json.dumps({'hubspot': block})}\n"
    )


def _run(cfg: Path, *args: str):
    return CliRunner().invoke(cli, ["-c", str(cfg), *args], catch_exceptions=False)


def test_wrong_token_exits_3_and_says_how_many_are_pending(make_config, tmp_path):
    crm = FakeHubSpot(token="right")
    with ServerThread(crm.app) as server:
        cfg = _config(make_config, tmp_path, server.url, token="wrong")
        result = _run(cfg, "sync")
    assert result.exit_code == 3, result.output
    assert "nothing to push" not in result.output
    assert "hubspot: credentials refused (401):" in " ".join(result.output.split())
    store = Store.open(load_config(cfg).store_path)
    try:
        runs = store.conn.execute("SELECT status FROM runs").fetchall()
    finally:
        store.close()
    assert runs == [("partial",)]


def test_records_left_pending_after_the_passes_exit_3_with_the_reason(make_config, tmp_path):
    from guestsync.testing.fakecrm import FaultPlan

    crm = FakeHubSpot(faults=FaultPlan(script=[500] * 200))
    with ServerThread(crm.app) as server:
        cfg = _config(make_config, tmp_path, server.url)
        result = _run(cfg, "sync")
    text = " ".join(result.output.split())
    assert result.exit_code == 3, result.output
    assert "still pending" in text or "gave up for this run" in text


def test_an_empty_secret_is_a_validation_error(make_config, tmp_path):
    cfg = _config(make_config, tmp_path, "http://127.0.0.1:9", token="")
    try:
        load_config(cfg)
    except ConfigError as exc:
        assert "targets.hubspot.token" in str(exc) and "is empty" in str(exc)
    else:
        raise AssertionError("an empty token passed validation")
    with pytest.raises(SystemExit) as exited:
        main(["validate", str(cfg)])
    assert exited.value.code == 2


def test_outbox_and_status_report_the_same_oldest_pending_age(store):
    with store.atomic():
        store.enqueue("hubspot", "g1", {"a": "1"}, "h1")
        old = ts(utcnow() - timedelta(hours=5))
        store.conn.execute("UPDATE outbox SET pending_since = ?, created_at = ?", (old, old))
        store.conn.execute("UPDATE outbox SET updated_at = ?", (ts(),))  # a failed attempt
    (depth,) = store.outbox_overview()
    _, age = store.outbox_depths()["hubspot"]
    assert depth.oldest_pending == old
    assert age is not None and abs(age - 5 * 3600) < 60
