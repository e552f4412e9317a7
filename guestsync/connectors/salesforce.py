"""Salesforce target: contacts upserted by an External ID field, 200 per call.

sObject Collections upsert (allOrNone false, results in request order):
PATCH /services/data/vXX.X/composite/sobjects/{SObject}/{ExtIdField}
https://developer.salesforce.com/docs/platform/api-rest/guide/resources-composite-sobjects-collections-upsert.html

Auth is the OAuth2 refresh-token flow; Salesforce answers no `expires_in`, so the token is
refreshed when a call answers 401 INVALID_SESSION_ID, and the call is made once more
(as simple-salesforce does). 403 REQUEST_LIMIT_EXCEEDED is Salesforce's throttle: back
off (https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/errorcodes.htm).

One-time setup: a Text field on Contact marked "External ID" and "Unique" (default
`Guest_Key__c`), writable by the integration user.

Delete: DELETE /composite/sobjects?ids=…&allOrNone=false (per-record results). Contacts
cannot be merged through REST (SOAP merge() only), so this target does not merge.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import requests

from ..config.connectors import SalesforceTargetOptions
from ..errors import AuthError, PermanentError, RateLimitedError
from ..models import Guest, OutboxItem
from .base import CrmRef, RecordResult
from .http import HttpClient, classify
from .oauth import RefreshToken

# Per-record codes worth resending (the rest are the record's fault). ⚠️ The list of
# transient codes is from Salesforce's error-code page; UNABLE_TO_LOCK_ROW is a row lock.
TRANSIENT_CODES = frozenset({"UNABLE_TO_LOCK_ROW", "REQUEST_LIMIT_EXCEEDED", "SERVER_UNAVAILABLE"})

# ❓ Salesforce documents no per-second rate, only a rolling 24 h allowance and 25
# concurrent long requests; 10 requests/s (2,000 records/s) is our conservative default.
# Change it with `rate:` in the target's config.
DEFAULT_RATE = 10.0


class SalesforceTarget:
    def __init__(
        self,
        name: str,
        options: SalesforceTargetOptions,
        *,
        session: requests.Session | None = None,
    ) -> None:
        self.name = name
        self.options = options
        self.max_batch = options.batch_size
        self.rate: float | None = DEFAULT_RATE
        self.account = f"salesforce:{options.login_url.host}:{options.client_id}"
        self.http = HttpClient(
            str(options.instance_url or options.login_url),
            target=name,
            timeout=options.timeout,
            session=session,
        )
        form = {
            "grant_type": "refresh_token",
            "refresh_token": options.refresh_token.get_secret_value(),
            "client_id": options.client_id,
        }
        if options.client_secret is not None:
            form["client_secret"] = options.client_secret.get_secret_value()
        self.token = RefreshToken(
            str(options.login_url).rstrip("/") + "/services/oauth2/token",
            form,
            target=name,
            session=self.http.session,
            timeout=options.timeout,
        )

    # -- payload ---------------------------------------------------------------------------

    def project(self, guest: Guest) -> dict[str, Any]:
        """Contact fields; LastName is required, so a one-string name goes there."""
        last = guest.family_name or guest.full_name or guest.given_name or guest.email or "-"
        first = guest.given_name if guest.family_name else None
        fields = {
            self.options.external_id_field: guest.id,
            "FirstName": first,
            "LastName": last,
            "Email": guest.email,
            "Phone": guest.phone,
            "Birthdate": guest.birthday.isoformat() if guest.birthday else None,
        }
        return {k: v for k, v in fields.items() if v not in (None, "")}

    # -- calls -----------------------------------------------------------------------------

    def _base(self) -> str:
        if self.options.instance_url is not None:
            return str(self.options.instance_url).rstrip("/")
        self.token.get()
        return str(self.token.answer.get("instance_url") or self.options.login_url).rstrip("/")

    def _call(self, method: str, path: str, **kw: Any) -> requests.Response:
        """A data API call; refreshes the token once on 401 INVALID_SESSION_ID."""
        for attempt in (1, 2):
            token = self.token.get()
            resp = self.http.request(
                method,
                self._base() + f"/services/data/{self.options.api_version}" + path,
                check=False,
                headers={"Authorization": f"Bearer {token}"},
                **kw,
            )
            codes = _error_codes(resp)
            if resp.status_code == 401 and attempt == 1:
                self.token.refresh(stale=token)
                continue
            if resp.status_code == 403 and "REQUEST_LIMIT_EXCEEDED" in codes:
                raise RateLimitedError(
                    f"{self.name}: HTTP 403 REQUEST_LIMIT_EXCEEDED: {_message(resp)}",
                    status=403,
                    target=self.name,
                )
            if resp.status_code in (401, 403):
                raise AuthError(
                    f"{self.name}: HTTP {resp.status_code} {' '.join(codes)}: {_message(resp)}",
                    status=resp.status_code,
                    target=self.name,
                )
            if resp.status_code >= 400 and resp.status_code < 500:
                raise PermanentError(
                    f"{self.name}: HTTP {resp.status_code} {' '.join(codes)}: {_message(resp)}",
                    status=resp.status_code,
                    target=self.name,
                )
            classify(resp, target=self.name)
            return resp
        raise AssertionError("unreachable")

    def upsert(self, batch: Sequence[OutboxItem]) -> list[RecordResult]:
        sobject, ext = self.options.sobject, self.options.external_id_field
        records = [
            {"attributes": {"type": sobject}, **item.payload, ext: item.guest_id} for item in batch
        ]
        body = self._call(
            "PATCH",
            f"/composite/sobjects/{sobject}/{ext}",
            json={"allOrNone": False, "records": records},
        ).json()
        return _results([item.guest_id for item in batch], body)

    def delete(self, refs: Sequence[CrmRef]) -> list[RecordResult]:
        body = self._call(
            "DELETE",
            "/composite/sobjects",
            params={"ids": ",".join(r.crm_id for r in refs), "allOrNone": "false"},
        ).json()
        results = _results([r.guest_id for r in refs], body)
        # Already gone is what we wanted.
        return [
            RecordResult(r.guest_id, ok=True, crm_id=ref.crm_id)
            if not r.ok and r.error and r.error.startswith("ENTITY_IS_DELETED")
            else r
            for r, ref in zip(results, refs, strict=True)
        ]


def _results(guest_ids: list[str], body: Any) -> list[RecordResult]:
    """Per-record results, in request order (documented for sObject Collections)."""
    if not isinstance(body, list) or len(body) != len(guest_ids):
        return [
            RecordResult(g, ok=False, retryable=True, error="Salesforce answered no result")
            for g in guest_ids
        ]
    out = []
    for gid, r in zip(guest_ids, body, strict=True):
        if r.get("success"):
            out.append(
                RecordResult(gid, ok=True, crm_id=r.get("id"), created=bool(r.get("created")))
            )
            continue
        errors = r.get("errors") or []
        codes = {e.get("statusCode") for e in errors}
        message = "; ".join(
            f"{e.get('statusCode')}: {e.get('message')}"
            + (f" ({', '.join(e['fields'])})" if e.get("fields") else "")
            for e in errors
        )
        out.append(
            RecordResult(
                gid,
                ok=False,
                error=message or "rejected",
                retryable=bool(codes & TRANSIENT_CODES),
            )
        )
    return out


def _error_codes(resp: requests.Response) -> list[str]:
    if resp.status_code < 400:
        return []
    try:
        body = resp.json()
    except ValueError:
        return []
    items = body if isinstance(body, list) else [body]
    return [str(i.get("errorCode")) for i in items if isinstance(i, dict) and i.get("errorCode")]


def _message(resp: requests.Response) -> str:
    try:
        body = resp.json()
    except ValueError:
        return resp.text[:300]
    items = body if isinstance(body, list) else [body]
    return "; ".join(str(i.get("message", i)) for i in items if isinstance(i, dict))[:500]
