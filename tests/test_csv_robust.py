"""CSV import that survives real exports: encodings, BOM, delimiters, quoted newlines,
tolerant headers, bad rows, import-once, archive, rejects, exit status. Golden files hold
the mapped records; every encoding of the same export must give the same golden output.
Regenerate them with UPDATE_GOLDEN=1 after a deliberate change."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pytest

from guestsync.actions.import_csv import import_files
from guestsync.cli import main
from guestsync.config import load_config
from guestsync.connectors.csv_source import detect_encoding, match_header, sniff_delimiter
from guestsync.sync_engine import Hub

GOLDEN = Path(__file__).parent / "golden"

CONFIG = """\
store: {path: hub.db}
sources:
  zh: {type: csv, mapping: mappings/booking_zh.yaml}
  zh_hans: {type: csv, mapping: mappings/booking_zh_hans.yaml}
  en: {type: csv, mapping: mappings/booking_en.yaml, rejects: true}
targets:
  hubspot: {type: hubspot, token: x, base_url: "http://127.0.0.1:9"}
"""

HANT = (
    "訂位編號,姓名,電話,Email,訂位日期,訂位時間,人數,狀態,分店,備註\r\n"
    "P-1,陳小明,0912-345-678,ming@example.com,2026/12/01,19:00,2,已完成,信義店,\r\n"
    'P-2,林美玲,0922 111 222,,2026/12/03,12:00,4,已確認,大安店,"不吃牛\r\n靠窗"\r\n'
    "P-3,張雅婷,0955666777,,2026/12/05,18:30,5,未到,大安店,\r\n"
)
HANS = (
    "订位编号,姓名,电话,邮箱,订位日期,订位时间,人数,状态,分店,备注\n"
    "S-1,王小红,+86 139 1234 5678,hong@example.cn,2026/12/01,19:00,2,已完成,静安店,不吃辣\n"
    "S-2,李建国,13800138000,,2026/12/02,12:00,3,未到,徐汇店,\n"
)
EN_HEADER = "Booking ID,Name,Email,Phone,Date,Time,Party Size,Status,Venue,Notes\n"
EN_JA = EN_HEADER + (
    "J-1,山田太郎,taro@example.jp,+81 90-1234-5678,2026-12-01,19:00,2,Confirmed,Ginza,窓側\n"
    "J-2,佐藤花子,hanako@example.jp,+81 80-1111-2222,2026-12-02,18:00,3,Completed,Ginza,\n"
)


@pytest.fixture
def hub(make_config):
    h = Hub(load_config(make_config(CONFIG)))
    yield h
    h.close()


def _mapped(hub: Hub) -> list[dict]:
    """Every stored row as its mapping makes it (the golden output)."""
    out = []
    for row in hub.store.pending_inbox(limit=1000):
        rec = hub.mapping_for(row.source, row.stream).apply(
            json.loads(row.raw), source=row.source, stream=row.stream, external_id=row.external_id
        )
        out.append({"origin": row.origin, **rec.model_dump(mode="json", exclude_defaults=True)})
    return out


def _golden(name: str, actual: list[dict]) -> None:
    path = GOLDEN / f"{name}.json"
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps(actual, ensure_ascii=False, indent=1) + "\n", "utf-8")
    assert actual == json.loads(path.read_text("utf-8"))


@pytest.mark.parametrize("encoding", ["big5", "utf-8-sig", "utf-8", "gb18030"])
def test_traditional_chinese_export_in_any_encoding_maps_to_the_same_golden(
    hub, tmp_path, encoding
):
    path = tmp_path / "pos.csv"
    path.write_bytes(HANT.encode(encoding))
    stats = hub.import_csv("zh", [path])
    assert stats.rows == 3 and not stats.bad_rows and not stats.rejected_files
    _golden("csv_zh_hant", _mapped(hub))


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8-sig"])
def test_simplified_chinese_export_maps_to_the_same_golden(hub, tmp_path, encoding):
    path = tmp_path / "pos.csv"
    path.write_bytes(HANS.encode(encoding))
    assert hub.import_csv("zh_hans", [path]).rows == 2
    _golden("csv_zh_hans", _mapped(hub))


@pytest.mark.parametrize(("encoding", "delimiter"), [("shift_jis", ","), ("utf-8", ";")])
def test_japanese_shift_jis_and_semicolon_exports(hub, tmp_path, encoding, delimiter):
    path = tmp_path / "ja.csv"
    path.write_bytes(EN_JA.replace(",", delimiter).encode(encoding))
    assert hub.import_csv("en", [path]).rows == 2
    _golden("csv_en_ja", _mapped(hub))


def test_detection_helpers(tmp_path):
    for enc, expect in [("big5", "cp950"), ("gbk", "gb18030"), ("shift_jis", "cp932")]:
        p = tmp_path / f"{enc}.csv"
        p.write_bytes((HANT if enc == "big5" else HANS if enc == "gbk" else EN_JA).encode(enc))
        assert detect_encoding(p) == expect
    p = tmp_path / "bom.csv"
    p.write_bytes(HANT.encode("utf-8-sig"))
    assert detect_encoding(p) == "utf-8-sig"
    p = tmp_path / "west.csv"  # Excel on a Western Windows
    p.write_bytes("Booking ID,Name\nB1,José Müller\nB2,Renée Café\n".encode("cp1252"))
    assert detect_encoding(p) == "cp1252"
    assert sniff_delimiter("a\tb\tc,d") == "\t"
    assert sniff_delimiter('"x;y",b,c') == ","
    assert match_header(["\ufeffbooking  ID", "ＮＡＭＥ", "x"], ["Booking ID", "Name"]) == [
        "Booking ID",
        "Name",
        "x",
    ]


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def test_tolerant_headers_and_a_tab_delimited_file(hub, tmp_path):
    header = " booking id \tＮａｍｅ\tEMAIL\tphone\tdate\ttime\tparty size\tstatus\tvenue\tnotes\n"
    row = "T-1\tAmy Lin\tamy@example.com\t0912000111\t2026-12-24\t19:30\t2\t\tXinyi\t\n"
    stats = hub.import_csv("en", [_write(tmp_path / "tab.csv", header + row)])
    assert not stats.rejected_files and stats.rows == 1
    assert hub.process().processed == 1


def test_bad_rows_are_reported_by_file_row_column_and_kept_out_with_rejects_csv(hub, tmp_path):
    raw = EN_HEADER.encode() + (
        b"B1,Amy Lin,amy@example.com,0912000111,2026-12-24,19:30,2,,,\n"
        b"B2,Too,many@example.com,0912000222,2026-12-24,19:30,2,,,,extra\n"
        b"B3,\xff\xfeBad,bad@example.com,0912000333,2026-12-24,19:30,2,,,\n"
        b"B4,Bad Phone,p@example.com,12-34,2026-12-24,19:30,2,,,\n"
        b"B5,Ok Too,ok@example.com,0912000555,2026-12-25,12:00,3,,,\n"
    )
    raw += "B6,陳小明,c6@example.com,0912000666,2026-12-25,12:00,3,,,窗邊座位\n".encode()
    path = tmp_path / "site.csv"
    path.write_bytes(raw)
    report = import_files(hub, "en", [str(path)])
    rendered = [p.render() for p in report.ingest.bad_rows]
    assert rendered[0] == "site.csv:3: 11 values, header has 10"
    assert rendered[1].startswith("site.csv:4: Name: bytes not valid in utf-8")
    assert report.process.processed == 3 and report.process.rejected == 1
    assert "site.csv:5: guest.phone:" in report.process.errors[0]
    assert report.exit_code == 1
    (rejects,) = report.rejects_files
    with rejects.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["_row"], r["_column"], r["Booking ID"]) for r in rows] == [
        ("3", "", "B2"),
        ("4", "Name", "B3"),
        ("5", "Phone", "B4"),
    ]
    assert "phone number for region TW (value: '12-34')" in rows[2]["_error"]


def test_each_file_is_imported_once_unless_forced_and_can_be_archived(hub, tmp_path):
    d = tmp_path / "drop"
    d.mkdir()
    _write(d / "a.csv", EN_HEADER + "A1,Amy,amy@example.com,0912000111,2026-12-24,19:30,2,,,\n")
    _write(d / "b.csv", EN_HEADER + "B1,Bob,bob@example.com,0912000222,2026-12-24,19:30,2,,,\n")
    first = import_files(hub, "en", [str(d)])
    assert first.ingest.files == 2 and first.exit_code == 0
    again = import_files(hub, "en", [str(d / "*.csv")])
    assert again.ingest.files == 0 and len(again.ingest.skipped_files) == 2
    assert again.exit_code == 0
    forced = import_files(hub, "en", [str(d / "a.csv")], force=True, archive=str(tmp_path / "done"))
    assert forced.ingest.files == 1 and forced.ingest.new == 0  # the inbox had those rows
    assert [p.name for p in forced.archived] == ["a.csv"]
    assert not (d / "a.csv").exists() and (tmp_path / "done" / "a.csv").exists()


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
def test_quiet_import_exit_status(make_config, tmp_path, rows, code, capsys):
    cfg = make_config(CONFIG)
    path = _write(tmp_path / "in.csv", EN_HEADER + rows)
    with pytest.raises(SystemExit) as info:
        main(["-c", str(cfg), "import-csv", str(path), "--source", "en", "--quiet"])
    assert info.value.code == code
    captured = capsys.readouterr()
    assert captured.out == ""  # quiet: nothing but errors
    assert ("in.csv:" in captured.err) == bool(code)


def test_nothing_matching_exits_2(make_config, tmp_path, capsys):
    cfg = make_config(CONFIG)
    with pytest.raises(SystemExit) as info:
        main(["-c", str(cfg), "import-csv", str(tmp_path / "none*.csv"), "--source", "en"])
    assert info.value.code == 2
    assert "no file matches" in capsys.readouterr().err


def test_sync_archives_configured_files_and_writes_their_rejects(make_config, tmp_path):
    cfg = make_config(
        CONFIG.replace("rejects: true}", "rejects: true, paths: [drop/*.csv], archive: done}")
    )
    (tmp_path / "drop").mkdir()
    _write(
        tmp_path / "drop" / "x.csv",
        EN_HEADER
        + "X1,Amy,amy@example.com,0912000111,2026-12-24,19:30,2,,,\n"
        + "X2,Bad,bad@example.com,12,2026-12-24,19:30,2,,,\n",
    )
    hub = Hub(load_config(cfg))
    summary = hub.sync(sources=["en"], deliver=False)
    hub.close()
    assert summary.process.processed == 1 and summary.process.rejected == 1
    assert (tmp_path / "done" / "x.csv").exists() and not (tmp_path / "drop" / "x.csv").exists()
    rejects = (tmp_path / "drop" / "x.rejects.csv").read_text("utf-8-sig")
    assert "X2" in rejects and "X1" not in rejects
