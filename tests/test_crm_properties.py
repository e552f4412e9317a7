"""Aggregates, segment and consent reach the CRM payload; a change is pushed, no change is
not; property mapping per target from config."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from pydantic import ValidationError

from guestsync.config.connectors import HubSpotTargetOptions
from guestsync.config.crm import CrmConfig
from guestsync.connectors.hubspot import HubSpotTarget
from guestsync.process import outbox
from guestsync.restaurant import hooks
from guestsync.restaurant import properties as crm_properties
from guestsync.store import Store

from .activity_fixtures import NOW, feed, settings
from .test_aggregates import AMY_RECORDS


def _hubspot() -> dict[str, HubSpotTarget]:
    return {"hubspot": HubSpotTarget("hubspot", HubSpotTargetOptions(type="hubspot", token="t"))}


def test_default_hubspot_properties_are_added_as_strings_on_top_of_project():
    store = Store.open(":memory:")
    s = settings(target_types={"hubspot": "hubspot"})
    feed(store, AMY_RECORDS, targets=_hubspot(), activity=s)
    (item,) = store.pending_outbox("hubspot", limit=10)
    p = item.payload
    assert p["email"] == "amy@example.com" and p["guestsync_id"] == item.guest_id  # project()
    assert p["gs_segment"] == "regular"
    assert p["gs_visit_count"] == "3"
    assert p["gs_total_spend"] == "5600" and p["gs_spend_currency"] == "TWD"
    assert p["gs_no_show_rate"] == "0.3333"
    assert p["gs_favourite_items"] == "Beer; Seafood set; Dumplings"
    assert p["gs_upcoming_birthday"] == "2026-03-25"
    assert all(isinstance(v, str) for v in p.values())  # HubSpot takes strings only
    assert p["gs_upcoming_anniversary"] == ""  # cleared in HubSpot, not left stale


def test_a_segment_change_is_pushed_and_an_unchanged_guest_is_not():
    store = Store.open(":memory:")
    targets = _hubspot()
    s = settings(target_types={"hubspot": "hubspot"})
    feed(store, AMY_RECORDS, targets=targets, activity=s)
    (item,) = store.pending_outbox("hubspot", limit=10)
    store.mark_delivered(item, "501")
    # Same day, nothing new: nothing queued.
    assert outbox.refresh_all(store, targets, s) == 0
    assert store.pending_outbox("hubspot", limit=10) == []
    # 100 days later, with no new record, Amy has become at risk: pushed once.
    later = settings(target_types={"hubspot": "hubspot"})
    later.clock = lambda: NOW + timedelta(days=100)
    assert outbox.daily_refresh(store, targets, later) == 1
    (item2,) = store.pending_outbox("hubspot", limit=10)
    assert item2.payload["gs_segment"] == "at_risk"
    assert outbox.daily_refresh(store, targets, later) == 0  # once a day


def test_configured_properties_replace_the_defaults_and_nest_with_dots():
    crm = CrmConfig(properties={"rest": {"custom.visits": "visit_count", "tier": "segment"}})
    view = {"visit_count": 3, "segment": "vip", "email": "x@example.com"}
    props = crm_properties.property_map("rest", "rest", crm.properties)
    assert crm_properties.properties(props, view, target_type="rest") == {
        "custom": {"visits": 3},
        "tier": "vip",
    }
    merged = crm_properties.merge({"custom": {"a": 1}, "name": "x"}, {"custom": {"visits": 3}})
    assert merged == {"custom": {"a": 1, "visits": 3}, "name": "x"}


def test_salesforce_and_zoho_defaults_keep_native_json_types():
    view = {
        "visit_count": 3,
        "email_opt_out": True,
        "total_spend": Decimal("12.50"),
    }
    sf = crm_properties.properties(crm_properties.SALESFORCE, view, target_type="salesforce")
    assert sf["GS_Visit_Count__c"] == 3 and sf["GS_Total_Spend__c"] == 12.5
    assert sf["HasOptedOutOfEmail"] is True
    assert sf["GS_Segment__c"] is None  # an empty computed value clears the field
    assert "GS_Sms_Opt_In__c" not in sf and "GS_Allergies__c" not in sf  # unknown: left alone
    zoho = crm_properties.properties(crm_properties.ZOHO, view, target_type="zoho")
    assert zoho["Email_Opt_Out"] is True and zoho["GS_Visit_Count"] == 3


def test_an_unknown_value_name_is_a_config_error_listing_the_valid_ones():
    with pytest.raises(ValidationError, match=r"unknown value 'visits'.*visit_count"):
        CrmConfig(properties={"hubspot": {"gs_visits": "visits"}})


def test_callers_that_pass_no_settings_project_the_same_payload():
    """Identity merges and other workers call queue_for_targets without settings: they
    must produce the same payload (and hash) as the hub, or pushes would flip-flop."""
    from guestsync.process.batch import queue_for_targets

    store = Store.open(":memory:")
    targets = _hubspot()
    s = settings(crm=CrmConfig(properties={"hubspot": {"tier": "segment"}}))
    hooks.attach(store, s)
    feed(store, AMY_RECORDS, targets=targets, activity=s)
    (item,) = store.pending_outbox("hubspot", limit=10)
    assert item.payload["tier"] == "regular" and "gs_segment" not in item.payload
    assert queue_for_targets(store, {item.guest_id}, targets) == 0  # same hash: nothing new
    bare = Store.open(":memory:")  # nothing attached: defaults, type from the target
    feed(bare, AMY_RECORDS, targets=targets)
    (plain,) = bare.pending_outbox("hubspot", limit=10)
    assert plain.payload["gs_segment"] == "regular"
