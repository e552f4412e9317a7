"""BottleCRM (the open-source `django-crm` package) contacts target.

API facts (verified against django-crm 1.35.0, see ../shared/reference/platform-apis.md §5
and `Django-CRM/Django-CRM:backend/contacts/views.py`):

- There is no upsert and no external-id field. The engine keeps guest id -> contact uuid in
  crm_links and hands it back as `OutboxItem.crm_id`: known contacts are PATCHed. Unknown
  ones are looked up first (our guest id is stored in `source_ref`; email is unique per
  org), so a create whose response was lost is found, not duplicated, on the retry.
- Create answers 200 `{"error": false, "id": …}`; a taken email is 400
  `{"errors": {"email": ["Contact already exists with this email"]}}`: find and PATCH.
- A bad or unscoped token is 403, never 401: that stops the target (AuthError).
- `first_name` and `last_name` are both required (1-255 characters).
- Contact CRUD is not throttled; there is no batch endpoint, so a batch is N calls: with
  a configured `rate`, every request takes a token of the shared budget (`pace_requests`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import phonenumbers
import requests

from ..config.connectors import BottleCrmTargetOptions
from ..errors import RetryableError
from ..models import Guest, OutboxItem
from .base import CrmRef, RecordResult
from .http import HttpClient, account_key, classify
from .names import first_last

CONTACTS = "/api/contacts/"
PAGE = 100  # list pages are limit/offset with no maximum; every page repeats `countries`
MAX_PAGES = 20  # a lookup reads at most this many pages before giving up and creating


class BottleCrmTarget:
    def __init__(
        self,
        name: str,
        options: BottleCrmTargetOptions,
        *,
        session: requests.Session | None = None,
    ) -> None:
        self.name = name
        self.options = options
        self.max_batch = options.batch_size
        self.rate: float | None = options.rate  # BottleCRM documents no limit on contacts
        # One budget per CRM org: every target using this server and token shares it.
        self.account = account_key(
            "bottlecrm", str(options.base_url), options.token.get_secret_value()
        )
        self.http = HttpClient(
            str(options.base_url),
            target=name,
            headers={"Authorization": f"Bearer {options.token.get_secret_value()}"},
            timeout=options.timeout,
            session=session,
        )
        self.pace: Callable[[], object] | None = None

    def pace_requests(self, pace: Callable[[], object] | None) -> None:
        """The engine's shared rate budget, taken once per HTTP request."""
        self.pace = pace

    # -- projection --------------------------------------------------------------------

    def project(self, guest: Guest) -> dict[str, Any]:
        """Contact fields; empty values are left out (PATCH keeps what the CRM has)."""
        first, last = first_last(guest, placeholder=self.options.name_placeholder)
        body: dict[str, Any] = {
            "first_name": first[:255],
            "last_name": last[:255],
            "email": guest.email,
            "phone": guest.phone,
            "country": _country(guest.phone),
            "source_ref": guest.id,
            "source_detail": "guestsync",
            "description": _description(guest),
        }
        return {k: v for k, v in body.items() if v not in (None, "")}

    # -- upsert ------------------------------------------------------------------------

    def upsert(self, batch: Sequence[OutboxItem]) -> list[RecordResult]:
        """One contact at a time. A transient failure on the first raises (the engine
        retries the batch); later in the batch, it defers the rest to the next run."""
        results: list[RecordResult] = []
        for i, item in enumerate(batch):
            try:
                results.append(self._upsert_one(item))
            except RetryableError as exc:
                if not results:
                    raise
                results += [
                    RecordResult(it.guest_id, ok=False, retryable=True, error=str(exc))
                    for it in batch[i:]
                ]
                break
        return results

    def _upsert_one(self, item: OutboxItem) -> RecordResult:
        payload = item.payload
        if item.crm_id:
            status, body = self._send("PATCH", f"{CONTACTS}{item.crm_id}/", json=payload)
            if status == 200:
                return RecordResult(item.guest_id, ok=True, crm_id=item.crm_id)
            if status != 404:
                return self._rejected(item, body)
            # Deleted in the CRM since: find it again or create it anew.
        found = self.find(item.guest_id, payload)
        if found:
            return self._patch_found(item, found)
        status, body = self._send("POST", CONTACTS, json=payload)
        if status == 200 and body.get("id"):
            return RecordResult(item.guest_id, ok=True, crm_id=str(body["id"]), created=True)
        if status == 400 and _email_taken(body):
            # Someone else's contact (or ours, from a create whose answer we lost).
            found = self.find(item.guest_id, {"email": payload.get("email")})
            if found:
                return self._patch_found(item, found)
        return self._rejected(item, body)

    def _patch_found(self, item: OutboxItem, crm_id: str) -> RecordResult:
        status, body = self._send("PATCH", f"{CONTACTS}{crm_id}/", json=item.payload)
        if status == 200:
            return RecordResult(item.guest_id, ok=True, crm_id=crm_id)
        return self._rejected(item, body)

    def _rejected(self, item: OutboxItem, body: dict[str, Any]) -> RecordResult:
        return RecordResult(item.guest_id, ok=False, error=f"{self.name}: {_errors(body)}")

    # -- lookup ------------------------------------------------------------------------

    def find(self, guest_id: str, payload: dict[str, Any]) -> str | None:
        """The uuid of the contact holding this guest: ours by `source_ref` first, else
        the one with the same email (email is unique per org, case-insensitively)."""
        email = (payload.get("email") or "").lower()
        for params in _lookups(payload, placeholder=self.options.name_placeholder):
            by_email = None
            for contact in self._list(params):
                if contact.get("source_ref") == guest_id:
                    return str(contact["id"])
                if email and (contact.get("email") or "").lower() == email:
                    by_email = str(contact["id"])
            if by_email:
                return by_email
        return None

    def _list(self, params: dict[str, str]) -> Iterator[dict[str, Any]]:
        for page in range(MAX_PAGES):
            query = {**params, "limit": str(PAGE), "offset": str(page * PAGE)}
            if self.pace is not None:
                self.pace()
            body = self.http.request("GET", CONTACTS, params=query).json()
            results = body.get("results") or body.get("contacts") or []
            yield from results
            if len(results) < PAGE or (page + 1) * PAGE >= int(body.get("count") or 0):
                return

    # -- delete and merge --------------------------------------------------------------

    def delete(self, refs: Sequence[CrmRef]) -> list[RecordResult]:
        """Remove contacts (privacy requests). Already gone counts as done."""
        out = []
        for ref in refs:
            status, body = self._send("DELETE", f"{CONTACTS}{ref.crm_id}/")
            ok = status in (200, 204, 404)
            out.append(
                RecordResult(
                    ref.guest_id,
                    ok=ok,
                    crm_id=ref.crm_id,
                    error=None if ok else f"{self.name}: {_errors(body)}",
                )
            )
        return out

    def merge(self, keep: CrmRef, lose: CrmRef) -> RecordResult:
        """BottleCRM's own merge: fills the keeper's blanks, moves relations, deletes
        the loser."""
        status, body = self._send(
            "POST", f"{CONTACTS}{keep.crm_id}/merge/", json={"merge_id": lose.crm_id}
        )
        if status == 200:
            return RecordResult(keep.guest_id, ok=True, crm_id=keep.crm_id)
        return RecordResult(keep.guest_id, ok=False, error=f"{self.name}: {_errors(body)}")

    # -- HTTP --------------------------------------------------------------------------

    def _send(self, method: str, path: str, **kw: Any) -> tuple[int, dict[str, Any]]:
        """(status, JSON body) for 2xx, 400 and 404; anything else raises (classify)."""
        url = f"{self.http.base_url}{path}"
        if self.pace is not None:
            self.pace()
        try:
            resp = self.http.session.request(method, url, timeout=self.http.timeout, **kw)
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise RetryableError(
                f"{self.name}: {type(exc).__name__} calling {method} {path}", target=self.name
            ) from None
        if resp.status_code not in (400, 404):
            classify(resp, target=self.name)
        try:
            body = resp.json() if resp.content else {}
        except ValueError:
            body = {"detail": f"HTTP {resp.status_code}: {resp.text[:200]}"}
        if not isinstance(body, dict):
            body = {"detail": str(body)[:300]}
        if resp.status_code < 300 and body.get("error") is True:
            return 400, body  # "200 with error: true" is a rejection too
        return resp.status_code, body


def _lookups(payload: dict[str, Any], *, placeholder: str = "-") -> list[dict[str, str]]:
    """List filters to try in order: email is unique; phone and name only narrow the list
    down to candidates whose `source_ref` must then be ours."""
    out = []
    if payload.get("email"):
        out.append({"email": payload["email"]})
    if payload.get("phone"):
        out.append({"phone": payload["phone"]})
    elif not payload.get("email"):
        names = [payload.get(k) for k in ("last_name", "first_name")]
        out.append({"name": next((n for n in names if n and n != placeholder), "")})
    return out


def _email_taken(body: dict[str, Any]) -> bool:
    errors = body.get("errors") or {}
    return isinstance(errors, dict) and any(
        "already exists" in str(m) for m in errors.get("email") or []
    )


def _errors(body: dict[str, Any]) -> str:
    """BottleCRM's own message: `errors` per field, else `detail` or `message`."""
    errors = body.get("errors")
    if isinstance(errors, dict) and errors:
        return "; ".join(
            f"{field}: {' '.join(map(str, msgs)) if isinstance(msgs, list) else msgs}"
            for field, msgs in errors.items()
        )
    return str(body.get("detail") or body.get("message") or body or "rejected")


def _country(phone: str | None) -> str | None:
    if not phone:
        return None
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(phone)) or None
    except phonenumbers.NumberParseException:
        return None


def _description(guest: Guest) -> str | None:
    parts = []
    if guest.birthday:
        parts.append(f"Birthday: {guest.birthday.isoformat()}")
    if guest.anniversary:
        parts.append(f"Anniversary: {guest.anniversary.isoformat()}")
    if guest.allergies:
        parts.append(f"Allergies: {', '.join(guest.allergies)}")
    if guest.dietary_notes:
        parts.append(f"Dietary: {guest.dietary_notes}")
    if guest.notes:
        parts.append(f"Notes: {guest.notes}")
    return "\n".join(parts) or None
