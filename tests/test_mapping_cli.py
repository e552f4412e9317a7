"""`guestsync mapping preview` and `guestsync replay --errors` (issue 3)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from guestsync.cli import main
from guestsync.config import load_config
from guestsync.errors import BadRecordError
from guestsync.sync_engine import Hub

from .conftest import MAPPINGS, slice_config

HEADER = "Booking ID,Name,Email,Phone,Date,Time,Party Size,Status,Venue,Notes\n"
ROWS = (
    "B1,Amy Lin,amy@example.com,0912 000 111,2027-01-01,19:00,2,,,\n"
    "B2,Bad Phone,bp@example.com,12-34,2027-01-01,19:00,2,,,\n"
    "B3,Bad Size,bs@example.com,0933 000 111,2027-01-01,19:00,two,,,\n"
)


def run(args: list[str]) -> int:
    with pytest.raises(SystemExit) as info:
        main(args)
    return int(info.value.code or 0)


def test_preview_json_shows_each_field_its_origin_and_errors(tmp_path, capsys):
    sample = tmp_path / "s.csv"
    sample.write_text(HEADER + ROWS, "utf-8")
    code = run(
        ["mapping", "preview", str(MAPPINGS / "booking_en.yaml"), str(sample), "-n", "2", "--json"]
    )
    assert code == 1  # the second record would be rejected
    doc = json.loads(capsys.readouterr().out)
    assert doc["entity"] == "reservation" and len(doc["records"]) == 2
    good, bad = doc["records"]
    assert good["ok"] and good["record"]["guest"]["phone"] == "+886912000111"
    phone = next(f for f in good["fields"] if f["field"] == "guest.phone")
    assert phone == {
        "field": "guest.phone",
        "from": "column 'Phone'",
        "raw": "0912 000 111",
        "value": "+886912000111",
        "error": None,
        "warning": None,
    }
    start = next(f for f in good["fields"] if f["field"] == "start_at")
    assert start["value"] == "2027-01-01T19:00:00+08:00"
    assert not bad["ok"] and bad["record"] is None
    bad_phone = next(f for f in bad["fields"] if f["field"] == "guest.phone")
    assert "not a possible phone number" in bad_phone["error"] and bad_phone["raw"] == "12-34"


def test_preview_by_source_name_renders_a_table(make_config, tmp_path, capsys):
    cfg = make_config(slice_config("http://127.0.0.1:9"))
    sample = tmp_path / "s.json"
    sample.write_text(
        json.dumps([{"Booking ID": "J1", "Date": "2027-01-01", "Time": "19:00", "Phone": "1"}]),
        "utf-8",
    )
    assert run(["-c", str(cfg), "mapping", "preview", "site", str(sample)]) == 1
    text = capsys.readouterr().out
    assert "canonical field" in text and "guest.phone" in text and "column 'Phone'" in text
    assert "rejected" in text and "0 of 1 record(s) map cleanly" in text


def test_preview_unknown_source_is_a_config_error(make_config, tmp_path, capsys):
    cfg = make_config(slice_config("http://127.0.0.1:9"))
    sample = tmp_path / "s.json"
    sample.write_text("{}", "utf-8")
    assert run(["-c", str(cfg), "mapping", "preview", "nope", str(sample)]) == 2
    assert "neither a mapping file nor a configured source (sources: site)" in (
        capsys.readouterr().err
    )


def _fix_mapping(cfg: Path) -> None:
    path = cfg.parent / "mappings" / "booking_en.yaml"
    text = path.read_text("utf-8")
    text = text.replace(
        "transforms: [strip, phone]}", "transforms: [strip, {phone: {invalid: keep}}]}"
    )
    assert "invalid: keep" in text
    path.write_text(text, "utf-8")


def test_replay_errors_after_the_mapping_is_fixed(make_config, tmp_path, capsys):
    cfg = make_config(slice_config("http://127.0.0.1:9"))
    csv = tmp_path / "in.csv"
    csv.write_text(HEADER + ROWS, "utf-8")
    hub = Hub(load_config(cfg))
    hub.import_csv("site", [csv])
    stats = hub.process()
    assert (stats.processed, stats.rejected) == (1, 2)
    hub.close()

    # Nothing fixed yet: replaying puts the rows back and they fail again, same reasons.
    assert run(["-c", str(cfg), "replay", "--errors", "--json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert (doc["requeued"], doc["processed"], doc["rejected"]) == (2, 0, 2)

    _fix_mapping(cfg)
    assert run(["-c", str(cfg), "replay", "--errors", "--source", "site", "--json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert (doc["requeued"], doc["processed"], doc["rejected"]) == (2, 1, 1)
    assert "site in.csv:3: guest.phone: kept as written" in doc["warnings"][0]
    assert "party_size: not a whole number" in doc["errors"][0]

    hub = Hub(load_config(cfg))
    assert [r.external_id for r in hub.store.inbox_errors()] == ["B3"]
    assert hub.store.inbox_counts() == {"done": 2, "error": 1}
    assert hub.store.count_guests() == 2
    hub.close()


def test_replay_needs_what_and_a_known_source(make_config, capsys):
    cfg = make_config(slice_config("http://127.0.0.1:9"))
    assert run(["-c", str(cfg), "replay"]) == 2
    assert run(["-c", str(cfg), "replay", "--errors", "--source", "nope"]) == 2
    assert "unknown source 'nope'" in capsys.readouterr().err
    assert run(["-c", str(cfg), "replay", "--errors"]) == 0  # nothing to replay is fine


def test_mapping_schema_is_json_schema(capsys):
    main(["mapping", "schema"])
    doc = json.loads(capsys.readouterr().out)
    assert doc["title"] == "guestsync mapping"
    assert {"column", "path", "first_of", "template"} <= set(
        doc["$defs"]["FieldSpec"]["properties"]
    )


def test_preview_and_apply_agree_on_every_profile_sample():
    """Preview runs each field on its own (per-field code); apply runs the whole record."""
    from guestsync.mapping import load_mapping
    from guestsync.mapping.context import Context
    from guestsync.mapping.preview import preview_record
    from guestsync.mapping.samples import read_sample

    for sample in sorted((MAPPINGS / "samples").iterdir()):
        mapping = load_mapping(MAPPINGS / f"{sample.stem}.yaml", Context(region="CN"))
        for origin, raw in read_sample(sample):
            p = preview_record(mapping, raw, origin=origin, source="s")
            try:
                rec = mapping.apply(raw, source="s", stream="preview", external_id=p.external_id)
            except BadRecordError as exc:
                assert not p.ok and (p.error or any(f.error for f in p.fields)), (origin, exc)
                continue
            assert p.record == rec


def test_validate_names_the_mapping_file_line_and_field(make_config, capsys):
    cfg = make_config(slice_config("http://127.0.0.1:9"))
    bad = cfg.parent / "mappings" / "booking_en.yaml"
    bad.write_text(
        "entity: reservation\nfields:\n  start_at: {column: When, transforms: [datetme]}\n",
        "utf-8",
    )
    assert run(["-c", str(cfg), "validate"]) == 2
    err = capsys.readouterr().err
    assert "booking_en.yaml:3: fields.start_at.transforms.0: unknown transform 'datetme'" in err


def test_samples_json_lines_csv_and_errors(tmp_path):
    from guestsync.errors import ConfigError
    from guestsync.mapping.samples import read_sample

    jl = tmp_path / "s.jsonl"
    jl.write_text('{"a": 1}\n\n{"a": 2}\n', "utf-8")
    assert list(read_sample(jl)) == [("line 1", {"a": 1}), ("line 3", {"a": 2})]
    one = tmp_path / "one.json"
    one.write_text('{"a": 1}', "utf-8")
    assert list(read_sample(one)) == [("item 1", {"a": 1})]
    csv = tmp_path / "s.csv"
    csv.write_bytes("\ufeff姓名 ,電話\n陳小明,0912\n\n王,\n".encode())
    assert list(read_sample(csv, encoding="auto")) == [
        ("line 2", {"姓名": "陳小明", "電話": "0912"}),
        ("line 4", {"姓名": "王", "電話": ""}),
    ]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"a": 1}\n{oops}\n', "utf-8")
    with pytest.raises(ConfigError) as info:
        list(read_sample(bad))
    assert info.value.line == 2 and "invalid JSON" in str(info.value)
    with pytest.raises(ConfigError, match="must be"):
        list(read_sample(tmp_path / "x.xml"))
