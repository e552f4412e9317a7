"""HubSpot target against the documented response shapes, through `responses`."""

from __future__ import annotations

import pytest
import responses

from guestsync.config.connectors import HubSpotTargetOptions
from guestsync.connectors.hubspot import UPSERT_PATH, HubSpotTarget
from guestsync.errors import AuthError, RateLimitedError, RetryableError
from guestsync.models import Guest, OutboxItem

BASE = "https://api.hubapi.com"


def _target() -> HubSpotTarget:
    return HubSpotTarget("hs", HubSpotTargetOptions(type="hubspot", token="t0k"))


def _item(gid: str, **props: str) -> OutboxItem:
    return OutboxItem(
        id=1, target="hs", guest_id=gid, payload=props, payload_hash="h", attempts=0, crm_id=None
    )


def test_projection_leaves_out_empty_values_and_keys_by_guest_id():
    t = _target()
    props = t.project(Guest(id="g1", full_name="陳小明", phone="+886912345678"))
    # a full name alone is split, family name first for CJK (issue 23)
    assert props == {
        "guestsync_id": "g1",
        "firstname": "小明",
        "lastname": "陳",
        "phone": "+886912345678",
    }


@responses.activate
def test_207_maps_each_result_and_error_to_its_input():
    responses.post(
        BASE + UPSERT_PATH,
        status=207,
        json={
            "status": "COMPLETE",
            "results": [
                {"id": "51", "new": True, "objectWriteTraceId": "g1", "properties": {}},
            ],
            "numErrors": 1,
            "errors": [
                {
                    "status": "error",
                    "category": "VALIDATION_ERROR",
                    "message": "Property values were not valid",
                    "context": {"ids": ["g2"]},
                    "errors": [{"message": "bad email", "in": "email"}],
                }
            ],
        },
    )
    results = _target().upsert(
        [_item("g1", email="a@example.com"), _item("g2", email="x"), _item("g3")]
    )
    assert [(r.guest_id, r.ok, r.crm_id, r.retryable) for r in results] == [
        ("g1", True, "51", False),
        ("g2", False, None, False),
        ("g3", False, None, True),
    ]
    assert results[1].error == "VALIDATION_ERROR: Property values were not valid (bad email)"
    sent = responses.calls[0].request
    assert sent.headers["Authorization"] == "Bearer t0k"
    import json

    body = json.loads(sent.body)
    assert body["inputs"][0] == {
        "idProperty": "guestsync_id",
        "id": "g1",
        "objectWriteTraceId": "g1",
        "properties": {"email": "a@example.com"},
    }


@pytest.mark.parametrize(
    ("status", "headers", "error", "retry_after"),
    [
        (429, {"Retry-After": "7"}, RateLimitedError, 7.0),
        (429, {}, RateLimitedError, None),
        (500, {}, RetryableError, None),
        (502, {}, RetryableError, None),
        (401, {}, AuthError, None),
        (403, {}, AuthError, None),
    ],
)
@responses.activate
def test_http_status_is_classified(status, headers, error, retry_after):
    responses.post(
        BASE + UPSERT_PATH,
        status=status,
        headers=headers,
        json={"status": "error", "message": "nope", "errorType": "RATE_LIMIT"},
    )
    with pytest.raises(error) as info:
        _target().upsert([_item("g1")])
    assert info.value.status == status
    if retry_after is not None:
        assert info.value.retry_after == retry_after
    assert "t0k" not in str(info.value)  # the token never reaches a message


@responses.activate
def test_connection_error_is_retryable():
    import requests

    responses.post(BASE + UPSERT_PATH, body=requests.ConnectionError("reset"))
    with pytest.raises(RetryableError):
        _target().upsert([_item("g1")])
