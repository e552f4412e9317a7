"""What commands show (issue 24): guest ids as their shortest unique prefix, which the
guest commands take back; times in `defaults.timezone` with the offset, never bare UTC."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from guestsync.actions import guests as guest_admin
from guestsync.cli import cli
from guestsync.cli.timefmt import local
from guestsync.config import load_config
from guestsync.models import Guest
from guestsync.process.resolve import IdentityError
from guestsync.store import Store

from .conftest import SAMPLES

TWINS = ["0190aaaa-bbbb-7ccc-8ddd-000000000001", "0190aaaa-bbbb-7ccc-8ddd-000000000002"]
LONER = "0190ffff-0000-7000-8000-000000000000"


@pytest.fixture
def ids_store(store: Store) -> Store:
    with store.atomic():
        store.save_guests(Guest(id=i, full_name=f"Guest {i[-1]}") for i in [*TWINS, LONER])
    return store


def test_short_ids_are_as_long_as_uniqueness_needs(ids_store):
    short = guest_admin.short_ids(ids_store, [*TWINS, LONER])
    assert short[LONER] == "0190ffff"
    assert short[TWINS[0]] == TWINS[0] and short[TWINS[1]] == TWINS[1]  # differ at the end
    for gid, prefix in short.items():
        assert guest_admin.expand_id(ids_store, prefix) == gid


def test_a_prefix_never_ends_on_a_dash(ids_store):
    other = "0190ffff-1000-7000-8000-000000000000"
    with ids_store.atomic():
        ids_store.save_guest(Guest(id=other, full_name="x"))
    short = guest_admin.short_ids(ids_store, [LONER, other])
    assert short[LONER] == "0190ffff-0" and short[other] == "0190ffff-1"


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("0190aaaa", "more than one guest id"),
        ("0190", "more than one guest id"),
        ("019", "at least 4 characters"),
        ("beef", "no guest id starts with 'beef'"),
        ("  ", "no guest id given"),
    ],
)
def test_an_ambiguous_or_unknown_id_is_a_readable_error(ids_store, typed, message):
    with pytest.raises(IdentityError, match=message):
        guest_admin.expand_id(ids_store, typed)


def _synced(make_config, tmp_path):
    d = tmp_path / "bookings"
    d.mkdir()
    (d / "site.csv").write_text((SAMPLES / "booking_site.csv").read_text("utf-8"), "utf-8")
    cfg = make_config(
        "store: {path: hub.db}\n"
        "defaults: {timezone: Asia/Taipei}\n"
        "sources:\n"
        "  site: {type: csv, paths: [bookings/*.csv], mapping: mappings/booking_en.yaml}\n"
    )
    assert CliRunner().invoke(cli, ["-c", str(cfg), "sync"]).exit_code in (0, 1)
    return cfg


def test_guests_search_shows_ids_that_guests_show_takes_back(make_config, tmp_path):
    cfg = _synced(make_config, tmp_path)
    store = Store.open(load_config(cfg).store_path)
    try:
        ids = [g.id for g in store.all_guests()]
    finally:
        store.close()
    assert len(ids) > 2
    # UUIDv7: guests created in the same minute share their first 8 characters
    assert len({i[:8] for i in ids}) < len(ids)
    found = CliRunner().invoke(cli, ["-c", str(cfg), "guests", "search", "a", "--limit", "50"])
    assert found.exit_code == 0, found.output
    shown = re.findall(r"│ ([0-9a-f][0-9a-f-]{7,}) ", found.output)
    assert shown
    for prefix in shown:
        result = CliRunner().invoke(cli, ["-c", str(cfg), "guests", "show", prefix])
        assert result.exit_code == 0, result.output
        (full,) = [i for i in ids if i.startswith(prefix)]
        assert f"guest {full}" in result.output
    ambiguous = CliRunner().invoke(cli, ["-c", str(cfg), "guests", "show", ids[0][:8]])
    assert isinstance(ambiguous.exception, IdentityError)


def test_status_shows_times_in_the_configured_zone(make_config, tmp_path):
    cfg = _synced(make_config, tmp_path)
    store = Store.open(load_config(cfg).store_path)
    try:
        started = store.runs()[0]["started_at"]
    finally:
        store.close()
    result = CliRunner().invoke(cli, ["-c", str(cfg), "status"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    taipei = datetime.fromisoformat(started).astimezone(ZoneInfo("Asia/Taipei"))
    assert taipei.strftime("%Y-%m-%d %H:%M") + " +08:00" in result.output
    assert "times in Asia/Taipei" in result.output


def test_local_keeps_text_that_is_not_a_time():
    assert local("page-7", "Asia/Taipei") == "page-7"
    assert local(None, "Asia/Taipei") == "-"
    when = datetime(2026, 1, 1, 16, 30, tzinfo=UTC)
    assert local(when, "Asia/Hong_Kong") == "2026-01-02 00:30 +08:00"
    assert local("2026-01-01T16:30:00", "Asia/Taipei", seconds=True) == "2026-01-02 00:30:00 +08:00"
