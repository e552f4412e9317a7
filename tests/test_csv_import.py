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


def test_estimated_rows_counts_a_small_file_and_scales_a_large_one(tmp_path):
    """What decides whether the mapping worker starts before an import reads its files."""
    from guestsync.actions.import_csv import SAMPLE_BYTES, estimated_rows

    header = "booking_id,name,phone,email,date\n"
    row = "B{:06d},陳小明,0912345678,ming{:06d}@example.com,2026-01-02\n"
    small = _write(tmp_path / "small.csv", header + "".join(row.format(i, i) for i in range(10)))
    assert estimated_rows([small]) == 11  # counted: the header and ten rows
    no_newline = _write(tmp_path / "last.csv", header + row.format(1, 1).rstrip("\n"))
    assert estimated_rows([no_newline]) == 2
    n = 30_000  # ~1.9 MB: far past the sample
    large = _write(tmp_path / "large.csv", header + "".join(row.format(i, i) for i in range(n)))
    assert large.stat().st_size > 10 * SAMPLE_BYTES
    assert abs(estimated_rows([large]) - n) < n * 0.02
    assert estimated_rows([small, large]) == estimated_rows([small]) + estimated_rows([large])
    assert estimated_rows([tmp_path / "missing.csv"]) == 0  # the ingest says why


def test_the_mapping_worker_starts_ahead_only_for_enough_rows(make_config, tmp_path, monkeypatch):
    """A file of long rows below `parallel_min_rows` no longer starts a worker it will not
    use (it did from 800 KB: 20,000 rows of 40 bytes)."""
    from guestsync.actions import import_csv

    hub = Hub(load_config(make_config(slice_config("http://127.0.0.1:9"))))
    started: list[int] = []
    monkeypatch.setattr(hub, "start_mapping", lambda: started.append(1))
    monkeypatch.setattr(hub, "import_csv", lambda *a, **k: None)  # nothing read
    monkeypatch.setattr(hub, "process", lambda **k: None)
    monkeypatch.setattr(hub, "finish_imports", lambda *a, **k: ([], []))
    row = "B{:06d},{}\n"
    long_rows = _write(tmp_path / "long.csv", "".join(row.format(i, "x" * 90) for i in range(9000)))
    assert long_rows.stat().st_size > 20_000 * 40  # what started it before
    hub.parallel_min_rows = 20_000
    import_csv.import_files(hub, "site", [str(long_rows)])
    assert started == []
    hub.parallel_min_rows = 8_000
    import_csv.import_files(hub, "site", [str(long_rows)])
    assert started == [1]
    hub.close()
