"""`guestsync mapping suggest`: a working first mapping from an export's headers and values."""

from __future__ import annotations

import csv
from pathlib import Path

from click.testing import CliRunner

from guestsync.cli import cli
from guestsync.mapping import compile_mapping
from guestsync.mapping.context import Context
from guestsync.mapping.suggest import suggest
from guestsync.yamlfile import load_yaml

MAINLAND = [
    {"名字": "王小红", "手机": "138 0013 8000", "电子邮箱": "hong@example.cn",
     "预订日期": "2026-12-24", "预订时间": "19:30", "人数": "4", "状态": "已确认"},
    {"名字": "欧阳娜娜", "手机": "13900139000", "电子邮箱": "",
     "预订日期": "2026-12-25", "预订时间": "12:00", "人数": "2", "状态": "已取消"},
]  # fmt: skip


def _compile(yaml: str, region: str):
    return compile_mapping(load_yaml("suggested.yaml", text=yaml), Context(region=region))


def test_headers_in_simplified_chinese_make_a_reservation_mapping():
    made = suggest(list(MAINLAND[0]), MAINLAND, region="CN")
    assert made.columns == {
        "name": "名字", "phone": "手机", "email": "电子邮箱", "date": "预订日期",
        "time": "预订时间", "party_size": "人数", "status": "状态",
    }  # fmt: skip
    m = _compile(made.yaml, "CN")
    recs = [m.apply(r, source="s", stream="b", external_id=m.external_id(r)) for r in MAINLAND]
    assert [r.guest.phone for r in recs] == ["+8613800138000", "+8613900139000"]
    assert recs[1].guest.family_name == "欧阳" and recs[1].guest.email is None
    assert recs[0].reservation.start_at.isoformat().startswith("2026-12-24T19:30")
    assert recs[1].reservation.status == "cancelled"


def test_columns_whose_headers_say_nothing_are_known_by_their_values():
    rows = [
        {"c1": "amy@example.com", "c2": "0912-345-678", "c3": "2026/12/24", "c4": "18:00"},
        {"c1": "bob@example.com", "c2": "0922 333 444", "c3": "2026/12/25", "c4": "19:30"},
    ]
    made = suggest(["c1", "c2", "c3", "c4"], rows, region="TW")
    assert made.columns == {"email": "c1", "phone": "c2", "date": "c3", "time": "c4"}
    m = _compile(made.yaml, "TW")
    rec = m.apply(rows[0], source="s", stream="b", external_id=m.external_id(rows[0]))
    assert rec.guest.phone == "+886912345678" and rec.reservation.start_at.hour == 18


def test_the_command_writes_the_mapping_and_tries_it_on_the_file(tmp_path: Path):
    sample = tmp_path / "export.csv"
    with sample.open("w", newline="", encoding="utf-8-sig") as fh:  # as Excel saves it
        w = csv.DictWriter(fh, fieldnames=list(MAINLAND[0]))
        w.writeheader()
        w.writerows(MAINLAND)
    out = tmp_path / "mine.yaml"
    res = CliRunner().invoke(
        cli, ["mapping", "suggest", str(sample), "--region", "CN", "-o", str(out)]
    )
    assert res.exit_code == 0, res.output
    assert "2 of 2 sample row(s) map cleanly" in res.output
    assert "entity: reservation" in out.read_text("utf-8")
