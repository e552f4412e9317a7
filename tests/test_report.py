"""The report's figures (issue 24): new guests by their first booking or bill, not by
when they were imported; spend per month and no-shows by weekday in the restaurant's
time zone; VIP and at-risk guests with their last visit; readable source names; labels
in three languages; colours that stay with their series."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from guestsync.actions import report, report_html
from guestsync.actions.report_labels import Words, colour, lang_for_region
from guestsync.actions.report_sections import Context, vip
from guestsync.config.connectors import CsvSourceOptions
from guestsync.config.webhooks import WebhookSourceOptions
from guestsync.models import Guest, Reservation, ReservationStatus
from guestsync.store import Store

from .report_fixtures import NOW, POS, SITE, TZ, year_of_history


@pytest.fixture(scope="module")
def history():
    store = Store.open(":memory:")
    kinds = year_of_history(store)
    yield store, kinds
    store.close()


def test_a_year_of_history_imported_today_has_only_this_months_first_comers_as_new(history):
    store, kinds = history
    created = {r[0] for r in store.conn.execute("SELECT substr(created_at, 1, 10) FROM guests")}
    assert created == {datetime.now(UTC).date().isoformat()}  # every guest imported today
    rep = report.build(store, now=NOW, tz=TZ)
    assert rep.new_by_source == {SITE: len(kinds["new"])}  # by the source of that booking
    kpis = {k.label: k.value for k in rep.sections[0].kpis}
    assert kpis["new this month"] == "3" and kpis["guests"] == "18"


def test_spend_is_counted_in_the_month_it_was_paid_in_the_restaurants_time_zone(history):
    store, _ = history
    rep = report.build(store, now=NOW, tz=TZ, currency="TWD")
    months = list(rep.spend)
    assert months[0] == date(2026, 1, 1) and months[-1] == date(2026, 12, 1)
    # the bill paid at 00:30 on 1 December in Taipei (30 November in UTC) is December's
    december = rep.spend[date(2026, 12, 1)]
    assert december == {"TWD": (4, 2100 + 2200 + 2300 + 999)}
    assert rep.spend[date(2026, 10, 1)]["HKD"] == (1, 480.0)
    spend = next(s for s in rep.sections if s.key == "spend")
    labels = [b.label for b in spend.bars]
    assert labels[0] == "Apr 2026 · TWD"  # from the first month with a bill
    assert "Oct 2026 · HKD" in labels and "Nov 2026 · HKD" not in labels
    assert [c for c, _ in spend.legend] == ["TWD", "HKD"]  # the main currency first


def test_no_shows_are_counted_by_the_weekday_in_the_restaurants_time_zone():
    store = Store.open(":memory:")
    taipei = ZoneInfo("Asia/Taipei")
    with store.atomic():
        store.save_guests([Guest(id="g1", full_name="陳小明")])
        for n, (at, status) in enumerate(
            [
                (datetime(2026, 11, 27, 23, 30, tzinfo=taipei), "no_show"),  # Friday
                (datetime(2026, 11, 28, 0, 30, tzinfo=taipei), "no_show"),  # Saturday (Fri UTC)
                (datetime(2026, 11, 28, 19, 0, tzinfo=taipei), "completed"),  # Saturday
                (datetime(2026, 11, 29, 19, 0, tzinfo=taipei), "cancelled"),  # never due
            ]
        ):
            store.upsert_reservation(
                source="site",
                external_id=f"B{n}",
                guest_id="g1",
                reservation=Reservation(start_at=at, status=ReservationStatus(status)),
                updated_at=None,
            )
    rep = report.build(store, now=NOW, tz=taipei, lang="zh-TW")
    assert rep.no_shows_by_weekday == [(0, 0), (0, 0), (0, 0), (0, 0), (1, 1), (1, 2), (0, 0)]
    weekday = next(s for s in rep.sections if s.key == "no-shows-weekday")
    assert [b.label for b in weekday.bars][4:6] == ["週五", "週六"]
    assert weekday.bars[5].text == "50.0 %（應到 2）"


def test_vip_and_at_risk_guests_are_listed_with_their_last_visit(history):
    store, kinds = history
    rep = report.build(store, now=NOW, tz=TZ, lang="en")
    assert rep.vip[0] == 5 and {g["id"] for g in rep.vip[1]} == set(kinds["vip"])
    assert rep.at_risk[0] == 4 and {g["id"] for g in rep.at_risk[1]} == set(kinds["at_risk"])
    at_risk = next(s for s in rep.sections if s.key == "at-risk")
    assert at_risk.columns == ["Guest", "Visits", "Last visit", "Spend"]
    assert {row[2] for row in at_risk.rows} == {"6 Sep 2026"}  # 90 days before 5 Dec
    assert all(row[3].startswith("TWD ") for row in at_risk.rows)


def test_a_short_list_says_how_many_more_there_are(history, monkeypatch):
    store, _ = history
    monkeypatch.setattr(report, "LISTED", 2)
    rep = report.build(store, now=NOW, tz=TZ, lang="zh-CN")
    vip = next(s for s in rep.sections if s.key == "vip")
    assert len(vip.rows) == 2 and vip.title == "VIP 宾客（5 位）" and vip.more == "…另有 3 位"


def test_sources_are_named_as_people_say_them():
    csv = CsvSourceOptions(type="csv", mapping="m.yaml")
    hook = WebhookSourceOptions.model_validate(
        {"type": "webhook", "platform": "inline", "mapping": "m.yaml",
         "webhook": {"scheme": "inline", "secrets": ["k"]}}
    )  # fmt: skip
    assert Words("en").source("pos_export", csv) == "POS export (CSV export)"
    assert Words("zh-TW").source("pos_export", csv) == "POS export (CSV 匯出)"
    assert Words("zh-CN").source("信義店_訂位", csv) == "信義店 訂位 (CSV 导出)"
    assert Words("en").source("taipei", hook) == "Taipei (inline webhook)"
    assert Words("en").source("inline", hook) == "Inline webhook"  # not "Inline (inline …)"
    assert Words("en").source("gone_source", None) == "Gone source"  # no longer configured


def test_the_language_follows_the_region_and_unknown_ones_are_refused():
    assert [lang_for_region(r) for r in ("TW", "hk", "MO", "CN", "SG", "US", "JP")] == [
        "zh-TW",
        "zh-TW",
        "zh-TW",
        "zh-CN",
        "zh-CN",
        "en",
        "en",
    ]
    with pytest.raises(ValueError, match="zh-TW, zh-CN, en"):
        Words("fr")
    assert Words("zh-TW")("not a label") == "not a label"  # missing: shown, not an error


def test_series_colours_do_not_depend_on_the_run_or_the_order():
    # a checksum, not Python's hash() (salted per process): the same in every report
    assert colour("source:pos_orders") == colour("source:pos_orders") == "#1f9bb8"
    assert colour("vip") == "#8e6bd8" and colour("at_risk") == "#e0a526"


def test_the_page_is_one_section_per_figure_and_escapes_what_guests_typed(history):
    store, _ = history
    rep = report.build(store, now=NOW, tz=TZ, lang="en", sources={POS: None})
    rep.vip[1][0]["name"] = "<script>alert(1)</script>"
    rep.sections = [s for s in rep.sections if s.key != "vip"]
    rep.sections.append(vip(Context(store, rep, Words("en"), TZ, {})))
    page = report_html.html(rep)
    assert page.count("<section ") == len(rep.sections) == 9
    assert "<script>" not in page and "&lt;script&gt;" in page
