"""A fake Zoho CRM v8: OAuth refresh at an accounts server, records upsert and delete.

Shapes from the upsert-records page (see connectors/zoho.py): one result per record in
order with its own `code`; 207 when some failed, 400 when all did; duplicate check by
`duplicate_check_fields` in order; `Last_Name` mandatory; unique fields (Email and the
configured id field) stay unique (DUPLICATE_DATA). Throttle: 429 TOO_MANY_REQUESTS.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask, Response, request

from .fakecrm import FakeCrm

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _err(status: int, code: str, message: str, details: dict | None = None) -> Response:
    body = {"code": code, "details": details or {}, "message": message, "status": "error"}
    return FakeCrm.json(body, status)


class FakeZoho(FakeCrm):
    name = "zoho"
    api_prefix = "/crm/"

    def __init__(
        self,
        *,
        client_id: str = "cid",
        client_secret: str = "secret",
        refresh_token: str = "refresh-1",
        module: str = "Contacts",
        unique_fields: tuple[str, ...] = ("Guestsync_ID", "Email"),
        **kw: Any,
    ) -> None:
        self.client_id, self.client_secret = client_id, client_secret
        self.refresh_token = refresh_token
        self.module = module
        self.unique_fields = unique_fields
        self.records: dict[str, dict[str, Any]] = {}
        self.index: dict[tuple[str, str], str] = {}
        self.next_id = 4150868000000000001
        super().__init__(**kw)

    def find(self, field: str, value: str) -> list[str]:
        rid = self.index.get((field, value))
        return [rid] if rid else []

    # -- vendor answers -----------------------------------------------------------------

    def presented_token(self) -> str | None:
        return request.headers.get("Authorization", "").removeprefix("Zoho-oauthtoken ") or None

    def unauthorized(self) -> Response:
        return _err(401, "INVALID_TOKEN", "invalid oauth token")

    def throttled(self) -> Response:
        return _err(429, "TOO_MANY_REQUESTS", "too many requests, try after some time")

    def server_error(self) -> Response:
        return _err(500, "INTERNAL_ERROR", "Internal Server Error")

    # -- the app ------------------------------------------------------------------------

    def routes(self, app: Flask) -> None:
        @app.post("/oauth/v2/token")
        def token() -> Response:
            q = request.args
            ok = (
                q.get("grant_type") == "refresh_token"
                and q.get("client_id") == self.client_id
                and q.get("client_secret") == self.client_secret
                and q.get("refresh_token") == self.refresh_token
            )
            if not ok:  # Zoho answers a refused grant with 200 and an `error` ⚠️
                return self.json({"error": "invalid_code"})
            return self.json(
                {
                    "access_token": self.issue_token(),
                    "api_domain": request.host_url.rstrip("/"),
                    "token_type": "Bearer",
                    "expires_in": 3600,
                }
            )

        @app.post("/crm/v8/<module>/upsert")
        def upsert(module: str) -> Response:
            if module != self.module:
                return _err(400, "INVALID_MODULE", "the module name given seems to be invalid")
            body = request.get_json(silent=True)
            problem = self._check(body)
            if problem:
                self.counts["400"] += 1
                return _err(400, "INVALID_DATA", problem)
            assert isinstance(body, dict)  # _check accepts only an object
            checks = body.get("duplicate_check_fields") or ["Email"]
            with self.lock:
                out = [self._one(i, r, checks) for i, r in enumerate(body["data"])]
            ok = sum(r["status"] == "success" for r in out)
            status = 200 if ok == len(out) else 207 if ok else 400
            return self.json({"data": out}, status)

        @app.delete("/crm/v8/<module>")
        def delete(module: str) -> Response:
            ids = [i for i in request.args.get("ids", "").split(",") if i]
            if not 1 <= len(ids) <= 100:
                return _err(400, "INVALID_DATA", "ids: 1 to 100")
            out = []
            with self.lock:
                for rid in ids:
                    rec = self.records.pop(rid, None)
                    if rec is None:
                        out.append(
                            {
                                "code": "INVALID_DATA",
                                "details": {"id": rid},
                                "message": "the id given seems to be invalid",
                                "status": "error",
                            }
                        )
                        continue
                    for f in self.unique_fields:
                        self.index.pop((f, str(rec.get(f))), None)
                    self.counts["deleted"] += 1
                    out.append(
                        {
                            "code": "SUCCESS",
                            "details": {"id": rid},
                            "message": "record deleted",
                            "status": "success",
                        }
                    )
            return self.json({"data": out})

    def _check(self, body: Any) -> str | None:
        if not isinstance(body, dict) or not isinstance(body.get("data"), list):
            return "expected {data: [...]}"
        if not 1 <= len(body["data"]) <= 100:
            return f"data must hold 1 to 100 records, got {len(body['data'])}"
        checks = body.get("duplicate_check_fields")
        if checks is not None and not (
            isinstance(checks, list) and all(isinstance(c, str) for c in checks)
        ):
            return "duplicate_check_fields must be a list of field API names"
        if not all(isinstance(r, dict) for r in body["data"]):
            return "every record must be an object"
        return None

    def _one(self, i: int, r: dict[str, Any], checks: list[str]) -> dict[str, Any]:
        def fail(code: str, message: str, field: str) -> dict[str, Any]:
            self.counts["rejected"] += 1
            details = {"api_name": field, "json_path": f"$.data[{i}].{field}"}
            return {"code": code, "details": details, "message": message, "status": "error"}

        our_id = str(r.get("Guestsync_ID", ""))
        if our_id in self.reject:
            return fail("INVALID_DATA", self.reject[our_id], "Guestsync_ID")
        if not r.get("Last_Name"):
            return fail("MANDATORY_NOT_FOUND", "required field not found", "Last_Name")
        email = r.get("Email")
        if email is not None and not EMAIL.match(str(email)):
            return fail("INVALID_DATA", "invalid data", "Email")
        rid, matched = None, None
        for f in checks:
            if r.get(f) is not None and (f, str(r[f])) in self.index:
                rid, matched = self.index[(f, str(r[f]))], f
                break
        for f in self.unique_fields:
            owner = self.index.get((f, str(r.get(f)))) if r.get(f) is not None else None
            if owner is not None and owner != rid:
                return fail("DUPLICATE_DATA", "duplicate data", f)
        action = "update" if rid else "insert"
        if rid is None:
            rid = str(self.next_id)
            self.next_id += 1
            self.records[rid] = {}
            self.counts["created"] += 1
        else:
            self.counts["updated"] += 1
            for f in self.unique_fields:
                self.index.pop((f, str(self.records[rid].get(f))), None)
        self.records[rid].update(r)
        for f in self.unique_fields:
            if self.records[rid].get(f) is not None:
                self.index[(f, str(self.records[rid][f]))] = rid
        return {
            "code": "SUCCESS",
            "duplicate_field": matched,
            "action": action,
            "details": {"id": rid, "Modified_Time": "2026-01-01T00:00:00+00:00"},
            "message": "record updated" if matched else "record added",
            "status": "success",
        }
