"""Bookings, POS bills and survey answers from the bundled CSV samples, through the real
mappings and the whole process stage, into one guest's aggregates and CRM payload."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

from guestsync.config import load_config
from guestsync.restaurant import aggregates, hooks
from guestsync.sync_engine import Hub

from .conftest import SAMPLES

CONFIG = """\
store: {path: hub.db}
sources:
  pos_export: {type: csv, paths: [data/pos_export_zh.csv], mapping: mappings/booking_zh.yaml}
  pos_orders:
    {type: csv, paths: [data/pos_orders_zh.csv], mapping: mappings/pos_orders_zh.yaml,
     stream: orders}
  survey: {type: csv, paths: [data/survey_zh.csv], mapping: mappings/survey_zh.yaml,
           stream: answers}
targets:
  hubspot: {type: hubspot, token: t, base_url: "http://hubspot.test"}
"""


def test_bills_and_surveys_become_visits_spend_favourites_ratings_and_consent(make_config):
    cfg = make_config(CONFIG)
    data = Path(cfg).parent / "data"
    data.mkdir()
    for name in ("pos_export_zh.csv", "pos_orders_zh.csv", "survey_zh.csv"):
        shutil.copy(SAMPLES / name, data / name)
    hub = Hub(load_config(cfg))
    summary = hub.sync(deliver=False)
    assert summary.process.rejected == 1  # P-20012 has no time (a foundation sample row)
    assert hub.store.count_orders() == 6 and hub.store.count_feedback() == 3
    (gid,) = hub.store.guest_ids_by_contact(phone="+886922111222")  # 林美玲
    a = aggregates.load(hub.store, gid)
    assert a is not None
    assert a.visit_count == 1 and a.covers == 4  # P-20002 and its bill B-9002: one visit
    assert a.spend == {"TWD": Decimal("4800")} and a.favourite_items == ["松露燉飯"]
    assert a.average_rating == Decimal("4.00") and a.last_feedback == "燉飯偏鹹"
    state = hooks.consent_state(hub.store, gid)
    assert state["email"].granted is False and state["email"].source == "survey"
    (item,) = [i for i in hub.store.pending_outbox("hubspot", limit=100) if i.guest_id == gid]
    assert item.payload["gs_visit_count"] == "1" and item.payload["gs_email_opt_in"] == "false"
    hub.close()
