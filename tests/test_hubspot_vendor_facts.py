"""Issue 23: what HubSpot really answers, and what the fakes did not teach the target."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import responses

from guestsync.config.connectors import HubSpotTargetOptions
from guestsync.connectors.hubspot import (
    PROPERTIES_PATH,
    UPSERT_PATH,
    HubSpotTarget,
    language_option,
)
from guestsync.errors import ProtocolError, QuotaExhaustedError
from guestsync.models import Guest, OutboxItem

BASE = "https://api.hubapi.com"


def _target(**kw: object) -> HubSpotTarget:
    return HubSpotTarget("hs", HubSpotTargetOptions(type="hubspot", token="t0k", **kw))


def _item(gid: str, **props: str) -> OutboxItem:
    return OutboxItem(
        id=1, target="hs", guest_id=gid, payload=props, payload_hash="h", attempts=0, crm_id=None
    )


def _ok(gid: str, cid: str) -> dict[str, object]:
    return {"id": cid, "new": True, "objectWriteTraceId": gid, "properties": {}}


@responses.activate
def test_207_error_naming_the_record_under_another_context_key_keeps_the_vendor_reason():
    responses.post(
        BASE + UPSERT_PATH,
        status=207,
        json={
            "status": "COMPLETE",
            "results": [_ok("g1", "51")],
            "errors": [
                {
                    "status": "error",
                    "category": "VALIDATION_ERROR",
                    "message": "Property values were not valid: email 'bad@'",
                    "context": {"email": ["BAD@"]},
                }
            ],
        },
    )
    results = _target().upsert([_item("g1", email="a@example.com"), _item("g2", email="bad@")])
    assert results[1].ok is False
    assert results[1].retryable is False
    assert "Property values were not valid: email" in (results[1].error or "")


@responses.activate
def test_errors_naming_no_input_are_final_when_they_match_the_unanswered_inputs_in_number():
    responses.post(
        BASE + UPSERT_PATH,
        status=207,
        json={
            "status": "COMPLETE",
            "results": [_ok("g1", "51")],
            "errors": [
                {"category": "VALIDATION_ERROR", "message": "Property values were not valid"}
            ],
        },
    )
    results = _target().upsert([_item("g1"), _item("g2", phone="x")])
    assert (results[1].ok, results[1].retryable) == (False, False)
    assert results[1].error == "VALIDATION_ERROR: Property values were not valid"


@responses.activate
def test_unmatched_errors_go_to_last_error_when_the_counts_differ():
    responses.post(
        BASE + UPSERT_PATH,
        status=207,
        json={"results": [], "errors": [{"category": "VALIDATION_ERROR", "message": "nope"}]},
    )
    results = _target().upsert([_item("g1"), _item("g2")])
    assert all(r.retryable for r in results)
    assert all("nope" in (r.error or "") for r in results)


@responses.activate
def test_whole_batch_409_is_split_and_the_existing_contact_adopted_by_email():
    def answer(request):
        inputs = json.loads(request.body)["inputs"]
        if any(i["idProperty"] == "guestsync_id" and i["id"] == "g3" for i in inputs):
            # HubSpot/hubspot-api-python#51: one 409 for the whole batch
            return (
                409,
                {},
                json.dumps(
                    {
                        "status": "error",
                        "message": "Contact already exists. Existing ID: 77",
                        "category": "CONFLICT",
                    }
                ),
            )
        results = [_ok(i["objectWriteTraceId"], f"c{i['objectWriteTraceId']}") for i in inputs]
        return 200, {}, json.dumps({"status": "COMPLETE", "results": results})

    responses.add_callback(responses.POST, BASE + UPSERT_PATH, callback=answer)
    batch = [_item(f"g{n}", email=f"g{n}@example.com") for n in range(1, 5)]
    results = _target().upsert(batch)
    assert [(r.guest_id, r.ok) for r in results] == [(f"g{n}", True) for n in range(1, 5)]
    last = json.loads(responses.calls[-1].request.body)["inputs"]
    assert last == [
        {
            "idProperty": "email",
            "id": "g3@example.com",
            "objectWriteTraceId": "g3",
            "properties": {"email": "g3@example.com", "guestsync_id": "g3"},
        }
    ]


@pytest.mark.parametrize(
    "body", ["<html><body>502 Bad Gateway</body></html>", '{"status": "COMPLE', "[]", "{}"]
)
@responses.activate
def test_a_200_with_an_unexpected_body_is_a_retryable_one_line_protocol_error(body):
    responses.post(BASE + UPSERT_PATH, status=200, body=body)
    with pytest.raises(ProtocolError) as exc:
        _target().upsert([_item("g1")])
    assert "\n" not in str(exc.value)
    assert str(exc.value).startswith("hs: HTTP 200 but the body is not")


@responses.activate
def test_a_daily_limit_429_pauses_until_the_portals_midnight():
    responses.post(
        BASE + UPSERT_PATH,
        status=429,
        json={
            "status": "error",
            "message": "You have reached your daily limit.",
            "errorType": "RATE_LIMIT",
            "policyName": "DAILY",
        },
    )
    with pytest.raises(QuotaExhaustedError) as exc:
        _target(portal_timezone="Asia/Taipei").upsert([_item("g1")])
    resets = exc.value.resets_at
    assert isinstance(resets, datetime)
    assert resets.astimezone(UTC).hour == 16  # midnight in Taipei (UTC+8)
    assert resets > datetime.now(UTC)


@pytest.mark.parametrize(
    ("tier", "rate", "daily"),
    [("free", 10.0, 250_000), ("starter", 10.0, 250_000), ("professional", 19.0, 625_000)],
)
def test_the_tier_sets_the_documented_limits(tier, rate, daily):
    t = _target(tier=tier)
    assert (t.rate, t.daily_limit) == (rate, daily)


def test_default_tier_stays_under_the_free_and_starter_limit():
    assert _target().rate == 10.0


@pytest.mark.parametrize(
    ("code", "expected"),
    [("zh-TW", "zh-tw"), ("zh_tw", "zh-tw"), ("en", "en"), ("en-GB", "en"), ("xx", None)],
)
def test_language_codes_map_to_the_portals_options(code, expected):
    assert language_option(code, ["en", "zh-tw", "zh-cn", "ja"]) == expected


@responses.activate
def test_enumeration_and_missing_properties_are_checked_against_the_portal():
    responses.get(
        BASE + PROPERTIES_PATH + "/hs_language",
        json={
            "name": "hs_language",
            "type": "enumeration",
            "options": [{"label": "Chinese - Taiwan", "value": "zh-tw"}, {"value": "en"}],
        },
    )
    responses.get(BASE + PROPERTIES_PATH + "/date_of_birth", status=404, json={})
    responses.post(BASE + UPSERT_PATH, json={"results": [_ok("g1", "1"), _ok("g2", "2")]})
    t = _target()
    t.upsert(
        [
            _item("g1", hs_language="zh-TW", date_of_birth="1990-01-02"),
            _item("g2", hs_language="tlh"),
        ]
    )
    t.upsert([_item("g1", hs_language="en")])  # the portal is asked once per process
    sent = [json.loads(c.request.body)["inputs"] for c in responses.calls if c.request.body]
    assert [i["properties"] for i in sent[0]] == [{"hs_language": "zh-tw"}, {}]
    assert sent[1][0]["properties"] == {"hs_language": "en"}
    assert sum(c.request.method == "GET" for c in responses.calls) == 2


def test_full_name_only_is_split_into_first_and_last():
    t = _target()
    assert t.project(Guest(id="g", full_name="Amy  Lin"))["lastname"] == "Lin"
    assert t.project(Guest(id="g", full_name="歐陽娜娜"))["lastname"] == "歐陽"
