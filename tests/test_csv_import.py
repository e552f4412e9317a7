"""Bad CSV rows are reported with their line and field; the good rows are kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from guestsync.cli import main
from guestsync.config import load_config
from guestsync.sync_engine import Hub

from .conftest import slice_config

HEADER = "Booking ID,Name,Email,Phone,Date,Time,Party Size,Status,Venue,Notes\n"


def _write(path: Path, body: str) -> Path:
    path.write_text(body, "utf-8")
    return path


def test_bad_rows_are_reported_by_line_and_good_rows_kept(make_config, tmp_path):
    csv = _write(
        tmp_path / "in.csv",
        HEADER
        + "B1,Amy Lin,amy@example.com,0912 000 111,2027-01-01,19:00,2,,,\n"
        + "B2,Bad Phone,bp@example.com,12-34,2027-01-01,19:00,2,,,\n"
        + 'B3,Multi Line,ml@example.com,0922 000 111,2027-01-01,19:00,2,,,"a\nb"\n'
        + "B4,Short Row,sr@example.com\n"
        + "B5,Good Two,g2@example.com,0933 000 111,2027-01-02,12:00,3,,,\n",
    )
    hub = Hub(load_config(make_config(slice_config("http://127.0.0.1:9"))))
    ingest = hub.import_csv("site", [csv])
    assert ingest.rows == 5 and ingest.new == 5
    stats = hub.process()
    assert stats.processed == 3 and stats.rejected == 2
    assert stats.errors[0] == (
        "site in.csv:3: guest.phone: not a possible phone number for region TW (value: '12-34')"
    )
    # Row B4 starts on line 6 because B3's quoted note spans lines 4-5.
    assert stats.errors[1].startswith("site in.csv:6: start_at: required value is missing")
    errors = hub.store.inbox_errors(source="site")
    assert [e.external_id for e in errors] == ["B2", "B4"]  # kept for replay
    assert hub.store.count_guests() == 3
    hub.close()


def test_file_without_a_required_column_is_rejected_whole(make_config, tmp_path):
    csv = _write(tmp_path / "nocol.csv", "Name,Email\nAmy,amy@example.com\n")
    hub = Hub(load_config(make_config(slice_config("http://127.0.0.1:9"))))
    stats = hub.import_csv("site", [csv])
    assert stats.files == 0 and stats.rows == 0
    assert "missing required column(s) 'Booking ID'" in stats.rejected_files[0]
    hub.close()


def test_reimporting_the_same_file_adds_nothing(make_config, tmp_path):
    csv = _write(
        tmp_path / "in.csv",
        HEADER + "B1,Amy Lin,amy@example.com,0912 000 111,2027-01-01,19:00,2,,,\n",
    )
    hub = Hub(load_config(make_config(slice_config("http://127.0.0.1:9"))))
    assert hub.import_csv("site", [csv]).new == 1
    assert hub.import_csv("site", [csv]).new == 0
    hub.close()


@pytest.mark.parametrize(
    ("rows", "code"),
    [
        ("B1,Amy Lin,amy@example.com,0912 000 111,2027-01-01,19:00,2,,,\n", 0),
        (
            "B1,Amy Lin,amy@example.com,0912 000 111,2027-01-01,19:00,2,,,\n"
            "B2,Bad,b@example.com,12,2027-01-01,19:00,2,,,\n",
            1,
        ),
        ("B2,Bad,b@example.com,12,2027-01-01,19:00,2,,,\n", 2),
    ],
)
def test_import_csv_exit_status(make_config, tmp_path, rows, code, capsys):
    cfg = make_config(slice_config("http://127.0.0.1:9"))
    csv = _write(tmp_path / "in.csv", HEADER + rows)
    with pytest.raises(SystemExit) as info:
        main(["-c", str(cfg), "import-csv", str(csv), "--source", "site"])
    assert info.value.code == code
    if code:
        assert "in.csv:" in capsys.readouterr().err
