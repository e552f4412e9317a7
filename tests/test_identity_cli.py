"""`guestsync guests …` and `guestsync review …` on the bundled sample bookings."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

from guestsync.cli import cli
from guestsync.config import load_config
from guestsync.store import Store

from .conftest import SAMPLES, slice_config


@pytest.fixture
def synced(make_config, tmp_path):
    d = tmp_path / "bookings"
    d.mkdir()
    shutil.copy(SAMPLES / "booking_site.csv", d / "site.csv")
    # A couple sharing 王大同's email: possibly one guest, a person decides.
    (d / "couple.csv").write_text(
        "Booking ID,Name,Email,Phone,Date,Time,Party Size,Status,Venue,Notes\n"
        "BK-3001,林淑芬,datong.wang@example.tw,,2027-03-01,19:00,2,Confirmed,,\n",
        "utf-8",
    )
    cfg = make_config(slice_config("http://127.0.0.1:9"))
    result = run(cfg, "sync", "--no-deliver")
    assert result.exit_code == 1, result.output  # one sample row has a bad phone
    return cfg


def run(cfg, *args):
    return CliRunner().invoke(cli, ["-c", str(cfg), *args], catch_exceptions=False)


def _store(cfg) -> Store:
    return Store.open(load_config(cfg).store_path)


def _guest_id(cfg, name: str) -> str:
    s = _store(cfg)
    try:
        return next(g.id for g in s.all_guests() if g.full_name == name)
    finally:
        s.close()


def test_search_finds_a_guest_in_any_script_and_show_lists_its_records(synced):
    result = run(synced, "guests", "search", "Chen Xiao Ming")
    assert "陳小明" in result.output and "陳美玲" not in result.output
    gid = _guest_id(synced, "陳小明")
    shown = json.loads(run(synced, "guests", "show", gid, "--json").output)
    assert shown["golden"]["full_name"] == "陳小明"
    assert [x["link"] for x in shown["links"]] == ["site:bookings:BK-1001"]
    assert "decisions about" in run(synced, "guests", "explain", gid).output
    text = run(synced, "guests", "show", gid).output  # issue 8: segment and visits shown
    assert "activity" in text and "segment: " in text and "visits: " in text


def test_merge_then_unmerge_requeues_and_restores(synced):
    keep, lose = _guest_id(synced, "陳小明"), _guest_id(synced, "陳美玲")
    result = run(synced, "guests", "merge", keep, lose)
    assert "CRM push(es) queued" in result.output
    s = _store(synced)
    assert s.merged_into(lose) == keep
    assert s.link_state(("site", "bookings", "BK-1008"))[0] == keep
    assert s.outbox_counts("hubspot").get("pending", 0) >= 1
    s.close()
    # The old id still finds the merged guest.
    shown = json.loads(run(synced, "guests", "show", lose, "--json").output)
    assert shown["id"] == keep and len(shown["links"]) == 2
    result = run(synced, "guests", "unmerge", keep, "--link", "site:BK-1008")
    assert result.exit_code == 0, result.output
    s = _store(synced)
    assert s.merged_into(lose) is None
    assert s.link_state(("site", "bookings", "BK-1008"))[0] == lose
    assert s.get_guest(lose).full_name == "陳美玲" and s.get_guest(keep).full_name == "陳小明"
    assert s.kept_apart(keep, lose)
    (m,) = s.merges_since()
    assert m.undone_at is not None
    s.close()


def test_review_list_accept_and_reject(synced):
    listed = run(synced, "review", "list").output
    assert "林淑芬" in listed and "王大同" in listed
    s = _store(synced)
    (item,) = s.reviews()
    s.close()
    assert run(synced, "review", "reject", str(item.id)).exit_code == 0
    s = _store(synced)
    assert s.kept_apart(item.guest_id, item.candidate) and s.count_reviews() == 0
    s.close()
    again = CliRunner().invoke(cli, ["-c", str(synced), "review", "accept", str(item.id)])
    assert again.exit_code != 0


def test_unmerge_names_a_bad_link(synced):
    gid = _guest_id(synced, "陳小明")
    result = CliRunner().invoke(cli, ["-c", str(synced), "guests", "unmerge", gid, "--link", "x"])
    assert result.exit_code != 0


def test_generate_writes_records_and_truth(tmp_path):
    result = CliRunner().invoke(cli, ["generate", str(tmp_path / "g"), "--guests", "20"])
    assert result.exit_code == 0, result.output
    rows = (tmp_path / "g" / "records.jsonl").read_text("utf-8").splitlines()
    truth = (tmp_path / "g" / "truth.csv").read_text("utf-8").splitlines()
    assert len(rows) == len(truth) - 1 >= 20


def test_weights_are_estimated_from_the_match_log(synced):
    result = run(synced, "guests", "weights")
    assert result.exit_code == 0, result.output
    assert "identity:" in result.output and "comparison: name" in result.output
    assert "weight now" in result.output and "random pairs for u" in result.output
    assert "thresholds: {merge:" in result.output and "converge" in result.output


def test_blocking_reports_pairs_per_rule(synced):
    result = run(synced, "guests", "blocking")
    assert result.exit_code == 0, result.output
    assert "surname_year" in result.output and "phonetic_phone" in result.output
    assert "distinct pairs" in result.output and "share no key with another" in result.output


def test_explain_shows_each_fields_level_weight_tf_and_the_guards_reason(synced, monkeypatch):
    from guestsync.cli.app import out

    monkeypatch.setattr(out, "width", 400)  # one table row per line
    # 陳美玲 books on 陳小明's phone: the names differ, so the guard does not count it
    text = run(synced, "guests", "explain", _guest_id(synced, "陳美玲")).output
    flat = " ".join(text.split())
    assert "name differ (-" in flat and "phone exact (+0.0, guard dropped +10.7)" in flat
    assert "guard: names differ on a shared phone" in flat
    # the two Amy Lin bookings agree on a name: its weight includes the name's frequency
    amy = " ".join(run(synced, "guests", "explain", _guest_id(synced, "Amy Lin")).output.split())
    assert "name exact (" in amy and ", tf " in amy and "email exact (+" in amy
