"""A fake Salesforce REST API: OAuth refresh, sObject Collections upsert and delete.

Shapes from the Salesforce REST guide (see connectors/salesforce.py): errors are JSON
arrays of {message, errorCode}; collections answer one result per record in order;
401 INVALID_SESSION_ID when the session expired; 403 REQUEST_LIMIT_EXCEEDED when
throttled. Access tokens expire after `token_uses` calls when set.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask, Response, request

from .fakecrm import FakeCrm

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _err(status: int, code: str, message: str) -> Response:
    return FakeCrm.json([{"message": message, "errorCode": code}], status)


class FakeSalesforce(FakeCrm):
    name = "salesforce"
    api_prefix = "/services/data/"

    def __init__(
        self,
        *,
        client_id: str = "cid",
        refresh_token: str = "refresh-1",
        sobject: str = "Contact",
        external_id_field: str = "Guest_Key__c",
        **kw: Any,
    ) -> None:
        self.client_id = client_id
        self.refresh_token = refresh_token
        self.sobject = sobject
        self.external_id_field = external_id_field
        self.records: dict[str, dict[str, Any]] = {}  # Salesforce id -> fields
        self.by_ext: dict[str, str] = {}  # external id -> Salesforce id
        self.next_id = 1
        super().__init__(**kw)

    def find(self, ext_id: str) -> list[str]:
        rid = self.by_ext.get(ext_id)
        return [rid] if rid else []

    # -- vendor answers -----------------------------------------------------------------

    def presented_token(self) -> str | None:
        return request.headers.get("Authorization", "").removeprefix("Bearer ") or None

    def unauthorized(self) -> Response:
        return _err(401, "INVALID_SESSION_ID", "Session expired or invalid")

    def throttled(self) -> Response:
        return _err(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")

    def server_error(self) -> Response:
        return _err(500, "UNKNOWN_EXCEPTION", "An unexpected error occurred.")

    # -- the app ------------------------------------------------------------------------

    def routes(self, app: Flask) -> None:
        @app.post("/services/oauth2/token")
        def token() -> Response:
            f = request.form
            if f.get("grant_type") != "refresh_token" or f.get("client_id") != self.client_id:
                return self.json({"error": "invalid_client_id", "error_description": "client"}, 400)
            if f.get("refresh_token") != self.refresh_token:
                return self.json(
                    {"error": "invalid_grant", "error_description": "expired access/refresh token"},
                    400,
                )
            return self.json(
                {
                    "access_token": self.issue_token(),
                    "instance_url": request.host_url.rstrip("/"),
                    "id": f"{request.host_url}id/00D/005",
                    "issued_at": "1700000000000",
                    "signature": "c2lnbmF0dXJl",
                    "token_type": "Bearer",
                }
            )

        @app.patch("/services/data/<version>/composite/sobjects/<sobject>/<field>")
        def upsert(version: str, sobject: str, field: str) -> Response:
            if sobject != self.sobject:
                return _err(404, "NOT_FOUND", f"The requested resource does not exist: {sobject}")
            if field != self.external_id_field:
                return _err(404, "NOT_FOUND", f"Provided external ID field does not exist: {field}")
            body = request.get_json(silent=True)
            problem = self._check(body)
            if problem:
                self.counts["400"] += 1
                return _err(400, "JSON_PARSER_ERROR", problem)
            assert isinstance(body, dict)  # _check accepts only an object
            with self.lock:
                return self.json([self._one(r) for r in body["records"]])

        @app.delete("/services/data/<version>/composite/sobjects")
        def delete(version: str) -> Response:
            ids = [i for i in request.args.get("ids", "").split(",") if i]
            if not 1 <= len(ids) <= 200:
                return _err(400, "INVALID_FIELD", "ids: 1 to 200 ids")
            out = []
            with self.lock:
                for rid in ids:
                    rec = self.records.pop(rid, None)
                    if rec is None:
                        err = {"statusCode": "ENTITY_IS_DELETED", "message": "entity is deleted"}
                        out.append({"id": rid, "success": False, "errors": [err]})
                        continue
                    self.by_ext.pop(rec.get(self.external_id_field, ""), None)
                    self.counts["deleted"] += 1
                    out.append({"id": rid, "success": True, "errors": []})
            return self.json(out)

    def _check(self, body: Any) -> str | None:
        if not isinstance(body, dict) or not isinstance(body.get("records"), list):
            return "expected {allOrNone, records: [...]}"
        if not isinstance(body.get("allOrNone", False), bool):
            return "allOrNone must be a boolean"
        if not 1 <= len(body["records"]) <= 200:
            return f"records must hold 1 to 200 items, got {len(body['records'])}"
        for i, r in enumerate(body["records"]):
            if not isinstance(r, dict) or (r.get("attributes") or {}).get("type") != self.sobject:
                return f"records[{i}].attributes.type must be {self.sobject}"
            if "Id" in r or "id" in r:
                return f"records[{i}]: Id must not be set in an upsert"
            if not isinstance(r.get(self.external_id_field), str):
                return f"records[{i}].{self.external_id_field} is required"
        return None

    def _one(self, r: dict[str, Any]) -> dict[str, Any]:
        ext = r[self.external_id_field]

        def fail(code: str, message: str, fields: list[str]) -> dict[str, Any]:
            self.counts["rejected"] += 1
            err = {"statusCode": code, "message": message, "fields": fields}
            return {"success": False, "errors": [err]}

        if ext in self.reject:
            return fail("FIELD_CUSTOM_VALIDATION_EXCEPTION", self.reject[ext], [])
        if not r.get("LastName"):
            return fail(
                "REQUIRED_FIELD_MISSING", "Required fields are missing: [LastName]", ["LastName"]
            )
        email = r.get("Email")
        if email is not None and not EMAIL.match(str(email)):
            return fail(
                "INVALID_EMAIL_ADDRESS", f"Email: invalid email address: {email}", ["Email"]
            )
        fields = {k: v for k, v in r.items() if k != "attributes"}
        rid = self.by_ext.get(ext)
        created = rid is None
        if created:
            rid = f"003{self.next_id:015d}"
            self.next_id += 1
            self.records[rid] = {}
            self.by_ext[ext] = rid
            self.counts["created"] += 1
        else:
            self.counts["updated"] += 1
        assert rid is not None
        self.records[rid].update(fields)
        return {"id": rid, "success": True, "errors": [], "created": created}
