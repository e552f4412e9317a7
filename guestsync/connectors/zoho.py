"""Zoho CRM target: records upsert with duplicate_check_fields, 100 per call.

POST {api_domain}/crm/v8/{module}/upsert, one result per record in request order with
its own `code` (https://www.zoho.com/crm/developer/docs/api/v8/upsert-records.html).
`"trigger": []` keeps Zoho workflows from firing on our writes.

Auth: `Authorization: Zoho-oauthtoken <token>`, refreshed with the refresh token at the
accounts server of the org's data centre (accounts.zoho.com, .eu, .com.cn, …), which also
names the `api_domain` to call. At most 10 access tokens per refresh token per 10 minutes,
so the token is kept in memory and refreshed only when a call says it is invalid.

One-time setup: a single-line custom field on Contacts (default `Guestsync_ID`) with
"Do not allow duplicate values" on; Zoho then matches on it as a user-defined unique field.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import requests

from ..config.connectors import ZohoTargetOptions
from ..errors import AuthError, PermanentError, RateLimitedError
from ..models import Guest, OutboxItem
from .base import CrmRef, RecordResult
from .http import HttpClient, classify, retry_after_seconds
from .oauth import RefreshToken

# ❓ The body of an expired-token 401 is not documented; this is the code Zoho's SDKs
# refresh on. Any other 401 after one refresh is an AuthError either way.
EXPIRED_TOKEN_CODES = frozenset({"INVALID_TOKEN", "AUTHENTICATION_FAILURE"})
TRANSIENT_CODES = frozenset({"TOO_MANY_REQUESTS", "INTERNAL_ERROR", "ALREADY_MODIFIED"})
# ❓ Zoho limits concurrency and daily credits, not requests per second; 5 requests/s
# (500 records/s) is our conservative default. Change it with `rate:` in the config.
DEFAULT_RATE = 5.0


class ZohoTarget:
    def __init__(
        self, name: str, options: ZohoTargetOptions, *, session: requests.Session | None = None
    ) -> None:
        self.name = name
        self.options = options
        self.max_batch = options.batch_size
        self.rate: float | None = DEFAULT_RATE
        self.account = f"zoho:{options.accounts_url.host}:{options.client_id}"
        self.check_fields = options.duplicate_check_fields or [options.id_field]
        self.http = HttpClient(
            str(options.api_domain or options.accounts_url),
            target=name,
            timeout=options.timeout,
            session=session,
        )
        self.token = RefreshToken(
            str(options.accounts_url).rstrip("/") + "/oauth/v2/token",
            {
                "refresh_token": options.refresh_token.get_secret_value(),
                "client_id": options.client_id,
                "client_secret": options.client_secret.get_secret_value(),
                "grant_type": "refresh_token",
            },
            target=name,
            session=self.http.session,
            timeout=options.timeout,
            send_as="query",
        )

    def project(self, guest: Guest) -> dict[str, Any]:
        """Contact fields; Last_Name is mandatory, so a one-string name goes there."""
        last = guest.family_name or guest.full_name or guest.given_name or guest.email or "-"
        first = guest.given_name if guest.family_name else None
        fields = {
            self.options.id_field: guest.id,
            "First_Name": first,
            "Last_Name": last,
            "Email": guest.email,
            "Mobile": guest.phone,
            "Date_of_Birth": guest.birthday.isoformat() if guest.birthday else None,
        }
        return {k: v for k, v in fields.items() if v not in (None, "")}

    def _base(self) -> str:
        if self.options.api_domain is not None:
            return str(self.options.api_domain).rstrip("/")
        self.token.get()
        return str(self.token.answer.get("api_domain") or "https://www.zohoapis.com").rstrip("/")

    def _call(self, method: str, path: str, **kw: Any) -> Any:
        """A CRM API call; refreshes the token once when Zoho calls it invalid."""
        for attempt in (1, 2):
            token = self.token.get()
            resp = self.http.request(
                method,
                f"{self._base()}/crm/v8/{self.options.module}{path}",
                check=False,
                headers={"Authorization": f"Zoho-oauthtoken {token}"},
                **kw,
            )
            body = _json(resp)
            code = str(body.get("code", "")) if isinstance(body, dict) else ""
            if resp.status_code == 401 and attempt == 1 and code in EXPIRED_TOKEN_CODES:
                self.token.refresh(stale=token)
                continue
            message = f"{self.name}: HTTP {resp.status_code} {code}: " + str(
                body.get("message", "") if isinstance(body, dict) else resp.text[:300]
            )
            if resp.status_code == 429 or code == "TOO_MANY_REQUESTS":
                raise RateLimitedError(
                    message,
                    status=resp.status_code,
                    target=self.name,
                    retry_after=retry_after_seconds(resp.headers.get("Retry-After")),
                )
            if resp.status_code in (401, 403):
                raise AuthError(message, status=resp.status_code, target=self.name)
            if isinstance(body, dict) and isinstance(body.get("data"), list):
                return body  # per-record answers, also on 207 and an all-failed 400
            if 400 <= resp.status_code < 500:
                raise PermanentError(message, status=resp.status_code, target=self.name)
            classify(resp, target=self.name)
            return body
        raise AssertionError("unreachable")

    def upsert(self, batch: Sequence[OutboxItem]) -> list[RecordResult]:
        data = [{**item.payload, self.options.id_field: item.guest_id} for item in batch]
        body = self._call(
            "POST",
            "/upsert",
            json={"data": data, "duplicate_check_fields": self.check_fields, "trigger": []},
        )
        return _results([item.guest_id for item in batch], body)

    def delete(self, refs: Sequence[CrmRef]) -> list[RecordResult]:
        body = self._call("DELETE", "", params={"ids": ",".join(r.crm_id for r in refs)})
        results = _results([r.guest_id for r in refs], body)
        # "the id given seems to be invalid": already gone, which is what we wanted.
        return [
            RecordResult(r.guest_id, ok=True, crm_id=ref.crm_id)
            if not r.ok and (r.error or "").startswith("INVALID_DATA")
            else r
            for r, ref in zip(results, refs, strict=True)
        ]


def _json(resp: requests.Response) -> Any:
    try:
        return resp.json()
    except ValueError:
        return {}


def _results(guest_ids: list[str], body: Any) -> list[RecordResult]:
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list) or len(data) != len(guest_ids):
        return [
            RecordResult(g, ok=False, retryable=True, error="Zoho answered no result")
            for g in guest_ids
        ]
    out = []
    for gid, r in zip(guest_ids, data, strict=True):
        code = str(r.get("code", ""))
        if code == "SUCCESS":
            crm_id = str((r.get("details") or {}).get("id") or "")
            out.append(
                RecordResult(
                    gid, ok=bool(crm_id), crm_id=crm_id, created=r.get("action") == "insert"
                )
            )
            continue
        details = r.get("details") or {}
        field = details.get("api_name")
        message = f"{code}: {r.get('message', '')}" + (f" ({field})" if field else "")
        out.append(RecordResult(gid, ok=False, error=message, retryable=code in TRANSIENT_CODES))
    return out
