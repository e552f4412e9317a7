"""Kingdee target: the SDK's signed headers (known vectors, and the SDK itself when
installed), per-entity results by DIndex, lookup before create; end to end on the fake."""

from __future__ import annotations

import json
import random
import string
from unittest import mock

import pytest
import responses

from guestsync.config.connectors import DeliveryRetryOptions, KingdeeTargetOptions
from guestsync.connectors.kingdee import SERVICE, KingdeeTarget
from guestsync.connectors.kingdee_sign import client_credentials, signed_headers
from guestsync.delivery.batches import deliver
from guestsync.errors import AuthError
from guestsync.models import Guest, OutboxItem
from guestsync.store import Store
from guestsync.testing import FakeKingdee, FaultPlan, ServerThread

SERVER = "https://demo.ik3cloud.com/k3cloud/"
APP_ID = "224466_X0dC0+tJzqGV1WxHwr9BTyws7hRa1vLI"
URL = "http://127.0.0.1:5000/k3cloud/" + SERVICE.format(op="BatchSave")

# Produced by kingdee-cdp-webapi-sdk 8.2.0 `WebApiClient.BuildHeader(URL)` with
# Identify(server, "6500abc", "administrator", APP_ID, "3f2b9c1d0e8a4b6c", org 100, lcid 2052)
# and time.time() patched to 1700000000.5 (the SDK uses the timestamp as nonce too).
VECTOR = {
    "X-Api-ClientID": "224466",
    "X-Api-Auth-Version": "2.0",
    "x-api-timestamp": "1700000000",
    "x-api-nonce": "1700000000",
    "x-api-signheaders": "x-api-timestamp,x-api-nonce",
    "X-Api-Signature": "NjUwZjhmNzdjMDQ0MWYyNmY5MmZiZjIxYmU1MjNkYmZhODJmZmIxMmZkNzA4ODE4YmZhNDNk"
    "NGZmMGM0OTAwMw==",
    "X-Kd-Appkey": APP_ID,
    "X-Kd-Appdata": "NjUwMGFiYyxhZG1pbmlzdHJhdG9yLDIwNTIsMTAw",
    "X-Kd-Signature": "NjEzNzk1Mjk0NzdiZGZjZjFjYTkwYTMzMTRmMWQyNjdiODc5OTcyNzE1ODdjMTEwOGFlNzQ3"
    "Yzk1NDRkODY2Mg==",
}


def _sign(url: str, app_id: str, secret: str, **kw) -> dict[str, str]:
    args = dict(acct_id="6500abc", user_name="administrator", lcid=2052, org_num=100)
    args.update(kw)
    return signed_headers(
        url, app_id=app_id, app_secret=secret, timestamp="1700000000", nonce="1700000000", **args
    )


def test_signed_headers_match_the_sdk_vector():
    assert _sign(URL, APP_ID, "3f2b9c1d0e8a4b6c") == VECTOR


def test_app_ids_without_a_decodable_code_sign_with_an_empty_client_secret():
    assert client_credentials("plain") == ("", "")
    assert client_credentials("224466_short") == ("224466", "")
    assert client_credentials(APP_ID)[1] not in ("", APP_ID.split("_")[1])


def test_signed_headers_match_the_sdk_itself_on_random_inputs():
    sdk = pytest.importorskip("k3cloud_webapi_sdk.core.webapi_client")
    from k3cloud_webapi_sdk.model.api_config import ApiConfig
    from k3cloud_webapi_sdk.model.identity import Identify

    rng = random.Random(9)
    alphabet = string.ascii_letters + string.digits + "+/"
    for i in range(30):
        code = "".join(rng.choice(alphabet) for _ in range(32 if i % 5 else 20))
        app_id = f"{rng.randint(100000, 999999)}_{code}"
        secret = "".join(rng.choice(string.hexdigits) for _ in range(32))
        user = rng.choice(["administrator", "王小明", "api user"])
        org = rng.randint(0, 500)
        xor = "".join(rng.choice(string.ascii_lowercase + string.digits) for _ in range(32))
        client = sdk.WebApiClient()
        client.identify = Identify(SERVER, "65ab", user, app_id, secret, org, 2052)
        url = SERVER + SERVICE.format(op=rng.choice(["Save", "BatchSave", "ExecuteBillQuery"]))
        with (
            mock.patch("time.time", return_value=1700000000.0 + i),
            mock.patch.object(ApiConfig, "Xor_Code", xor if i % 3 == 0 else ""),
        ):
            theirs = client.BuildHeader(url)
        ours = signed_headers(
            url,
            app_id=app_id,
            app_secret=secret,
            acct_id="65ab",
            user_name=user,
            lcid=2052,
            org_num=org,
            timestamp=str(1700000000 + i),
            nonce=str(1700000000 + i),
            xor_code=xor if i % 3 == 0 else None,
        )
        assert ours == {k: theirs[k] for k in ours}


def _options(server: str = SERVER, **kw) -> KingdeeTargetOptions:
    return KingdeeTargetOptions(
        type="kingdee",
        server_url=server,
        acct_id="6500abc",
        user_name="administrator",
        app_id=APP_ID,
        app_secret="kd-app-secret",
        **kw,
    )


def _item(gid: str, crm_id: str | None = None, **fields) -> OutboxItem:
    payload = {"FNumber": f"GS{gid}", "FName": f"客户{gid}", **fields}
    return OutboxItem(1, "kd", gid, payload, f"h-{gid}", 0, crm_id)


def test_projection_builds_the_customer_model():
    t = KingdeeTarget("kd", _options(org_number="101"))
    model = t.project(Guest(id="g1", full_name="李雷", phone="+8613800138000", email="l@x.cn"))
    assert model == {
        "FNumber": "GSg1",
        "FName": "李雷",
        "FCreateOrgId": {"FNumber": "101"},
        "FUseOrgId": {"FNumber": "101"},
        "FTEL": "+8613800138000",
        "FEMAIL": "l@x.cn",
    }


@responses.activate
def test_per_entity_results_are_mapped_by_dindex():
    responses.post(SERVER + SERVICE.format(op="ExecuteBillQuery"), json=[[100007, "GSg2"]])
    responses.post(
        SERVER + SERVICE.format(op="BatchSave"),
        json={
            "Result": {
                "ResponseStatus": {
                    "IsSuccess": False,
                    "Errors": [{"FieldName": "FEMAIL", "Message": "邮箱格式不正确", "DIndex": 2}],
                    "SuccessEntitys": [
                        {"Id": 100007, "Number": "GSg2", "DIndex": 1},
                        {"Id": 100011, "Number": "GSg1", "DIndex": 0},
                    ],
                    "MsgCode": 0,
                }
            }
        },
    )
    results = KingdeeTarget("kd", _options()).upsert(
        [_item("g1"), _item("g2"), _item("g3"), _item("g4", crm_id="100020")]
    )
    assert [(r.guest_id, r.ok, r.crm_id, r.created, r.retryable) for r in results] == [
        ("g1", True, "100011", True, False),
        ("g2", True, "100007", False, False),
        ("g3", False, None, False, False),
        ("g4", False, None, False, True),  # no answer for it: try again
    ]
    assert results[2].error == "FEMAIL: 邮箱格式不正确"
    query, save = (json.loads(c.request.body) for c in responses.calls)
    assert query["data"]["FilterString"] == "FNumber in ('GSg1','GSg2','GSg3')"
    models = save["data"]["Model"]
    assert save["formid"] == "BD_Customer"
    assert ["FCUSTID" in m for m in models] == [False, True, False, True]
    assert models[1]["FCUSTID"] == 100007 and models[3]["FCUSTID"] == 100020
    assert responses.calls[1].request.headers["X-Kd-Appkey"] == APP_ID


@responses.activate
def test_batch_level_login_error_stops_the_target():
    responses.post(
        SERVER + SERVICE.format(op="BatchSave"),
        json={
            "Result": {
                "ResponseStatus": {
                    "IsSuccess": False,
                    "Errors": [{"Message": "会话信息已丢失，请重新登录"}],
                    "MsgCode": 1,
                }
            }
        },
    )
    with pytest.raises(AuthError, match="重新登录"):
        KingdeeTarget("kd", _options()).upsert([_item("g1", crm_id="5")])


# -- end to end ----------------------------------------------------------------------


def _store_with(n: int, bad: set[int] = frozenset()) -> Store:
    store = Store.open(":memory:")
    t = KingdeeTarget("kd", _options())
    with store.atomic():
        for i in range(n):
            email = "broken" if i in bad else f"g{i}@example.cn"
            payload = t.project(Guest(id=f"g{i:03d}", full_name=f"客人{i}", email=email))
            store.enqueue("kd", f"g{i:03d}", payload, f"h{i}")
    return store


RETRY = DeliveryRetryOptions(max_attempts=20, initial_wait=0, max_wait=0)


def test_every_guest_lands_once_through_faults_and_bad_records_are_dead_letters():
    crm = FakeKingdee(faults=FaultPlan(script=[None, 500, "drop", 429], rate_500=0.15, seed=4))
    store = _store_with(60, bad={5, 33})
    with ServerThread(crm.app) as srv:
        t = KingdeeTarget("kd", _options(srv.url + "/k3cloud/", batch_size=8))
        stats = deliver(store, t, RETRY, sleep=lambda s: None)
        assert stats.stopped is None
        assert (stats.pushed, stats.dead) == (58, 2)
        for i in range(60):
            assert len(crm.find(f"GSg{i:03d}")) == (0 if i in {5, 33} else 1)
        assert {d.guest_id for d in store.dead_letters()} == {"g005", "g033"}
        assert all("邮箱格式不正确" in d.error for d in store.dead_letters())
        assert deliver(store, t, RETRY, sleep=lambda s: None).batches == 0  # nothing left
    assert crm.counts["bad_signature"] == 0 and crm.counts["duplicate"] == 0


def test_a_lost_answer_updates_instead_of_creating_twice():
    crm = FakeKingdee()
    store = _store_with(4)
    with ServerThread(crm.app) as srv:
        t = KingdeeTarget("kd", _options(srv.url + "/k3cloud/"))
        first = t.upsert(store.pending_outbox("kd", limit=10))
        second = t.upsert(store.pending_outbox("kd", limit=10))  # as if the answer was lost
    assert [r.crm_id for r in second] == [r.crm_id for r in first]
    assert [r.created for r in second] == [False] * 4
    assert crm.counts["created"] == 4 and crm.counts["updated"] == 4


def test_a_wrong_app_secret_is_an_auth_stop_not_dead_letters():
    crm = FakeKingdee(app_secret="the-real-one")
    store = _store_with(3)
    with ServerThread(crm.app) as srv:
        t = KingdeeTarget("kd", _options(srv.url + "/k3cloud/"))
        stats = deliver(store, t, RETRY, sleep=lambda s: None)
    assert stats.stopped and "credentials refused" in stats.stopped
    assert store.dead_letters() == [] and not crm.customers
