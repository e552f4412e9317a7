"""Tiers by rule (issue 27): `crm.tiers` rules on spend and visits over the last 12
months, at their boundaries; a stated tier first when configured; tier changes as dated
events in `guests show`, in the report and in the CRM payload."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from guestsync.actions import guests as guest_admin
from guestsync.actions import report
from guestsync.config.crm import CrmConfig
from guestsync.process.outbox import daily_refresh

from .activity_fixtures import NOW, feed
from .loyalty_fixtures import Clock, bill, guest_of, hub, loyalty_of, member, payload

RULES = {"vip": {"spend_12m": 30000}, "senior": {"visits_12m": 6}}
CRM = CrmConfig.model_validate({"tiers": {"rules": RULES}})
PHONE = "+886912000001"


def _only_guest(store) -> str:  # type: ignore[no-untyped-def]
    (gid,) = store.all_guest_ids()
    return gid


@pytest.mark.parametrize(
    ("totals", "days_ago", "tier"),
    [
        (["30000"], [10], "vip"),  # at the threshold: holds
        (["29999.99"], [10], None),
        (["20000", "10000"], [10, 364], "vip"),  # 364 days ago is inside the window
        (["20000", "10000"], [10, 365], None),  # 365 days ago is not
        (["100"] * 6, [1, 2, 3, 4, 5, 6], "senior"),  # six visits
        (["100"] * 5, [1, 2, 3, 4, 5], None),
        (["100"] * 6, [1, 2, 3, 4, 5, 365], None),  # the sixth is out of the window
        (["100"] * 6, [1, 1, 2, 3, 4, 5], None),  # two bills on one day are one visit
        (["30000"] + ["1"] * 5, [1, 2, 3, 4, 5, 6], "vip"),  # both hold: the first rule wins
    ],
)
def test_tier_rules_on_their_boundaries(totals, days_ago, tier):  # type: ignore[no-untyped-def]
    store, targets, st = hub(CRM)
    recs = [
        bill(f"B{i}", PHONE, t, d) for i, (t, d) in enumerate(zip(totals, days_ago, strict=True))
    ]
    feed(store, recs, targets=targets, activity=st)
    gid = _only_guest(store)
    loy = loyalty_of(store, gid)
    assert loy.tier == tier and loy.rule_tier == tier
    assert loy.tier_basis == ("rule" if tier else None)
    assert payload(store, gid)["gs_tier"] == (tier or "")  # HubSpot: "" clears it


def test_an_upgrade_and_a_downgrade_are_dated_events_shown_reported_and_queued():
    clock = Clock()
    store, targets, st = hub(CRM, clock)
    feed(store, [bill("B1", PHONE, "20000", 100)], targets=targets, activity=st)
    gid = _only_guest(store)
    assert loyalty_of(store, gid).tier is None
    feed(store, [bill("B2", PHONE, "10000", 30)], targets=targets, activity=st)
    loy = loyalty_of(store, gid)
    assert loy.tier == "vip" and loy.tier_since == NOW.astimezone(st.tz).date()
    assert payload(store, gid)["gs_tier"] == "vip"
    shown = guest_admin.profile(store, gid)["membership"]
    assert shown["tier change 1"] == f"{NOW:%Y-%m-%d} upgrade: - -> vip (rule)"
    assert store.guests_by_tier() == {"vip": 1}
    rep = report.build(store, now=NOW, tz=st.tz)
    (changes,) = [s for s in rep.sections if s.key == "tier-changes"]
    assert changes.rows == [["upgrade", "-", "vip", "1"]]

    # No new record: the first bill leaves the 12-month window 265 days later, and the
    # daily refresh finds the guest by its recheck day and downgrades it.
    clock.now = NOW + timedelta(days=266)
    store.conn.execute("DELETE FROM outbox")
    daily_refresh(store, targets, st)
    loy = loyalty_of(store, gid)
    assert loy.tier is None
    events = store.tier_events(gid)
    assert [(e["direction"], e["from"], e["to"]) for e in events] == [
        ("upgrade", None, "vip"),
        ("downgrade", "vip", None),
    ]
    assert events[1]["at"].startswith(f"{clock.now:%Y-%m-%d}")
    assert payload(store, gid)["gs_tier"] == ""


def test_a_tier_between_two_rule_tiers_is_a_downgrade_by_the_rules_order():
    clock = Clock()
    store, targets, st = hub(CRM, clock)
    recs = [bill("B0", PHONE, "30000", 300)] + [bill(f"B{i}", PHONE, "10", i) for i in range(1, 7)]
    feed(store, recs, targets=targets, activity=st)
    gid = _only_guest(store)
    assert loyalty_of(store, gid).tier == "vip"
    clock.now = NOW + timedelta(days=70)  # the 30000 bill leaves; six visits remain
    daily_refresh(store, targets, st)
    assert loyalty_of(store, gid).tier == "senior"
    assert store.tier_events(gid)[-1]["direction"] == "downgrade"


@pytest.mark.parametrize(
    ("prefer", "tier", "basis"), [(True, "金卡", "source"), (False, "vip", "rule")]
)
def test_a_stated_tier_wins_when_configured(prefer, tier, basis):  # type: ignore[no-untyped-def]
    crm = CrmConfig.model_validate({"tiers": {"rules": RULES, "prefer_stated": prefer}})
    store, targets, st = hub(crm)
    since = NOW.replace(year=2024)
    recs = [
        member("1001", "陳美玲", PHONE, tier="金卡", since=since),
        bill("B1", PHONE, "30000", 5),
    ]
    feed(store, recs, targets=targets, activity=st)
    gid = guest_of(store, "club:1001")
    loy = loyalty_of(store, gid)
    assert (loy.tier, loy.tier_basis, loy.stated_tier, loy.rule_tier) == (
        tier,
        basis,
        "金卡",
        "vip",
    )
    if prefer:  # the membership's own start is the tier's
        assert loy.tier_since == since.astimezone(st.tz).date()


def test_a_stated_tier_past_its_end_no_longer_holds():
    store, targets, st = hub(CRM)
    old = member("1001", "陳美玲", PHONE, tier="金卡", until=NOW - timedelta(days=1))
    feed(store, [old, bill("B1", PHONE, "100", 5)], targets=targets, activity=st)
    loy = loyalty_of(store, guest_of(store, "club:1001"))
    assert loy.stated_tier is None and loy.tier is None and loy.member


def test_the_mapping_form_and_the_list_form_of_rules_are_one_config():
    listed = CrmConfig.model_validate(
        {
            "tiers": {
                "rules": [{"tier": "vip", "spend_12m": 30000}, {"tier": "senior", "visits_12m": 6}]
            }
        }
    )
    assert listed.tiers == CRM.tiers
    assert CRM.tiers.rank() == ["vip", "senior"]
    assert CRM.tiers.rules[0].spend_12m == Decimal(30000)
    with pytest.raises(ValueError, match="spend_13m"):
        CrmConfig.model_validate({"tiers": {"rules": {"vip": {"spend_13m": 1}}}})
