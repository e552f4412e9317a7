"""A fake BottleCRM (django-crm 1.35.0) contacts API, for the target contract suite and
the delivery benchmark. The end-to-end test runs against a REAL instance instead
(testing/bottlecrm.py); this fake follows the shapes recorded there
(platform-apis.md §5.6-5.8): create answers 200 `{"error": false, "id": …}`, a taken email
(case-insensitive, unique per org) 400 `{"error": true, "errors": {"email": [...]}}`, a bad
token 403 (never 401), an unknown uuid 404, list pages `{"count", "results", "countries"}`.

Faults, a rate window and per-record rejections come from `FakeCrm`; `reject` is keyed by
`source_ref` (our guest id) and answered as a field error on `source_ref`.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import Flask, Response, request

from .fakecrm import StaticBearerCrm

REQUIRED = ("first_name", "last_name")


class FakeBottleCrm(StaticBearerCrm):
    name = "bottlecrm"
    api_prefix = "/api/"

    def __init__(self, *, token: str = "bcrm_pat_test", **kw: Any) -> None:
        self.token = token
        self.contacts: dict[str, dict[str, Any]] = {}
        super().__init__(**kw)

    def find(self, guest_id: str) -> list[str]:
        return [cid for cid, c in self.contacts.items() if c.get("source_ref") == guest_id]

    # -- FakeCrm hooks -----------------------------------------------------------------

    def unauthorized(self) -> Response:
        detail = "Organization context is required. Please login again."
        return self.json({"detail": detail}, 403)

    def throttled(self) -> Response:
        return self.json({"detail": "Request was throttled."}, 429)

    def server_error(self) -> Response:
        return Response("<h1>Server Error (500)</h1>", status=500, mimetype="text/html")

    # -- routes ------------------------------------------------------------------------

    def routes(self, app: Flask) -> None:
        app.get("/api/contacts/")(self._list)
        app.post("/api/contacts/")(self._create)
        app.patch("/api/contacts/<cid>/")(self._patch)
        app.delete("/api/contacts/<cid>/")(self._delete)
        app.post("/api/contacts/<cid>/merge/")(self._merge)

    def _list(self) -> Response:
        args = request.args
        limit, offset = int(args.get("limit", 10)), int(args.get("offset", 0))
        with self.lock:
            rows = list(self.contacts.values())
        if args.get("email"):
            rows = [r for r in rows if args["email"].lower() in (r.get("email") or "").lower()]
        if args.get("phone"):
            rows = [r for r in rows if args["phone"] in (r.get("phone") or "")]
        if args.get("name"):
            name = args["name"].lower()
            rows = [
                r for r in rows if name in f"{r.get('first_name')} {r.get('last_name')}".lower()
            ]
        page = rows[offset : offset + limit]
        return self.json({"count": len(rows), "results": page, "countries": [["TW", "Taiwan"]]})

    def _create(self) -> Response:
        body = request.get_json(silent=True) or {}
        with self.lock:
            errors = self._invalid(body, None, create=True)
            if errors:
                return self.json({"error": True, "errors": errors}, 400)
            cid = str(uuid.uuid4())
            self.contacts[cid] = {"id": cid, **body}
            self.counts["created"] += 1
        return self.json({"error": False, "message": "Contact created Successfuly", "id": cid})

    def _patch(self, cid: str) -> Response:
        body = request.get_json(silent=True) or {}
        with self.lock:
            if cid not in self.contacts:
                return self.json({"detail": "No Contact matches the given query."}, 404)
            errors = self._invalid(body, cid, create=False)
            if errors:
                return self.json({"error": True, "errors": errors}, 400)
            self.contacts[cid].update(body)
            self.counts["updated"] += 1
        return self.json({"error": False, "message": "Contact Updated Successfully"})

    def _delete(self, cid: str) -> Response:
        with self.lock:
            if self.contacts.pop(cid, None) is None:
                return self.json({"detail": "No Contact matches the given query."}, 404)
            self.counts["deleted"] += 1
        return self.json({"error": False, "message": "Contact Deleted Successfully."})

    def _merge(self, cid: str) -> Response:
        lose = (request.get_json(silent=True) or {}).get("merge_id")
        with self.lock:
            keep = self.contacts.get(cid)
            if keep is None or lose not in self.contacts:
                return self.json({"detail": "No Contact matches the given query."}, 404)
            loser = self.contacts.pop(lose)
            for k, v in loser.items():
                if k not in ("id", "source_ref") and v and not keep.get(k):
                    keep[k] = v
            self.counts["merged"] += 1
        return self.json({"error": False, "message": "Merged", "id": cid})

    def _invalid(self, body: dict[str, Any], cid: str | None, *, create: bool) -> dict:
        errors: dict[str, list[str]] = {}
        refused = self.reject.get(str(body.get("source_ref")))
        if refused:
            errors["source_ref"] = [refused]
        for f in REQUIRED:
            if (create or f in body) and not (1 <= len(str(body.get(f) or "")) <= 255):
                errors[f] = ["This field is required."]
        email = body.get("email")
        if email is not None:
            if "@" not in str(email):
                errors["email"] = ["Enter a valid email address."]
            elif any(
                (c.get("email") or "").lower() == str(email).lower() and other != cid
                for other, c in self.contacts.items()
            ):
                errors["email"] = ["Contact already exists with this email"]
        if errors:
            self.counts["rejected"] += 1
        return errors
