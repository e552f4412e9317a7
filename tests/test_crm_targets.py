"""Vendor details beyond the shared contract: HubSpot email fallback, property creation,
merge and GDPR delete through the engine; Salesforce and Zoho auth and throttle answers."""

from __future__ import annotations

import json

import pytest
import responses

from guestsync.actions.forget import forget
from guestsync.config.connectors import (
    DeliveryRetryOptions,
    HubSpotTargetOptions,
    SalesforceTargetOptions,
    ZohoTargetOptions,
)
from guestsync.connectors import HubSpotTarget, SalesforceTarget, ZohoTarget
from guestsync.delivery.batches import deliver
from guestsync.errors import AuthError, RateLimitedError
from guestsync.hashing import json_hash
from guestsync.models import Guest
from guestsync.store import Store
from guestsync.testing import FakeHubSpot, ServerThread

from .contract.harness import item

RETRY = DeliveryRetryOptions(max_attempts=3, initial_wait=0, max_wait=0)


def _queue(store: Store, target, guests: list[Guest]) -> None:
    with store.atomic():
        for g in guests:
            p = target.project(g)
            store.enqueue(target.name, g.id, p, json_hash(p))


def test_hubspot_adopts_a_contact_with_our_guests_email_instead_of_failing():
    crm = FakeHubSpot()
    crm.contacts["900"] = {"email": "amy@example.com", "firstname": "Amy (by hand)"}
    crm.index[("email", "amy@example.com")] = "900"
    with ServerThread(crm.app) as srv:
        opts = HubSpotTargetOptions(type="hubspot", token="test-token", base_url=srv.url)
        t = HubSpotTarget("hs", opts)
        (r,) = t.upsert([item(t, Guest(id="g-amy", full_name="Amy Lin", email="amy@example.com"))])
        assert r.ok and r.crm_id == "900" and not r.created
        assert crm.contacts["900"]["guestsync_id"] == "g-amy" and len(crm.contacts) == 1
        off = HubSpotTarget("hs", opts.model_copy(update={"email_fallback": False}))
        (r2,) = off.upsert([item(off, Guest(id="g-2", full_name="Amy", email="amy@example.com"))])
        assert not r2.ok and r2.error and r2.error.startswith("CONFLICT")


def test_hubspot_creates_the_unique_id_property_on_first_use():
    crm = FakeHubSpot(unique_properties=("email",))
    with ServerThread(crm.app) as srv:
        opts = HubSpotTargetOptions(
            type="hubspot", token="test-token", base_url=srv.url, create_id_property=True
        )
        t = HubSpotTarget("hs", opts)
        t.upsert([item(t, Guest(id="g-1", full_name="Amy"))])
        t.upsert([item(t, Guest(id="g-2", full_name="Bo"))])
        assert crm.counts["properties_created"] == 1 and "guestsync_id" in crm.unique_properties
        assert len(crm.find("guestsync_id", "g-1")) == 1
        # A second process finds it already there (GET 200) and creates nothing.
        HubSpotTarget("hs", opts).ensure_id_property()
        assert crm.counts["properties_created"] == 1


def test_hubspot_merge_and_gdpr_delete_through_the_engine(store):
    crm = FakeHubSpot()
    with ServerThread(crm.app) as srv:
        t = HubSpotTarget(
            "hs", HubSpotTargetOptions(type="hubspot", token="test-token", base_url=srv.url)
        )
        keep = Guest(id="keep", full_name="Amy Lin", email="amy@example.com")
        lose = Guest(id="lose", full_name="Amy L.", phone="+886912000111")
        _queue(store, t, [keep, lose])
        deliver(store, t, RETRY, sleep=lambda s: None)
        assert len(crm.contacts) == 2
        with store.atomic():
            store.record_guest_merge("keep", "lose")
        stats = deliver(store, t, RETRY, sleep=lambda s: None)
        assert stats.merged == 1 and len(crm.contacts) == 1
        (kept,) = crm.contacts.values()
        assert kept["phone"] == "+886912000111"  # the loser filled the keeper's blank
        store.save_guest(keep)
        result = forget(store, {"hs": t}, guest_id="keep", sleep=lambda s: None)
        assert result.targets["hs"] == {"status": "deleted", "count": 1}
        assert crm.contacts == {} and crm.counts["gdpr_deleted"] == 1


@responses.activate
def test_salesforce_refreshes_on_invalid_session_and_backs_off_on_request_limit():
    login, inst = "https://login.example.com", "https://na1.example.com"
    url = f"{inst}/services/data/v61.0/composite/sobjects/Contact/Guest_Key__c"
    tokens = iter(["t1", "t2"])
    responses.add_callback(
        responses.POST,
        f"{login}/services/oauth2/token",
        callback=lambda req: (
            200,
            {},
            json.dumps({"access_token": next(tokens), "instance_url": inst}),
        ),
    )
    expired = [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
    responses.patch(url, status=401, json=expired)
    responses.patch(url, json=[{"id": "003A", "success": True, "errors": [], "created": True}])
    limit = [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
    responses.patch(url, status=403, json=limit)
    opts = SalesforceTargetOptions(
        type="salesforce", login_url=login, client_id="cid", refresh_token="r", client_secret="s"
    )
    t = SalesforceTarget("sf", opts)
    (r,) = t.upsert([item(t, Guest(id="g-1", full_name="Lin"))])
    assert r.ok and r.crm_id == "003A" and t.token.refreshes == 2
    patches = [c.request for c in responses.calls if c.request.method == "PATCH"]
    assert patches[0].headers["Authorization"] == "Bearer t1"
    assert patches[1].headers["Authorization"] == "Bearer t2"
    body = json.loads(patches[1].body)
    assert body["allOrNone"] is False
    assert body["records"][0] == {
        "attributes": {"type": "Contact"},
        "Guest_Key__c": "g-1",
        "LastName": "Lin",
    }
    with pytest.raises(RateLimitedError):
        t.upsert([item(t, Guest(id="g-1", full_name="Lin"))])


@responses.activate
def test_zoho_refreshes_at_the_configured_data_centre_and_stops_on_a_refused_grant():
    accounts = "https://accounts.zoho.eu"
    responses.post(
        f"{accounts}/oauth/v2/token",
        json={"access_token": "z1", "api_domain": "https://www.zohoapis.eu", "expires_in": 3600},
    )
    responses.post(
        "https://www.zohoapis.eu/crm/v8/Contacts/upsert",
        json={
            "data": [
                {
                    "code": "SUCCESS",
                    "action": "insert",
                    "details": {"id": "415"},
                    "status": "success",
                }
            ]
        },
    )
    opts = ZohoTargetOptions(
        type="zoho", accounts_url=accounts, client_id="c", client_secret="s", refresh_token="r"
    )
    t = ZohoTarget("zoho", opts)
    (r,) = t.upsert([item(t, Guest(id="g-1", full_name="林美"))])
    assert r.ok and r.crm_id == "415" and r.created
    token_call = responses.calls[0].request
    assert "refresh_token=r" in token_call.url and "grant_type=refresh_token" in token_call.url
    sent = json.loads(responses.calls[1].request.body)
    assert sent["duplicate_check_fields"] == ["Guestsync_ID"] and sent["trigger"] == []
    assert responses.calls[1].request.headers["Authorization"] == "Zoho-oauthtoken z1"

    responses.replace(responses.POST, f"{accounts}/oauth/v2/token", json={"error": "invalid_code"})
    with pytest.raises(AuthError, match="refused the refresh token"):
        ZohoTarget("zoho", opts).upsert([item(t, Guest(id="g-1", full_name="林美"))])
