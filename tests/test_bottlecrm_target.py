"""BottleCRM target against the response shapes of django-crm 1.35.0, through `responses`.

The end-to-end test against a real instance is tests/test_bottlecrm_e2e.py.
"""

from __future__ import annotations

import json

import pytest
import responses

from guestsync.config.connectors import BottleCrmTargetOptions
from guestsync.connectors.base import CrmRef
from guestsync.connectors.bottlecrm import BottleCrmTarget
from guestsync.connectors.names import first_last
from guestsync.errors import AuthError, RetryableError
from guestsync.models import Guest, OutboxItem
from guestsync.normalize import split_name

BASE = "http://crm.test"
CONTACTS = BASE + "/api/contacts/"
TAKEN = {"error": True, "errors": {"email": ["Contact already exists with this email"]}}


def _target(**kw) -> BottleCrmTarget:
    opts = BottleCrmTargetOptions(type="bottlecrm", base_url=BASE, token="bcrm_pat_x", **kw)
    return BottleCrmTarget("crm", opts)


def _item(gid: str, crm_id: str | None = None, **payload) -> OutboxItem:
    payload = {"first_name": "Mei", "last_name": "Lin", "source_ref": gid, **payload}
    return OutboxItem(1, "crm", gid, payload, "h", 0, crm_id)


def _page(*contacts: dict) -> dict:
    return {"count": len(contacts), "results": list(contacts), "countries": [["TW", "Taiwan"]]}


@pytest.mark.parametrize(
    ("full", "given", "family"),
    [
        ("陳小明", "小明", "陳"),
        ("歐陽娜娜", "娜娜", "歐陽"),
        ("端木蓉", "蓉", "端木"),  # one surname list for mapping and CRMs: it had 端 here
        ("陳 小明", "小明", "陳"),
        ("Mei Ling Lin", "Mei Ling", "Lin"),
        ("Lin, Mei", "Mei", "Lin"),
        ("Madonna", "Madonna", None),
        ("林", None, "林"),
    ],
)
def test_full_names_split_family_name_first_for_cjk(full, given, family):
    assert split_name(full) == (given, family)


def test_required_names_are_never_empty():
    assert first_last(Guest(full_name="Madonna"), placeholder="-") == ("Madonna", "-")
    assert first_last(Guest(email="a@b.example")) == ("Guest", "-")
    assert first_last(Guest(given_name="小明", family_name="陳")) == ("小明", "陳")


def test_projection_keeps_our_id_in_source_ref_and_leaves_out_empty_values():
    payload = _target().project(
        Guest(id="g1", full_name="陳小明", phone="+886912345678", allergies=["花生"])
    )
    assert payload == {
        "first_name": "小明",
        "last_name": "陳",
        "phone": "+886912345678",
        "country": "TW",
        "source_ref": "g1",
        "source_detail": "guestsync",
        "description": "Allergies: 花生",
    }


@responses.activate
def test_known_contact_is_patched_without_a_lookup():
    responses.patch(CONTACTS + "u1/", json={"error": False, "message": "Contact Updated"})
    [r] = _target().upsert([_item("g1", crm_id="u1", email="mei@example.com")])
    assert (r.ok, r.crm_id, r.created) == (True, "u1", False)
    assert len(responses.calls) == 1
    assert responses.calls[0].request.headers["Authorization"] == "Bearer bcrm_pat_x"


@responses.activate
def test_unknown_contact_is_looked_up_then_created():
    responses.get(CONTACTS, json=_page())
    responses.post(CONTACTS, json={"error": False, "message": "created", "id": "u9"})
    [r] = _target().upsert([_item("g1", email="mei@example.com")])
    assert (r.ok, r.crm_id, r.created) == (True, "u9", True)
    assert responses.calls[0].request.params["email"] == "mei@example.com"
    assert json.loads(responses.calls[1].request.body)["source_ref"] == "g1"


@responses.activate
def test_a_create_whose_answer_was_lost_is_found_by_source_ref_not_duplicated():
    other = {"id": "u0", "email": "", "source_ref": "someone-else"}
    ours = {"id": "u5", "email": "", "source_ref": "g1", "phone": "+886 912 345 678"}
    responses.get(CONTACTS, json=_page(other, ours))
    responses.patch(CONTACTS + "u5/", json={"error": False})
    [r] = _target().upsert([_item("g1", phone="+886912345678")])
    assert (r.ok, r.crm_id, r.created) == (True, "u5", False)
    assert [c.request.method for c in responses.calls] == ["GET", "PATCH"]


@responses.activate
def test_email_taken_on_create_finds_that_contact_and_patches_it():
    responses.get(CONTACTS, json=_page())  # list filter missed it (e.g. case)
    responses.post(CONTACTS, status=400, json=TAKEN)
    responses.get(CONTACTS, json=_page({"id": "u7", "email": "MEI@example.com"}))
    responses.patch(CONTACTS + "u7/", json={"error": False})
    [r] = _target().upsert([_item("g1", email="mei@example.com")])
    assert (r.ok, r.crm_id) == (True, "u7")


@responses.activate
def test_deleted_in_the_crm_is_created_again():
    responses.patch(CONTACTS + "gone/", status=404, json={"detail": "No Contact matches"})
    responses.get(CONTACTS, json=_page())
    responses.post(CONTACTS, json={"error": False, "id": "u2"})
    [r] = _target().upsert([_item("g1", crm_id="gone", email="mei@example.com")])
    assert (r.ok, r.crm_id, r.created) == (True, "u2", True)


@responses.activate
def test_validation_error_is_a_per_record_rejection_with_the_crm_message():
    responses.get(CONTACTS, json=_page())
    responses.post(
        CONTACTS,
        status=400,
        json={"error": True, "errors": {"email": ["Enter a valid email address."]}},
    )
    [r] = _target().upsert([_item("g1", email="not-an-email")])
    assert not r.ok and not r.retryable
    assert r.error == "crm: email: Enter a valid email address."


@responses.activate
def test_403_is_an_auth_error_not_a_dead_letter():
    responses.get(CONTACTS, status=403, json={"detail": "Organization context is required."})
    with pytest.raises(AuthError, match="Organization context"):
        _target().upsert([_item("g1", email="mei@example.com")])


@responses.activate
def test_transient_failure_raises_on_the_first_record_and_defers_the_rest():
    responses.patch(CONTACTS + "u1/", json={"error": False})
    responses.patch(CONTACTS + "u2/", status=502, body="bad gateway")
    t = _target(batch_size=3)
    results = t.upsert([_item("g1", "u1"), _item("g2", "u2"), _item("g3", "u3")])
    assert [(r.guest_id, r.ok, r.retryable) for r in results] == [
        ("g1", True, False),
        ("g2", False, True),
        ("g3", False, True),
    ]
    with pytest.raises(RetryableError):
        t.upsert([_item("g2", "u2")])


@responses.activate
def test_delete_and_merge():
    responses.delete(CONTACTS + "u1/", json={"error": False})
    responses.delete(CONTACTS + "u2/", status=404, json={"detail": "No Contact matches"})
    responses.post(CONTACTS + "u3/merge/", json={"error": False, "id": "u3"})
    t = _target()
    assert [r.ok for r in t.delete([CrmRef("g1", "u1"), CrmRef("g2", "u2")])] == [True, True]
    r = t.merge(CrmRef("g3", "u3"), CrmRef("g4", "u4"))
    assert (r.ok, r.crm_id) == (True, "u3")
    assert json.loads(responses.calls[-1].request.body) == {"merge_id": "u4"}


@responses.activate
def test_a_guest_with_only_a_name_is_looked_up_by_that_name_not_the_placeholder():
    responses.get(CONTACTS, json=_page({"id": "u3", "email": None, "source_ref": "g1"}))
    responses.patch(CONTACTS + "u3/", json={"error": False})
    t = _target()
    [r] = t.upsert([_item("g1", **t.project(Guest(id="g1", full_name="Madonna")))])
    assert (r.ok, r.crm_id) == (True, "u3")
    assert responses.calls[0].request.params == {"name": "Madonna", "limit": "100", "offset": "0"}
