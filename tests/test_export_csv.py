"""`guestsync export-csv`: golden guests (and reservations) to CSV, BOM for Excel, CJK,
column mappings, and clear errors."""

from __future__ import annotations

import csv
import io
import shutil

import pytest
from click.testing import CliRunner

from guestsync.actions.export import load_columns, parse_columns, write_csv
from guestsync.cli import cli, main
from guestsync.config import load_config
from guestsync.errors import ConfigError
from guestsync.models import Consent, Guest
from guestsync.store import Store
from guestsync.sync_engine import Hub

from .conftest import SAMPLES

CONFIG = """\
store: {path: hub.db}
sources:
  pos:
    type: csv
    paths: [pos/*.csv]
    mapping: mappings/booking_zh.yaml
"""


@pytest.fixture
def hub_config(make_config, tmp_path):
    (tmp_path / "pos").mkdir()
    shutil.copy(SAMPLES / "pos_export_zh.csv", tmp_path / "pos" / "pos.csv")
    path = make_config(CONFIG)
    hub = Hub(load_config(path))
    hub.sync(deliver=False)
    hub.close()
    return path


def _read(path, encoding="utf-8") -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding))))


def test_bom_cjk_and_column_mapping_through_the_cli(hub_config, tmp_path):
    out = tmp_path / "guests.csv"
    result = CliRunner().invoke(
        cli,
        [
            "-c",
            str(hub_config),
            "export-csv",
            str(out),
            "--bom",
            "--column",
            "display_name=姓名",
            "--column",
            "phone=手機",
            "--column",
            "email",
        ],
    )
    assert result.exit_code == 0, result.output
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel needs the BOM to read UTF-8
    rows = _read(out, "utf-8-sig")
    assert rows[0] == ["姓名", "手機", "email"]
    assert ["陳小明", "+886912345678", "ming.chen@example.com"] in rows
    assert "row(s) for" in result.output


def test_without_bom_and_default_columns(hub_config, tmp_path):
    out = tmp_path / "guests.csv"
    assert main(["-c", str(hub_config), "export-csv", str(out)]) is None
    raw = out.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    rows = _read(out)
    assert rows[0][:3] == ["id", "display_name", "given_name"]
    store = Store.open(tmp_path / "hub.db")
    assert len(rows) - 1 == store.count_guests()


def test_with_reservations_one_row_per_booking_from_a_yaml_mapping(hub_config, tmp_path):
    mapping = tmp_path / "columns.yaml"
    mapping.write_text(
        "- display_name: 姓名\n- reservation.start_at: 訂位時間\n- reservation.venue: 分店\n"
        "- reservation.status\n",
        "utf-8",
    )
    out = tmp_path / "bookings.csv"
    result = CliRunner().invoke(
        cli,
        ["-c", str(hub_config), "export-csv", str(out), "--columns", str(mapping)],
        catch_exceptions=False,
    )
    assert result.exit_code == 0
    rows = _read(out)
    assert rows[0] == ["姓名", "訂位時間", "分店", "reservation.status"]
    store = Store.open(tmp_path / "hub.db")
    assert len(rows) - 1 == store.count_reservations()
    assert ["陳小明", "2026-12-01T19:00:00+08:00", "信義店", "completed"] in rows


def test_values_lists_dates_and_consent_are_spreadsheet_friendly(tmp_path):
    store = Store.open(":memory:")
    store.save_guest(
        Guest(
            id="g1",
            full_name="王, 大明",  # a comma inside a cell is quoted, not a new column
            allergies=["花生", "蝦"],
            birthday="1990-05-01",
            marketing_consent=Consent(granted=False),
        )
    )
    store.save_guest(Guest(id="g2", email="x@example.com"))
    buf = io.StringIO()
    cols = parse_columns(["full_name", "allergies=過敏", "birthday", "marketing_consent"])
    stats = write_csv(store, buf, cols)
    assert (stats.rows, stats.guests) == (2, 2)
    rows = list(csv.reader(io.StringIO(buf.getvalue())))
    assert rows[1] == ["王, 大明", "花生; 蝦", "1990-05-01", "no"]
    assert rows[2] == ["", "", "", ""]


def test_guest_without_reservations_still_appears_once(tmp_path):
    store = Store.open(":memory:")
    store.save_guest(Guest(id="g1", full_name="Solo"))
    buf = io.StringIO()
    stats = write_csv(store, buf, parse_columns(["id", "reservation.venue"]))
    assert (stats.rows, stats.guests) == (1, 1)


def test_unknown_column_is_a_clear_error_naming_file_and_line(tmp_path):
    mapping = tmp_path / "columns.yaml"
    mapping.write_text("email: 電子郵件\nphonne: 手機\n", "utf-8")
    with pytest.raises(ConfigError) as exc:
        load_columns(mapping)
    assert "columns.yaml:2" in str(exc.value) and "unknown column 'phonne'" in str(exc.value)
    with pytest.raises(ConfigError, match="valid columns: id, display_name"):
        parse_columns(["nope=X"])


def test_cli_errors_exit_2_and_leave_no_partial_file(hub_config, tmp_path, capsys):
    out = tmp_path / "guests.csv"
    with pytest.raises(SystemExit) as exc:
        main(["-c", str(hub_config), "export-csv", str(out), "--column", "bogus=X"])
    assert exc.value.code == 2
    assert "unknown column 'bogus'" in capsys.readouterr().err
    assert not out.exists()
    with pytest.raises(SystemExit) as exc:
        main(["-c", str(hub_config), "export-csv", str(tmp_path / "missing" / "x.csv")])
    assert exc.value.code == 2
    assert list(tmp_path.glob(".guests.csv.*")) == []


BRIDGE = (
    "Booking ID,Name,Email,Phone,Date,Time,Party Size,Status,Venue,Notes\n"
    "BK-1,Amy Lin,amy@example.com,+886 912 000 111,2026-12-25,12:00,3,Completed,Daan,\n"
    "BK-2,Amy Lin,,+886 933 123 456,2026-12-26,12:00,2,Completed,Daan,\n"
    "BK-3,Amy Lin,amy@example.com,+886 933 123 456,2026-12-27,12:00,2,Completed,Daan,\n"
)


def test_a_guest_merged_away_is_not_exported_and_its_bookings_follow_the_keeper(
    make_config, tmp_path
):
    """BK-1 and BK-2 make two guests; BK-3 (email of one, phone of the other) merges them."""
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "b.csv").write_text(BRIDGE, "utf-8")
    cfg = make_config(
        "store: {path: hub.db}\nsources:\n"
        "  site: {type: csv, paths: [site/*.csv], mapping: mappings/booking_en.yaml}\n"
    )
    hub = Hub(load_config(cfg))
    summary = hub.sync(deliver=False)
    assert summary.process.rejected == 0
    hub.close()
    store = Store.open(tmp_path / "hub.db")
    merged = store.conn.execute("SELECT count(*) FROM guests WHERE merged_into IS NOT NULL")
    assert merged.fetchone()[0] == 1 and store.count_guests() == 1
    store.close()

    out = tmp_path / "guests.csv"
    assert main(["-c", str(cfg), "export-csv", str(out), "--column", "id"]) is None
    assert len(_read(out)) == 2  # header + the one golden guest
    args = ["-c", str(cfg), "export-csv", str(out), "--with", "reservations"]
    assert main([*args, "--column", "id", "--column", "reservation.external_id"]) is None
    rows = _read(out)[1:]
    assert sorted(r[1] for r in rows) == ["BK-1", "BK-2", "BK-3"]
    assert len({r[0] for r in rows}) == 1  # all three under the guest that absorbed them


MIXED = ["--column", "reservation.venue"]
ORDERS_CONFIG = """\
store: {path: hub.db}
sources:
  pos:
    {type: csv, paths: [pos/pos_orders_zh.csv], mapping: mappings/pos_orders_zh.yaml,
     stream: orders}
"""


def test_orders_one_row_per_bill_and_never_mixed_with_reservations(make_config, tmp_path, capsys):
    (tmp_path / "pos").mkdir()
    shutil.copy(SAMPLES / "pos_orders_zh.csv", tmp_path / "pos" / "pos_orders_zh.csv")
    cfg = make_config(ORDERS_CONFIG)
    hub = Hub(load_config(cfg))
    hub.sync(deliver=False)
    n_orders = hub.store.count_orders()
    hub.close()
    assert n_orders > 0

    out = tmp_path / "orders.csv"
    result = CliRunner().invoke(
        cli,
        ["-c", str(cfg), "export-csv", str(out), "--bom", "--with", "orders"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    rows = _read(out, "utf-8-sig")
    header = rows[0]
    assert "order.total" in header and "reservation.start_at" not in header
    assert len(rows) - 1 == n_orders
    ext = header.index("order.external_id")
    total = header.index("order.total")
    assert any(r[ext] == "B-9001" and r[total] == "3200" for r in rows[1:])

    bad = tmp_path / "x.csv"
    with pytest.raises(SystemExit) as exc:
        main(["-c", str(cfg), "export-csv", str(bad), "--column", "order.total", *MIXED])
    assert exc.value.code == 2
    assert "not both" in capsys.readouterr().err
    assert not bad.exists()
