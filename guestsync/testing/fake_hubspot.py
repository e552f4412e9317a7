"""A fake HubSpot CRM v3 contacts API for tests and the demo.

It follows the documented request and response shapes of
POST /crm/v3/objects/contacts/batch/upsert (200, or 207 with per-input `errors[]`),
the 429 body of the usage-details page (`errorType: RATE_LIMIT`, `policyName`), and the
error body of the api-error-responses page. It validates what it receives, can inject
429/500 answers and dropped connections, and counts everything, so a test can assert that
every guest arrived exactly once.
"""

from __future__ import annotations

import json
import random
import threading
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask, Response, jsonify, request

UPSERT = "/crm/v3/objects/contacts/batch/upsert"


@dataclass
class FaultPlan:
    """Which calls fail: first the `script` (one entry per call, None = answer normally),
    then at random with the given rates (seeded, so runs repeat)."""

    script: list[int | str | None] = field(default_factory=list)
    rate_429: float = 0.0
    rate_500: float = 0.0
    rate_drop: float = 0.0
    retry_after: str | None = None  # Retry-After header on injected 429s (HubSpot: not documented)
    seed: int = 7

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()

    def next(self) -> int | str | None:
        with self._lock:
            if self.script:
                return self.script.pop(0)
            roll = self._rng.random()
            if roll < self.rate_429:
                return 429
            if roll < self.rate_429 + self.rate_500:
                return 500
            if roll < self.rate_429 + self.rate_500 + self.rate_drop:
                return "drop"
            return None


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


class FakeHubSpot:
    def __init__(
        self,
        *,
        token: str = "test-token",
        unique_properties: tuple[str, ...] = ("guestsync_id", "email"),
        faults: FaultPlan | None = None,
        state_path: Path | None = None,
    ) -> None:
        self.token = token
        self.unique_properties = unique_properties
        self.faults = faults or FaultPlan()
        self.state_path = state_path
        self.contacts: dict[str, dict[str, str]] = {}
        self.next_id = 1001
        self.counts: Counter[str] = Counter()
        self.lock = threading.Lock()
        if state_path and state_path.exists():
            state = json.loads(state_path.read_text())
            self.contacts, self.next_id = state["contacts"], state["next_id"]
        self.app = self._make_app()

    # -- helpers for assertions ---------------------------------------------------------

    def find(self, prop: str, value: str) -> list[str]:
        return [cid for cid, p in self.contacts.items() if p.get(prop) == value]

    def _save(self) -> None:
        if self.state_path:
            self.state_path.write_text(
                json.dumps({"contacts": self.contacts, "next_id": self.next_id}, ensure_ascii=False)
            )

    # -- the app ------------------------------------------------------------------------

    def _make_app(self) -> Flask:
        app = Flask("fake_hubspot")

        @app.before_request
        def auth_and_faults() -> Response | None:
            self.counts["requests"] += 1
            if request.path.startswith("/_fake"):
                return None
            if request.headers.get("Authorization") != f"Bearer {self.token}":
                self.counts["401"] += 1
                return _error(
                    401, "Authentication credentials not found.", "INVALID_AUTHENTICATION"
                )
            fault = self.faults.next()
            if fault == 429:
                self.counts["429"] += 1
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
                if self.faults.retry_after:
                    resp.headers["Retry-After"] = self.faults.retry_after
                return resp
            if fault == 500:
                self.counts["500"] += 1
                return _error(500, "internal error", "INTERNAL_ERROR")
            if fault == "drop":
                self.counts["drop"] += 1
                # Close the socket without an answer, as a reset connection would.
                sock = request.environ.get("werkzeug.socket")
                if sock is not None:
                    import socket as _socket

                    sock.shutdown(_socket.SHUT_RDWR)
                    sock.close()
                return Response(status=500)
            return None

        @app.post(UPSERT)
        def batch_upsert() -> Response:
            body = request.get_json(silent=True)
            problem = self._check_shape(body)
            if problem:
                self.counts["400"] += 1
                return _error(400, problem, "VALIDATION_ERROR")
            with self.lock:
                resp = self._upsert(body["inputs"])
                self._save()
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

        return app

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
        return None

    def _upsert(self, inputs: list[dict[str, Any]]) -> Response:
        results, errors = [], []
        ts = _now()
        for item in inputs:
            prop = item.get("idProperty") or request.args.get("idProperty")
            key, props = item["id"], item["properties"]
            trace = item.get("objectWriteTraceId")
            email = props.get("email")
            if email is not None and "@" not in email:
                errors.append(
                    {
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
                )
                self.counts["rejected"] += 1
                continue
            existing = self.find(prop, key)
            new = not existing
            if new:
                cid = str(self.next_id)
                self.next_id += 1
                self.contacts[cid] = {prop: key}
                self.counts["created"] += 1
            else:
                cid = existing[0]
                self.counts["updated"] += 1
            self.contacts[cid].update(props)
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
        return resp
