"""A loyalty app's CSV exports through `import-csv` with the shipped profiles (issue 27):
the points ledger before its members (kept, then linked), the members with their tier and
stated balance, the coupons; a re-exported ledger adds nothing."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from guestsync.actions import guests as guest_admin
from guestsync.config import load_config
from guestsync.restaurant import membership
from guestsync.sync_engine import Hub

from .conftest import MAPPINGS

SAMPLES = MAPPINGS / "samples"


def _config(lang: str, tz: str, region: str) -> str:
    sources = "".join(
        f"""
          {kind}:
            type: csv
            paths: [in/{kind}.csv]
            mapping: mappings/loyalty_{kind}_{lang}.yaml"""
        for kind in ("members", "points", "coupons")
    )
    return f"""\
        store: {{path: hub.db}}
        defaults: {{timezone: {tz}, region: {region}}}
        sources:{sources}
        targets: {{}}
        """


@pytest.mark.parametrize(
    ("lang", "tz", "region", "first", "balance", "tier", "coupons", "bulk"),
    [
        ("zh", "Asia/Taipei", "TW", "A1001", Decimal(1370), "金卡", (0, 1, 0), True),
        ("zh", "Asia/Taipei", "TW", "A1001", Decimal(1370), "金卡", (0, 1, 0), False),
        ("zh_hans", "Asia/Shanghai", "CN", "C2001", Decimal(2680), "黄金会员", (0, 1, 0), True),
        ("en", "Asia/Hong_Kong", "HK", "H3001", Decimal(700), "Gold", (0, 1, 0), True),
    ],
)
def test_a_loyalty_apps_exports_import_in_any_order(  # type: ignore[no-untyped-def]
    make_config, tmp_path, lang, tz, region, first, balance, tier, coupons, bulk
):
    (tmp_path / "in").mkdir()
    for kind in ("members", "points", "coupons"):
        shutil.copy(SAMPLES / f"loyalty_{kind}_{lang}.csv", tmp_path / "in" / f"{kind}.csv")
    hub = Hub(load_config(make_config(_config(lang, tz, region))))
    hub.activity.clock = lambda: datetime(2026, 12, 5, 4, 0, tzinfo=UTC)
    hub.bulk = bulk  # the bulk lane and the per-record lane give the same figures
    try:
        points = hub.import_csv("points", [tmp_path / "in" / "points.csv"])
        ledger = hub.process()
        assert ledger.rejected == 1  # each sample ledger has one unknown type: kept, not lost
        guests_before = hub.store.count_guests()
        hub.import_csv("members", [tmp_path / "in" / "members.csv"])
        hub.import_csv("coupons", [tmp_path / "in" / "coupons.csv"])
        hub.process()
        # the members found the guests their movements made: no new guest for them
        assert hub.store.count_guests() <= guests_before + 2
        gid = next(
            g
            for g in hub.store.all_guest_ids()
            if f"club:{first}" in hub.store.get_guest(g).loyalty_ids  # type: ignore[union-attr]
        )
        loy = membership.load(hub.store, gid)
        assert loy is not None
        assert loy.balances == {"club": balance} and loy.discrepancies == []
        assert loy.tier == tier and loy.tier_basis == "source"
        assert (loy.open_coupons, loy.redeemed_coupons, loy.expired_coupons) == coupons
        assert guest_admin.profile(hub.store, gid)["membership"]["tier"].startswith(tier)
        # the same ledger exported again: nothing new, nothing counted twice
        again = tmp_path / "in" / "points_again.csv"
        again.write_bytes((tmp_path / "in" / "points.csv").read_bytes() + b"\n")
        hub.import_csv("points", [again])
        hub.process()
        assert membership.load(hub.store, gid).balances == {"club": balance}  # type: ignore[union-attr]
        assert points.new == len(hub.store.inbox_errors(source="points")) + ledger.processed
    finally:
        hub.close()
