"""The contract every CRM target passes (see harness.py for how a target joins).

Connectors raise, the engine decides: these tests hold each target to the `Target`
protocol in guestsync/connectors/base.py and to the error classes the engine relies on.
"""

from __future__ import annotations

import json

import pytest

from guestsync.connectors.base import CrmRef, RecordResult
from guestsync.errors import AuthError, RateLimitedError, RetryableError
from guestsync.models import Guest

from .harness import Harness, item


def _guests(n: int, prefix: str = "g") -> list[Guest]:
    return [
        Guest(
            id=f"{prefix}-{i:04d}",
            given_name="Mei",
            family_name=f"Lin{i}",
            full_name=f"Lin{i} Mei",
            email=f"mei{i}.{prefix}@example.com",
            phone=f"+8869120{i:05d}",
        )
        for i in range(n)
    ]


def _upsert(crm: Harness, guests: list[Guest]) -> list[RecordResult]:
    batch = [item(crm.target, g, item_id=i + 1) for i, g in enumerate(guests)]
    return crm.target.upsert(batch)


def test_declares_name_batch_size_and_rate(crm: Harness):
    t = crm.target
    assert isinstance(t.name, str) and t.name
    assert isinstance(t.max_batch, int) and t.max_batch >= 1
    assert t.rate is None or t.rate > 0


def test_projection_is_json_and_deterministic(crm: Harness):
    g = Guest(id="g-1", full_name="陳小明", phone="+886912345678", email="ming@example.com")
    first = crm.target.project(g)
    assert json.loads(json.dumps(first, ensure_ascii=False)) == first
    assert crm.target.project(g.model_copy()) == first


def test_upsert_answers_one_result_per_input_in_order_and_creates_once(crm: Harness):
    guests = _guests(3)
    results = _upsert(crm, guests)
    assert [r.guest_id for r in results] == [g.id for g in guests]
    assert all(r.ok and r.crm_id for r in results), results
    assert all(r.created for r in results)
    assert [crm.count(g.id or "") for g in guests] == [1, 1, 1]

    changed = [guests[0].model_copy(update={"family_name": "Wang"}), *guests[1:]]
    again = _upsert(crm, changed)
    assert [r.crm_id for r in again] == [r.crm_id for r in results]
    assert not any(r.created for r in again)
    assert [crm.count(g.id or "") for g in guests] == [1, 1, 1]
    assert "Wang" in json.dumps(crm.fields(guests[0].id or ""), ensure_ascii=False)


def test_a_full_batch_is_accepted(crm: Harness):
    guests = _guests(crm.target.max_batch, prefix="full")
    results = _upsert(crm, guests)
    assert len(results) == len(guests) and all(r.ok for r in results)


def test_a_rejected_record_spares_the_rest_of_its_batch(crm: Harness):
    guests = _guests(3, prefix="rej")
    crm.reject(guests[1].id or "", "Custom validation: this guest is not allowed")
    results = _upsert(crm, guests)
    assert [r.ok for r in results] == [True, False, True]
    bad = results[1]
    assert bad.guest_id == guests[1].id and not bad.retryable
    assert bad.error and "not allowed" in bad.error
    assert crm.count(guests[1].id or "") == 0


def test_an_invalid_email_is_a_permanent_per_record_error(crm: Harness):
    good, bad = _guests(2, prefix="mail")
    batch = [item(crm.target, good), item(crm.target, bad, item_id=2)]
    payload = dict(batch[1].payload)
    for key in list(payload):
        if "email" in key.lower():  # email, Email, FEMAIL, ...
            payload[key] = "not-an-email"
    batch[1] = batch[1].__class__(**{**batch[1].__dict__, "payload": payload})
    results = crm.target.upsert(batch)
    assert results[0].ok
    assert not results[1].ok and not results[1].retryable and results[1].error


@pytest.mark.parametrize(
    ("fault", "error"),
    [(429, RateLimitedError), (500, RetryableError), ("drop", RetryableError)],
)
def test_transient_failures_raise_retryable_errors(crm: Harness, fault, error):
    _upsert(crm, _guests(1, prefix="warm"))  # tokens fetched, properties ready
    crm.fail_next(fault)
    with pytest.raises(error):
        _upsert(crm, _guests(1, prefix="t"))
    assert all(r.ok for r in _upsert(crm, _guests(1, prefix="t")))


def test_refused_credentials_raise_auth_error(crm: Harness):
    crm.break_auth()
    with pytest.raises(AuthError):
        _upsert(crm, _guests(1, prefix="auth"))


def test_an_expired_access_token_is_refreshed_transparently(crm: Harness):
    _upsert(crm, _guests(1, prefix="before"))
    crm.expire_token()
    results = _upsert(crm, _guests(2, prefix="after"))
    assert all(r.ok for r in results)


def test_delete_removes_the_record_and_is_idempotent(crm: Harness):
    if not callable(getattr(crm.target, "delete", None)):
        pytest.skip("target does not support delete")
    guests = _guests(2, prefix="del")
    results = _upsert(crm, guests)
    refs = [CrmRef(r.guest_id, r.crm_id or "") for r in results]
    out = crm.target.delete(refs)  # type: ignore[attr-defined]
    assert [r.guest_id for r in out] == [g.id for g in guests] and all(r.ok for r in out)
    assert [crm.count(g.id or "") for g in guests] == [0, 0]
    assert all(r.ok for r in crm.target.delete(refs))  # type: ignore[attr-defined]


def test_merge_folds_the_loser_into_the_keeper(crm: Harness):
    if not callable(getattr(crm.target, "merge", None)):
        pytest.skip("target does not support merge")
    keep, lose = _upsert(crm, _guests(2, prefix="merge"))
    result = crm.target.merge(  # type: ignore[attr-defined]
        CrmRef(keep.guest_id, keep.crm_id or ""), CrmRef(lose.guest_id, lose.crm_id or "")
    )
    assert result.ok and result.guest_id == keep.guest_id and result.crm_id
    assert crm.count(keep.guest_id) == 1 and crm.count(lose.guest_id) == 0
