"""Mappings of every source type on the merged hub (issue 3): `mapping preview` by mapping
file and by source name (CSV, REST, Square, webhooks, Jiandaoyun), `validate` naming the
mapping's setting, removals that need only their id."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.console import Console

from guestsync.cli.mapping import _table
from guestsync.mapping.context import Context
from guestsync.mapping.preview import preview_record

from .conftest import MAPPINGS
from .test_mapping_cli import run
from .test_mapping_compiler import mapping
from .test_mapping_profiles import PROFILES, WEBHOOK_PROFILES, WEBHOOK_SAMPLES, run_profile

ALL_SOURCES = """\
store: {path: hub.db}
sources:
  site:
    type: csv
    paths: [bookings/*.csv]
    mapping: mappings/booking_en.yaml
  loyalty:
    type: rest
    base_url: https://loyalty.example.test
    streams:
      members: {path: v1/members, records: data, mapping: mappings/generic_booking.yaml}
  sq:
    type: square
    token: sq-token
  sqhook:
    type: webhook
    platform: square
    mapping: mappings/square_webhook_customers.yaml
    stream_mappings: {customers: mappings/square_webhook_customers.yaml,
                      bookings: mappings/square_webhook_bookings.yaml}
    webhook: {scheme: square, secrets: [k], notification_url: "https://h.example/w"}
  inline:
    type: webhook
    platform: inline
    mapping: mappings/inline_reservations.yaml
    webhook: {scheme: inline, secrets: [k]}
  toast:
    type: webhook
    platform: toast
    mapping: mappings/toast_guests.yaml
    webhook: {scheme: toast, secrets: [k]}
  zap:
    type: webhook
    mapping: mappings/generic_booking.yaml
    stream: bookings
    webhook: {scheme: hmac, secrets: [k], header: X-Signature}
  forms:
    type: jiandaoyun
    mapping: mappings/jiandaoyun_reservation.yaml
    secret: s
"""


def preview_json(capsys, *args: str) -> tuple[int, dict]:
    code = run(["mapping", "preview", *args, "-n", "50", "--json"])
    return code, json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("profile", sorted(PROFILES) + sorted(WEBHOOK_PROFILES))
def test_preview_by_mapping_file_agrees_with_the_golden_file(
    profile, capsys, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)  # no guestsync.yaml: the defaults (TW, Asia/Taipei)
    monkeypatch.delenv("GUESTSYNC_CONFIG", raising=False)
    if profile in PROFILES:
        sample, extra = MAPPINGS / "samples" / PROFILES[profile][0], []
    else:
        name, platform = WEBHOOK_PROFILES[profile]
        sample, extra = WEBHOOK_SAMPLES / name, ["--platform", platform] if platform else []
    code, doc = preview_json(capsys, str(MAPPINGS / f"{profile}.yaml"), str(sample), *extra)
    golden = run_profile(profile)
    got = [(r["external_id"], r["ok"]) for r in doc["records"]]
    want = [(g.get("external_id") or g["record"]["external_id"], "record" in g) for g in golden]
    assert got == want
    assert code == (0 if all(ok for _, ok in want) else 1)
    for r, g in zip(doc["records"], golden, strict=True):
        if r["ok"]:
            for key in ("phone", "email", "full_name", "family_name", "loyalty_ids"):
                assert r["record"]["guest"][key] == g["record"]["guest"].get(
                    key, [] if key == "loyalty_ids" else None
                )


def test_preview_splits_webhook_bodies_only_with_platform(capsys):
    m, body = (
        str(MAPPINGS / "inline_reservations.yaml"),
        str(WEBHOOK_SAMPLES / "inline_reservations.json"),
    )
    code, doc = preview_json(capsys, m, body)
    assert code == 1 and len(doc["records"]) == 1  # the whole body is not a reservation
    code, doc = preview_json(capsys, m, body, "--platform", "inline")
    assert code == 0 and [r["origin"] for r in doc["records"]] == [
        "item 1 event 1",
        "item 1 event 2",
    ]
    code, doc = preview_json(
        capsys, m, str(WEBHOOK_SAMPLES / "toast_guest.json"), "--platform", "inline"
    )
    assert code == 1 and "an inline webhook has an `events` list" in doc["records"][0]["error"]


@pytest.fixture
def all_sources(make_config, monkeypatch):
    cfg = make_config(ALL_SOURCES)
    monkeypatch.setenv("GUESTSYNC_CONFIG", str(cfg))
    return cfg


@pytest.mark.parametrize(
    ("source", "sample", "streams", "mappings"),
    [
        ("sqhook", "square_booking_created.json", ["bookings"], ["square_webhook_bookings"]),
        ("sqhook", "square_customer_updated.json", ["customers"], ["square_webhook_customers"]),
        ("inline", "inline_reservations.json", ["reservations"] * 2, ["inline_reservations"] * 2),
        ("toast", "toast_guest.json", ["order_updated"], ["toast_guests"]),
        ("zap", "generic_booking.json", ["bookings"], ["generic_booking"]),
        ("forms", "jiandaoyun_reservation.json", ["entries"] * 2, ["jiandaoyun_reservation"] * 2),
    ],
)
def test_preview_a_webhook_source_by_name(all_sources, capsys, source, sample, streams, mappings):
    code, doc = preview_json(capsys, source, str(WEBHOOK_SAMPLES / sample))
    assert [r["stream"] for r in doc["records"]] == streams
    assert [r["mapping"].removesuffix(".yaml").split("/")[-1] for r in doc["records"]] == mappings
    if source == "forms":  # the 2nd entry has no arrival time: rejected, and said why
        assert code == 1 and [r["ok"] for r in doc["records"]] == [True, False]
        assert doc["records"][0]["record"]["guest"]["phone"] == "+8613812345678"  # CN
        return
    assert code == 0, doc
    if source == "sqhook" and streams == ["bookings"]:  # the bookings mapping, not the default
        rec = doc["records"][0]["record"]
        assert rec["reservation"]["start_at"] == "2026-11-28T11:00:00Z"
        assert rec["guest"]["loyalty_ids"] == ["square:CUST_AMY"]


def test_preview_jiandaoyun_removals_and_api_entries(all_sources, capsys, tmp_path):
    entry = {"_id": "e9", "updateTime": "2026-11-20T12:00:00.000Z"}
    removal = {"op": "data_remove", "opTime": 1, "data": entry}
    sample = tmp_path / "jdy.json"
    sample.write_text(json.dumps([removal, entry, {"op": "nope", "data": entry}]), "utf-8")
    code, doc = preview_json(capsys, "forms", str(sample))
    removed, backfilled, bad = doc["records"]
    assert removed["ok"] and removed["record"]["deleted"] is True  # no start_at needed
    start = next(f for f in removed["fields"] if f["field"] == "start_at")
    assert start["error"] is None and "not needed for a removal" in start["warning"]
    assert not backfilled["ok"] and backfilled["record"] is None  # a live entry needs it
    assert "op must be one of" in bad["error"] and code == 1


def test_preview_pulled_sources_unwrap_pages_and_ask_for_the_stream(all_sources, capsys, tmp_path):
    page = tmp_path / "page.json"
    page.write_text(
        json.dumps({"data": [{"id": "m1", "start_at": "2026-12-01T19:00:00+08:00"}, {"id": "m2"}]}),
        "utf-8",
    )
    code, doc = preview_json(capsys, "loyalty", str(page))
    assert code == 1 and [(r["external_id"], r["ok"]) for r in doc["records"]] == [
        ("m1", True),
        ("m2", False),
    ]
    customers = str(MAPPINGS / "samples" / "square_customers.json")
    assert run(["mapping", "preview", "sq", customers]) == 2
    assert (
        "several streams: say which with --stream (bookings, customers)" in capsys.readouterr().err
    )
    answer = tmp_path / "answer.json"
    answer.write_text(
        json.dumps({"customers": json.loads(Path(customers).read_text("utf-8"))[:2]}), "utf-8"
    )
    code, doc = preview_json(capsys, "sq", str(answer), "--stream", "customers")
    assert [r["stream"] for r in doc["records"]] == ["customers"] * 2
    assert doc["records"][0]["record"]["guest"]["loyalty_ids"][0].startswith("square:")
    assert run(["mapping", "preview", "sq", customers, "--stream", "orders"]) == 2
    assert "has no stream 'orders'" in capsys.readouterr().err


def test_preview_csv_source_reads_with_its_settings(all_sources, capsys):
    _, doc = preview_json(capsys, "site", str(MAPPINGS / "samples" / "booking_en.csv"))
    assert doc["records"] and all(r["stream"] == "bookings" for r in doc["records"])


def test_errors_are_red_and_warnings_yellow():
    m = mapping(
        """\
        entity: guest
        fields:
          phone: {path: p, transforms: [phone]}
          email: {path: e, transforms: [email]}
          notes: {path: n}
        """
    )
    p = preview_record(m, {"p": "12-34", "e": "a@example.com"}, origin="item 1")
    console = Console(force_terminal=True, color_system="standard", width=200, record=True)
    console.print(_table(p))
    text = console.export_text(styles=True)
    assert "\x1b[31m" in text and "not a possible phone number" in text  # red
    ok = preview_record(
        mapping(
            "entity: guest\nfields:\n  phone: {path: p, transforms: [{phone: {invalid: keep}}]}\n"
        ),
        {"p": "12"},
        origin="i",
    )
    console.print(_table(ok))
    assert "\x1b[33m" in console.export_text(styles=True)  # yellow warning


# -- validate: the setting that names a missing mapping --------------------------------


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        (
            "bookings: mappings/square_webhook_bookings.yaml",
            "bookings: mappings/x.yaml",
            "sources.sqhook.stream_mappings.bookings",
        ),
        (
            "mapping: mappings/inline_reservations.yaml",
            "mapping: mappings/x.yaml",
            "sources.inline.mapping",
        ),
        (
            "mapping: mappings/jiandaoyun_reservation.yaml",
            "mapping: mappings/x.yaml",
            "sources.forms.mapping",
        ),
        (
            "mapping: mappings/generic_booking.yaml}",
            "mapping: mappings/x.yaml}",
            "sources.loyalty.streams.members.mapping",
        ),
        (
            "token: sq-token",
            "token: sq-token\n    streams: {bookings: {mapping: mappings/x.yaml}}",
            "sources.sq.streams.bookings.mapping",
        ),
    ],
)
def test_missing_mapping_names_its_setting(all_sources, capsys, old, new, where):
    text = all_sources.read_text("utf-8")
    assert old in text
    all_sources.write_text(text.replace(old, new, 1), "utf-8")
    assert run(["validate"]) == 2
    err = capsys.readouterr().err
    assert f"{where}: mapping file" in err and "x.yaml' not found" in err


def test_missing_shipped_square_profile_says_to_copy_it(all_sources, capsys):
    (all_sources.parent / "mappings" / "square_bookings.yaml").unlink()
    assert run(["validate"]) == 2
    assert "sources.sq.streams: mapping file" in (err := capsys.readouterr().err)
    assert "copy config/mappings/" in err


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("bookings: mappings/square_webhook_bookings.yaml", "bookings: mappings/bad.yaml"),
        ("mapping: mappings/jiandaoyun_reservation.yaml", "mapping: mappings/bad.yaml"),
        ("mapping: mappings/generic_booking.yaml}", "mapping: mappings/bad.yaml}"),
        (
            "token: sq-token",
            "token: sq-token\n    streams: {customers: {mapping: mappings/bad.yaml}}",
        ),
        ("mapping: mappings/toast_guests.yaml", "mapping: mappings/bad.yaml"),
    ],
)
def test_a_bad_mapping_of_any_source_type_names_file_line_field(all_sources, capsys, old, new):
    (all_sources.parent / "mappings" / "bad.yaml").write_text(
        "entity: reservation\nfields:\n  id: {path: id}\n"
        "  start_at: {path: 'a[', transforms: [datetime]}\n",
        "utf-8",
    )
    text = all_sources.read_text("utf-8")
    all_sources.write_text(text.replace(old, new, 1), "utf-8")
    assert run(["validate"]) == 2
    assert "bad.yaml:4: fields.start_at.path: bad JMESPath 'a['" in capsys.readouterr().err


# -- `deleted:` ------------------------------------------------------------------------

REMOVABLE = """\
entity: reservation
fields:
  id:       {path: id, required: true}
  deleted:  {path: gone}
  start_at: {path: at, transforms: [datetime], required: true}
"""


@pytest.mark.parametrize(
    ("value", "deleted"), [(True, True), ("no", False), ("yes", True), (0, False)]
)
def test_deleted_is_a_yes_no_never_truthiness(value, deleted):
    rec = mapping(REMOVABLE).apply(
        {"id": "r1", "gone": value, "at": "2026-12-01T19:00:00Z"},
        source="s",
        stream="x",
        external_id="r1",
    )
    assert rec.deleted is deleted


def test_a_removal_needs_only_its_id():
    from guestsync.errors import BadRecordError

    m = mapping(REMOVABLE)
    rec = m.apply({"id": "r1", "gone": True}, source="s", stream="x", external_id="r1")
    assert rec.deleted and rec.reservation is None
    with pytest.raises(BadRecordError, match="start_at: required"):
        m.apply({"id": "r1", "gone": False}, source="s", stream="x", external_id="r1")
    with pytest.raises(BadRecordError, match="id: required"):  # which record? say so
        m.apply({"gone": True}, source="s", stream="x", external_id="h")
    with pytest.raises(BadRecordError, match="deleted"):
        m.apply(
            {"id": "r1", "gone": "maybe", "at": "2026-12-01T19:00:00Z"},
            source="s",
            stream="x",
            external_id="r1",
        )


def test_shipped_jiandaoyun_profiles_read_mainland_numbers_whatever_the_region():
    from guestsync.mapping import load_mapping

    m = load_mapping(MAPPINGS / "jiandaoyun_signup.yaml", Context(region="TW"))
    raw = {"op": "data_create", "data": {"_id": "1", "_widget_1700000000102": "13912345678"}}
    assert m.apply(raw, source="s", stream="e", external_id="1").guest.phone == "+8613912345678"


def test_validate_lists_every_broken_mapping_and_compiles_shared_ones_once(all_sources, capsys):
    from guestsync.config import load_config
    from guestsync.sync_engine import Hub

    hub = Hub(load_config(all_sources))
    # zap and the loyalty stream share generic_booking.yaml: one compiled mapping
    assert hub.stream_mappings[("zap", "bookings")] is hub.stream_mappings[("loyalty", "members")]
    hub.close()
    bad = all_sources.parent / "mappings"
    (bad / "toast_guests.yaml").write_text("entity: guest\nfields:\n  phon: {path: p}\n", "utf-8")
    (bad / "inline_reservations.yaml").write_text(
        "entity: reservation\nfields:\n  id: {path: id, transforms: [nope]}\n", "utf-8"
    )
    assert run(["validate"]) == 2
    err = capsys.readouterr().err
    assert "toast_guests.yaml:3: fields.phon: unknown canonical field" in err
    assert "inline_reservations.yaml:3: fields.id.transforms.0: unknown transform 'nope'" in err


def test_preview_of_a_csv_source_reads_rows_as_the_import_does(all_sources, capsys, tmp_path):
    sample = tmp_path / "export.csv"
    sample.write_text(
        "BOOKING  id;name;ＰＨＯＮＥ;date;time\n"  # case, spaces, full width: matched loosely
        "B1;陳小明;0912345678;2026-12-24;19:30\n"
        "B2;x;0912345678;2026-12-24;19:30;extra\n",
        "utf-8",
    )
    code, doc = preview_json(capsys, "site", str(sample))
    good, bad = doc["records"]
    assert good["ok"] and good["record"]["guest"]["phone"] == "+886912345678"
    assert good["origin"] == "line 2" and good["external_id"] == "B1"
    assert not bad["ok"] and "6 values, header has 5" in bad["error"] and code == 1


def test_a_misspelt_webhook_stream_is_refused_where_it_is_written(all_sources, capsys):
    text = all_sources.read_text("utf-8")
    all_sources.write_text(
        text.replace("stream_mappings: {customers:", "stream_mappings: {customer:"), "utf-8"
    )
    assert run(["validate"]) == 2
    err = capsys.readouterr().err
    assert (
        "sources.sqhook.stream_mappings: Value error, no stream 'customer' for platform square"
        in err
    )
    all_sources.write_text(text.replace("secrets: [k]}", "secrets: [k], bogus: 1}", 1), "utf-8")
    assert run(["validate"]) == 2
    assert "sources.inline.webhook.bogus: unknown setting" in capsys.readouterr().err  # once


def test_options_that_do_not_fit_are_refused(all_sources, capsys):
    m, body = str(MAPPINGS / "toast_guests.yaml"), str(WEBHOOK_SAMPLES / "toast_guest.json")
    assert run(["mapping", "preview", m, body, "--stream", "guest"]) == 2
    assert run(["mapping", "preview", "toast", body, "--platform", "toast"]) == 2
    assert "--platform is for a mapping file" in capsys.readouterr().err
