"""A fake HubSpot CRM v3 contacts API for tests, the demo and the benchmarks.

It follows the documented request and response shapes of
POST /crm/v3/objects/contacts/batch/upsert (200, or 207 with per-input `errors[]`),
POST /crm/v3/objects/contacts/merge, POST /crm/v3/objects/contacts/gdpr-delete,
GET/POST /crm/v3/properties/contacts, the 429 body of the usage-details page
(`errorType: RATE_LIMIT`, `policyName`), and the error body of the api-error-responses
page. It validates what it receives, keeps unique properties unique (email included),
can rate-limit (190 per 10 s for private apps), inject faults (see FaultPlan), reject
chosen records, and counts everything, so a test can assert that every guest arrived
exactly once.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask, Response, jsonify, request

from .fakecrm import FakeCrm, FaultPlan

UPSERT = "/crm/v3/objects/contacts/batch/upsert"
MERGE = "/crm/v3/objects/contacts/merge"
GDPR_DELETE = "/crm/v3/objects/contacts/gdpr-delete"
PROPERTIES = "/crm/v3/properties/contacts"

__all__ = ["FakeHubSpot", "FaultPlan"]

# Default contact properties the fake's portal has beyond the unique ones. `hs_language` is
# an enumeration: a value outside its options fails the whole batch with a 400 (as seen in
# issue 23's trial against HubSpot ⚠️; the real option list is the portal's, read with GET
# /crm/v3/properties/contacts/hs_language, so guestsync never hard-codes it). There is no
# `date_of_birth`: it is not a default property of every portal.
DEFAULT_PROPERTIES: dict[str, dict[str, Any]] = {
    "hs_language": {
        "name": "hs_language",
        "type": "enumeration",
        "fieldType": "select",
        "options": [
            {"label": label, "value": value}
            for value, label in (
                ("en", "English"),
                ("zh-tw", "Chinese - Taiwan"),
                ("zh-cn", "Chinese - China"),
                ("zh-hk", "Chinese - Hong Kong"),
                ("ja", "Japanese"),
            )
        ],
    },
}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _error(status: int, message: str, category: str, **extra: Any) -> Response:
    body = {
        "status": "error",
        "message": message,
        "correlationId": str(uuid.uuid4()),
        "category": category,
        **extra,
    }
    resp = jsonify(body)
    resp.status_code = status
    return resp


class FakeHubSpot(FakeCrm):
    name = "hubspot"
    api_prefix = "/crm/"

    def __init__(
        self,
        *,
        token: str = "test-token",
        unique_properties: tuple[str, ...] = ("guestsync_id", "email"),
        faults: FaultPlan | None = None,
        state_path: Path | None = None,
        **kw: Any,
    ) -> None:
        self.token = token
        self.unique_properties = set(unique_properties)
        self.state_path = state_path
        self.contacts: dict[str, dict[str, str]] = {}
        self.index: dict[tuple[str, str], str] = {}  # (unique property, value) -> id
        self.next_id = 1001
        self.merged: dict[str, str] = {}  # loser id -> keeper id
        if state_path and state_path.exists():
            state = json.loads(state_path.read_text())
            self.contacts, self.next_id = state["contacts"], state["next_id"]
            for cid, props in self.contacts.items():
                self._index(cid, props)
        super().__init__(faults=faults, **kw)

    # -- helpers for assertions ---------------------------------------------------------

    def find(self, prop: str, value: str) -> list[str]:
        if prop in self.unique_properties:
            cid = self.index.get((prop, value))
            return [cid] if cid is not None else []
        return [cid for cid, p in self.contacts.items() if p.get(prop) == value]

    def _index(self, cid: str, props: dict[str, str]) -> None:
        for prop in self.unique_properties:
            if props.get(prop):
                self.index[(prop, props[prop])] = cid

    def _unindex(self, cid: str) -> None:
        for prop in self.unique_properties:
            value = self.contacts[cid].get(prop)
            if value and self.index.get((prop, value)) == cid:
                del self.index[(prop, value)]

    def _save(self) -> None:
        if self.state_path:
            self.state_path.write_text(
                json.dumps({"contacts": self.contacts, "next_id": self.next_id}, ensure_ascii=False)
            )

    # -- vendor answers -----------------------------------------------------------------

    def presented_token(self) -> str | None:
        return request.headers.get("Authorization", "").removeprefix("Bearer ") or None

    def static_token_ok(self, token: str | None) -> bool:
        return token == self.token

    def unauthorized(self) -> Response:
        return _error(401, "Authentication credentials not found.", "INVALID_AUTHENTICATION")

    def throttled(self) -> Response:
        resp = jsonify(
            {
                "status": "error",
                "message": "You have reached your ten_secondly_rolling limit.",
                "errorType": "RATE_LIMIT",
                "correlationId": str(uuid.uuid4()),
                "policyName": "TEN_SECONDLY_ROLLING",
            }
        )
        resp.status_code = 429
        return resp

    def server_error(self) -> Response:
        return _error(500, "internal error", "INTERNAL_ERROR")

    # -- the app ------------------------------------------------------------------------

    def routes(self, app: Flask) -> None:
        @app.post(UPSERT)
        def batch_upsert() -> Response:
            body = request.get_json(silent=True)
            problem = self._check_shape(body)
            if problem:
                self.counts["400"] += 1
                return _error(400, problem, "VALIDATION_ERROR")
            assert isinstance(body, dict)  # _check_shape accepts only an object
            with self.lock:
                saved = (
                    {cid: dict(p) for cid, p in self.contacts.items()},
                    dict(self.index),
                    self.next_id,
                    dict(self.counts),
                )
                resp, conflict = self._upsert(body["inputs"])
                if conflict is not None:
                    # HubSpot answers an email (or other unique value) that belongs to
                    # another contact with one 409 for the whole batch, writing nothing
                    # (HubSpot/hubspot-api-python#51: "Contact already exists. Existing ID:
                    # …", category CONFLICT, naming only the first conflict).
                    self.contacts, self.index, self.next_id, counts = saved
                    self.counts.clear()
                    self.counts.update(counts)
                    self.counts["409"] += 1
                    return _error(409, conflict["message"], "CONFLICT")
                self._save()
            return resp

        @app.post(MERGE)
        def merge() -> Response:
            body = request.get_json(silent=True) or {}
            keep, lose = str(body.get("primaryObjectId")), str(body.get("objectIdToMerge"))
            with self.lock:
                keep = self.merged.get(keep, keep)
                if self.merged.get(lose) == keep:  # merged before: ids resolve to the keeper
                    return jsonify({"id": keep, "properties": self.contacts[keep]})
                if keep not in self.contacts or lose not in self.contacts or keep == lose:
                    return _error(404, f"Object not found: {keep} or {lose}", "OBJECT_NOT_FOUND")
                loser = self.contacts[lose]
                self._unindex(lose)
                del self.contacts[lose]
                kept = self.contacts[keep]
                for prop, value in loser.items():
                    if prop not in self.unique_properties and not kept.get(prop):
                        kept[prop] = value
                self.merged[lose] = keep
                self.counts["merged"] += 1
                self._save()
                return jsonify({"id": keep, "properties": dict(kept), "archived": False})

        @app.post(GDPR_DELETE)
        def gdpr_delete() -> Response:
            body = request.get_json(silent=True) or {}
            cid = str(body.get("objectId"))
            if body.get("idProperty"):
                found = self.find(body["idProperty"], cid)
                cid = found[0] if found else cid
            with self.lock:
                if cid not in self.contacts:
                    return _error(404, f"Object not found: {cid}", "OBJECT_NOT_FOUND")
                self._unindex(cid)
                del self.contacts[cid]
                self.counts["gdpr_deleted"] += 1
                self._save()
            return Response(status=204)

        @app.get(f"{PROPERTIES}/<name>")
        def get_property(name: str) -> Response:
            if name in DEFAULT_PROPERTIES:
                return jsonify(DEFAULT_PROPERTIES[name])
            if name not in self.unique_properties:
                return _error(404, f"Unable to find property {name}", "OBJECT_NOT_FOUND")
            return jsonify({"name": name, "type": "string", "hasUniqueValue": name != "email"})

        @app.post(PROPERTIES)
        def create_property() -> Response:
            body = request.get_json(silent=True) or {}
            if not all(body.get(k) for k in ("name", "label", "type", "fieldType", "groupName")):
                return _error(
                    400, "name, label, type, fieldType, groupName are required", "VALIDATION_ERROR"
                )
            name = body["name"]
            if name in self.unique_properties:
                return _error(
                    409, f"A property named '{name}' already exists.", "OBJECT_ALREADY_EXISTS"
                )
            if body.get("hasUniqueValue"):
                self.unique_properties.add(name)
            self.counts["properties_created"] += 1
            resp = jsonify({**body, "createdAt": _now()})
            resp.status_code = 201
            return resp

        @app.get("/crm/v3/objects/contacts")
        def list_contacts() -> Response:
            limit = min(int(request.args.get("limit", 10)), 100)
            after = int(request.args.get("after", 0))
            ids = sorted(self.contacts, key=int)
            page = [i for i in ids if int(i) > after][:limit]
            out: dict[str, Any] = {
                "results": [
                    {"id": i, "properties": self.contacts[i], "archived": False} for i in page
                ]
            }
            if len(page) == limit and page and page[-1] != ids[-1]:
                out["paging"] = {"next": {"after": page[-1]}}
            return jsonify(out)

        @app.get("/_fake/state")
        def state() -> Response:
            return jsonify({"contacts": len(self.contacts), "counts": dict(self.counts)})

    def _check_shape(self, body: Any) -> str | None:
        if not isinstance(body, dict) or not isinstance(body.get("inputs"), list):
            return "Invalid input JSON: expected an object with an `inputs` array"
        inputs = body["inputs"]
        if not 1 <= len(inputs) <= 100:
            return f"inputs must hold 1 to 100 items, got {len(inputs)}"
        for i, item in enumerate(inputs):
            if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                return f"inputs[{i}].id must be a string"
            prop = item.get("idProperty") or request.args.get("idProperty")
            if prop not in self.unique_properties:
                return f"inputs[{i}].idProperty {prop!r} is not a unique-valued property"
            props = item.get("properties")
            if not isinstance(props, dict) or not all(isinstance(v, str) for v in props.values()):
                return f"inputs[{i}].properties must map names to string values"
        return self._check_options(inputs)

    def _check_options(self, inputs: list[Any]) -> str | None:
        """An enumeration value outside its options fails the whole batch ⚠️ (see above)."""
        for i, item in enumerate(inputs):
            for name, value in item["properties"].items():
                spec = DEFAULT_PROPERTIES.get(name)
                if spec and spec["type"] == "enumeration" and value != "":
                    allowed = {o["value"] for o in spec["options"]}
                    if value not in allowed:
                        return (
                            f"Property values were not valid: inputs[{i}] {name}: "
                            f"{value} was not one of the allowed options"
                        )
        return None

    def _record_error(self, key: str, item: dict[str, Any]) -> dict[str, Any] | None:
        props = item["properties"]
        email = props.get("email")
        if email is not None and "@" not in email:
            return {
                "status": "error",
                "category": "VALIDATION_ERROR",
                "message": f"Property values were not valid: email {email!r}",
                "context": {"ids": [key]},
                "errors": [
                    {
                        "message": f"{email!r} is not a valid email address",
                        "in": "email",
                        "code": "INVALID_EMAIL",
                    }
                ],
            }
        trace = item.get("objectWriteTraceId") or key
        if trace in self.reject:
            return {
                "status": "error",
                "category": "VALIDATION_ERROR",
                "message": self.reject[trace],
                "context": {"ids": [key]},
            }
        return None

    def _upsert(self, inputs: list[dict[str, Any]]) -> tuple[Response, dict[str, Any] | None]:
        results, errors = [], []
        ts = _now()
        for item in inputs:
            prop = item.get("idProperty") or request.args.get("idProperty")
            assert isinstance(prop, str)  # _check_shape: one of the unique-valued properties
            key, props = item["id"], item["properties"]
            trace = item.get("objectWriteTraceId")
            error = self._record_error(key, item)
            existing = self.find(prop, key)
            if error is None:
                for uprop in self.unique_properties:
                    value = props.get(uprop)
                    owner = self.index.get((uprop, value)) if value else None
                    if owner is not None and owner not in existing:
                        return Response(status=409), {
                            "message": f"Contact already exists. Existing ID: {owner}"
                        }
            if error is not None:
                errors.append(error)
                self.counts["rejected"] += 1
                continue
            new = not existing
            if new:
                cid = str(self.next_id)
                self.next_id += 1
                self.contacts[cid] = {prop: key}
                self.counts["created"] += 1
            else:
                cid = existing[0]
                self.counts["updated"] += 1
            self._unindex(cid)
            self.contacts[cid].update(props)
            self._index(cid, self.contacts[cid])
            result = {
                "id": cid,
                "new": new,
                "archived": False,
                "createdAt": ts,
                "updatedAt": ts,
                "properties": dict(self.contacts[cid]),
            }
            if trace:
                result["objectWriteTraceId"] = trace
            results.append(result)
        body: dict[str, Any] = {
            "status": "COMPLETE",
            "requestedAt": ts,
            "startedAt": ts,
            "completedAt": ts,
            "results": results,
        }
        if errors:
            body["numErrors"] = len(errors)
            body["errors"] = errors
        resp = jsonify(body)
        resp.status_code = 207 if errors else 200
        return resp, None
