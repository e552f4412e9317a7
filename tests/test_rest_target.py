"""Generic REST CRM target: configured in YAML, unit-tested with `responses`, then driven
by the delivery engine against a tiny local CRM on 127.0.0.1."""

from __future__ import annotations

import base64
import json

import pytest
import responses
import yaml
from flask import Flask, jsonify, request

from guestsync.config import load_config
from guestsync.config.connectors import DeliveryRetryOptions, RestTargetOptions
from guestsync.connectors.rest import RestTarget
from guestsync.delivery.batches import deliver
from guestsync.errors import AuthError, ConfigError
from guestsync.hashing import json_hash
from guestsync.models import Guest, OutboxItem
from guestsync.store import Store
from guestsync.sync_engine import Hub
from guestsync.testing import ServerThread

from .conftest import ROOT

BASE = "http://crm.test"

BATCH_YAML = """\
targets:
  crm:
    type: rest
    base_url: {url}
    auth: {{kind: header, header: X-Api-Key, value: "${{CRM_KEY}}"}}
    batch_size: 3
    fields:
      external_id: guest.id
      name: first_name ~ ' ' ~ last_name
      email: guest.email
      allergies: guest.allergies | join(', ')
    upsert:
      method: POST
      path: /v1/contacts/upsert
      record: {{key: "{{{{ guest_id }}}}", properties: "{{{{ fields }}}}"}}
      body: {{items: "{{{{ records }}}}", count: "{{{{ records | length }}}}"}}
      results_path: results
      key_path: key
      id_path: id
      error_path: error.message
"""


def _target(url: str = BASE) -> RestTarget:
    data = yaml.safe_load(BATCH_YAML.format(url=url).replace("${CRM_KEY}", "k3y"))
    return RestTarget("crm", RestTargetOptions.model_validate(data["targets"]["crm"]))


def _item(gid: str, crm_id: str | None = None, **payload) -> OutboxItem:
    return OutboxItem(1, "crm", gid, {"external_id": gid, **payload}, "h", 0, crm_id)


def test_yaml_config_loads_with_env_secret(make_config):
    path = make_config(BATCH_YAML.format(url=BASE))
    options = load_config(path, environ={"CRM_KEY": "s3cret"}).targets["crm"]
    assert options.auth.value.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(options)


def test_projection_evaluates_field_expressions_and_drops_empty_values():
    payload = _target().project(
        Guest(id="g1", full_name="陳小明", email="ming@example.com", allergies=["花生", "蝦"])
    )
    assert payload == {
        "external_id": "g1",
        "name": "小明 陳",
        "email": "ming@example.com",
        "allergies": "花生, 蝦",
    }


@responses.activate
def test_batch_body_and_per_record_results_matched_by_key():
    responses.post(
        BASE + "/v1/contacts/upsert",
        json={
            "results": [
                {"key": "g2", "error": {"message": "email is invalid"}},
                {"key": "g1", "id": 101},
            ]
        },
    )
    results = _target().upsert([_item("g1", email="a@b.example"), _item("g2"), _item("g3")])
    assert [(r.guest_id, r.ok, r.crm_id, r.error, r.retryable) for r in results] == [
        ("g1", True, "101", None, False),
        ("g2", False, None, "crm: email is invalid", False),
        ("g3", False, None, "crm: no result for this record", True),
    ]
    sent = responses.calls[0].request
    assert sent.headers["X-Api-Key"] == "k3y"
    body = json.loads(sent.body)
    assert body["count"] == 3
    assert body["items"][0] == {
        "key": "g1",
        "properties": {"external_id": "g1", "email": "a@b.example"},
    }


def _single(**upsert) -> RestTarget:
    opts = RestTargetOptions.model_validate(
        {
            "type": "rest",
            "base_url": BASE,
            "auth": {"kind": "basic", "username": "u", "password": "p"},
            "upsert": {"path": "/contacts", **upsert},
            "update": {"method": "PATCH", "path": "/contacts/{{ crm_id | urlencode }}"},
        }
    )
    return RestTarget("crm", opts)


@responses.activate
def test_single_record_create_then_update_by_crm_id():
    responses.post(BASE + "/contacts", json={"id": "c-1"})
    responses.patch(BASE + "/contacts/c%201", json={"ok": True})
    t = _single()
    [created] = t.upsert([_item("g1", email="a@b.example")])
    [updated] = t.upsert([_item("g1", crm_id="c 1")])
    assert (created.ok, created.crm_id, created.created) == (True, "c-1", True)
    assert (updated.ok, updated.crm_id, updated.created) == (True, "c 1", False)
    assert json.loads(responses.calls[0].request.body) == {
        "external_id": "g1",
        "email": "a@b.example",
    }
    expected = "Basic " + base64.b64encode(b"u:p").decode()
    assert responses.calls[1].request.headers["Authorization"] == expected


@responses.activate
def test_a_per_record_path_sends_one_request_per_record_in_a_batch():
    opts = RestTargetOptions.model_validate(
        {
            "type": "rest",
            "base_url": BASE,
            "batch_size": 10,
            "upsert": {"method": "PUT", "path": "/contacts/by-key/{{ guest_id }}"},
        }
    )
    responses.put(BASE + "/contacts/by-key/g1", json={"id": 1})
    responses.put(BASE + "/contacts/by-key/g2", status=503)
    results = RestTarget("crm", opts).upsert([_item("g1"), _item("g2"), _item("g3")])
    assert [(r.ok, r.retryable) for r in results] == [(True, False), (False, True), (False, True)]
    assert len(responses.calls) == 2


@responses.activate
def test_a_value_missing_for_one_guest_renders_null_instead_of_failing():
    responses.post(BASE + "/contacts", json={"id": "c-1"})
    t = _single(record={"mail": "{{ fields.email }}", "note": "tel {{ fields.phone }}"})
    assert t.upsert([_item("g1")])[0].ok
    assert json.loads(responses.calls[0].request.body) == {"mail": None, "note": "tel "}


@responses.activate
def test_missing_id_is_a_rejection_naming_the_answer_and_403_stops():
    responses.post(BASE + "/contacts", json={"status": "ok"})
    [r] = _single().upsert([_item("g1")])
    assert not r.ok and "no CRM id at id_path" in r.error
    responses.post(BASE + "/contacts", status=403, json={"message": "bad key"})
    with pytest.raises(AuthError):
        _single().upsert([_item("g1")])


@pytest.mark.parametrize(
    ("upsert", "words"),
    [
        ({"record": "{{ fields."}, "upsert.record"),
        ({"id_path": "results[?"}, "upsert.id_path"),
    ],
)
def test_bad_templates_and_paths_are_config_errors_naming_the_field(upsert, words):
    with pytest.raises(ConfigError, match=words.replace(".", r"\.")):
        _single(**upsert)


def test_the_sandbox_refuses_to_reach_python_internals():
    t = _single(record="{{ fields.__class__.__mro__ }}")
    with pytest.raises(ConfigError, match="template failed"):
        t.upsert([_item("g1")])


def test_bad_auth_settings_fail_at_load():
    with pytest.raises(ValueError, match="needs token"):
        RestTargetOptions.model_validate(
            {"type": "rest", "base_url": BASE, "auth": {"kind": "bearer"}, "upsert": {"path": "/"}}
        )


def tiny_crm() -> tuple[Flask, dict[str, dict]]:
    """A CRM that upserts by external_id and rejects contacts without an email."""
    app = Flask("tiny_crm")
    contacts: dict[str, dict] = {}

    @app.post("/v1/contacts/upsert")
    def upsert():
        if request.headers.get("X-Api-Key") != "k3y":
            return jsonify(message="bad key"), 403
        out = []
        for item in request.get_json()["items"]:
            if not item["properties"].get("email"):
                out.append({"key": item["key"], "error": {"message": "email is required"}})
                continue
            row = contacts.setdefault(item["key"], {"id": len(contacts) + 1})
            row.update(item["properties"])
            out.append({"key": item["key"], "id": row["id"]})
        return jsonify(results=out)

    return app, contacts


def test_delivery_through_the_engine_to_a_local_crm(tmp_path):
    app, contacts = tiny_crm()
    store = Store.open(tmp_path / "hub.db")
    with ServerThread(app) as server:
        target = _target(server.url)
        guests = [
            Guest(id=f"g{i}", full_name=f"Guest {i}", email=f"g{i}@x.example") for i in range(7)
        ]
        guests.append(Guest(id="nomail", full_name="No Mail"))
        for g in guests:
            p = target.project(g)
            store.enqueue("crm", g.id, p, json_hash(p))
        stats = deliver(store, target, DeliveryRetryOptions(initial_wait=0, max_wait=0))
    assert (stats.pushed, stats.dead, stats.batches) == (7, 1, 3)
    assert sorted(contacts) == [f"g{i}" for i in range(7)]
    assert store.crm_id("crm", "g3") == str(contacts["g3"]["id"])
    [dead] = store.dead_letters()
    assert dead.guest_id == "nomail" and dead.error == "crm: email is required"


def test_the_readme_example_of_other_targets_is_valid(make_config):
    readme = (ROOT / "README.md").read_text("utf-8")
    [block] = [b for b in readme.split("```yaml\n")[1:] if "type: rest" in b and "upsert" in b]
    path = make_config(block.split("```")[0])
    config = load_config(path, environ={"BOTTLECRM_TOKEN": "t", "CRM_TOKEN": "t"})
    hub = Hub(config)
    assert {n: t.max_batch for n, t in hub.targets.items()} == {"bottlecrm": 1, "my_crm": 50}
    assert hub.targets["my_crm"].project(Guest(id="g", full_name="Mei Lin")) == {
        "external_id": "g",
        "name": "Mei Lin",
    }
