"""A fake generic REST CRM: the batch upsert API that the example in
`guestsync/connectors/rest.py` describes, for the target contract suite and the delivery
benchmark. It is no vendor's API; it stands for "a CRM without a connector".

    POST /v1/contacts/upsert   {"items": [{"key": <guest id>, "properties": {...}}, ...]}
    -> 200 {"results": [{"key": ..., "id": ..., "created": bool}
                         | {"key": ..., "error": {"message": ...}}, ...]}

Bearer token (401 otherwise); faults, a rate window (429 `{"message": "rate limited"}`) and
per-record rejections (by key) come from `FakeCrm`. `rest_target_options()` is the
matching target block.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import Flask, Response, request

from .fakecrm import StaticBearerCrm

MAX_ITEMS = 100


def rest_target_options(url: str, *, token: str = "rest-token", **kw: Any) -> dict[str, Any]:
    """The `targets.<name>` block (as a dict) that talks to this fake."""
    return {
        "type": "rest",
        "base_url": url,
        "auth": {"kind": "bearer", "token": token},
        "batch_size": MAX_ITEMS,
        "upsert": {
            "method": "POST",
            "path": "/v1/contacts/upsert",
            "record": {"key": "{{ guest_id }}", "properties": "{{ fields }}"},
            "body": {"items": "{{ records }}"},
            "results_path": "results",
            "key_path": "key",
            "id_path": "id",
            "error_path": "error.message",
            "created_path": "created",
        },
        **kw,
    }


class FakeRestCrm(StaticBearerCrm):
    name = "rest"
    api_prefix = "/v1/"

    def __init__(self, *, token: str = "rest-token", **kw: Any) -> None:
        self.token = token
        self.records: dict[str, dict[str, Any]] = {}  # id -> {"key", "properties"}
        self.by_key: dict[str, str] = {}
        super().__init__(**kw)

    def find(self, key: str) -> list[str]:
        rid = self.by_key.get(key)
        return [rid] if rid is not None and rid in self.records else []

    def unauthorized(self) -> Response:
        return self.json({"message": "invalid token"}, 401)

    def throttled(self) -> Response:
        return self.json({"message": "rate limited"}, 429)

    def server_error(self) -> Response:
        return self.json({"message": "internal error"}, 500)

    def routes(self, app: Flask) -> None:
        app.post("/v1/contacts/upsert")(self._upsert)

    def _upsert(self) -> Response:
        body = request.get_json(silent=True)
        items = body.get("items") if isinstance(body, dict) else None
        if not isinstance(items, list) or not 1 <= len(items) <= MAX_ITEMS:
            return self.json({"message": f"items must be a list of 1-{MAX_ITEMS}"}, 400)
        results = []
        with self.lock:
            for it in items:
                results.append(self._one(it))
        return self.json({"results": results})

    def _one(self, it: Any) -> dict[str, Any]:
        if not isinstance(it, dict) or not it.get("key"):
            return {"key": None, "error": {"message": "key is required"}}
        key, props = str(it["key"]), it.get("properties") or {}
        refused = self.reject.get(key)
        email = props.get("email")
        if refused or (email is not None and "@" not in str(email)):
            self.counts["rejected"] += 1
            return {"key": key, "error": {"message": refused or f"invalid email: {email}"}}
        rid = self.by_key.get(key)
        created = rid is None
        if rid is None:
            rid = self.by_key[key] = uuid.uuid4().hex
            self.records[rid] = {"key": key, "properties": {}}
            self.counts["created"] += 1
        else:
            self.counts["updated"] += 1
        self.records[rid]["properties"].update(props)
        return {"key": key, "id": rid, "created": created}
