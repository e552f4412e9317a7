"""HubSpot CRM v3 contacts target: batch upsert keyed by a unique property holding our id.

API: POST /crm/v3/objects/contacts/batch/upsert
(https://developers.hubspot.com/docs/api-reference/legacy/crm/objects/contacts/batch/upsert-contacts).
200 when every input succeeded, 207 with `errors[]` when some failed. Each input carries
`objectWriteTraceId` (documented on the same page), which HubSpot echoes on its result, so
results are matched to inputs by our guest id and not by position.

One-time setup in the portal: a contact property (default `guestsync_id`, single-line
text) with "unique values" on (`hasUniqueValue: true`); HubSpot only accepts a unique
property as `idProperty`. With `create_id_property: true` the target creates it on first
use (POST /crm/v3/properties/contacts; the token needs crm.schemas.contacts.write).

Email is unique in HubSpot too: a guest whose email already belongs to a contact that
guestsync never wrote (created by hand or a form) is refused as a conflict when upserted
by our id. With `email_fallback` (default on) such records are upserted once more keyed by
`email`, which adopts the existing contact and writes our id onto it.

Merge: POST /crm/v3/objects/contacts/merge {primaryObjectId, objectIdToMerge} (SDK
`hubspot/crm/contacts/api/merge_api.py` ⚠️ not in our reference page). GDPR delete:
POST /crm/v3/objects/contacts/gdpr-delete {objectId} (SDK `gdpr_api.py` ⚠️), one call
per contact; 204 on success.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import requests

from ..config.connectors import HubSpotTargetOptions
from ..errors import AuthError, PermanentError
from ..models import Guest, OutboxItem
from .base import CrmRef, RecordResult
from .http import HttpClient, account_key, classify

UPSERT_PATH = "/crm/v3/objects/contacts/batch/upsert"
MERGE_PATH = "/crm/v3/objects/contacts/merge"
GDPR_DELETE_PATH = "/crm/v3/objects/contacts/gdpr-delete"
PROPERTIES_PATH = "/crm/v3/properties/contacts"


class HubSpotTarget:
    def __init__(
        self, name: str, options: HubSpotTargetOptions, *, session: requests.Session | None = None
    ) -> None:
        self.name = name
        self.options = options
        self.max_batch = options.batch_size
        # Private apps: 190 requests per 10 s (HubSpot changelog "increasing our API limits").
        self.rate: float | None = 19.0
        # One budget per portal: every target using this token shares it.
        self.account = account_key("hubspot", options.token.get_secret_value())
        self._property_ready = not options.create_id_property
        self.http = HttpClient(
            str(options.base_url),
            target=name,
            headers={"Authorization": f"Bearer {options.token.get_secret_value()}"},
            timeout=options.timeout,
            session=session,
        )

    def project(self, guest: Guest) -> dict[str, Any]:
        """HubSpot contact properties (all strings); empty values are left out."""
        first = guest.given_name or (None if guest.family_name else guest.full_name)
        props = {
            self.options.id_property: guest.id,
            "firstname": first,
            "lastname": guest.family_name,
            "email": guest.email,
            "phone": guest.phone,
            "date_of_birth": guest.birthday.isoformat() if guest.birthday else None,
            "hs_language": guest.language,
        }
        return {k: str(v) for k, v in props.items() if v not in (None, "")}

    def ensure_id_property(self) -> None:
        """Create the unique id property unless it exists (once per process)."""
        if self._property_ready:
            return
        name = self.options.id_property
        resp = self.http.request("GET", f"{PROPERTIES_PATH}/{name}", check=False)
        if resp.status_code == 404:
            definition = {
                "name": name,
                "label": "guestsync id",
                "description": "The guest's id in guestsync (written by guestsync).",
                "groupName": "contactinformation",
                "type": "string",
                "fieldType": "text",
                "hasUniqueValue": True,
            }
            created = self.http.request("POST", PROPERTIES_PATH, json=definition, check=False)
            if created.status_code != 409:  # 409: created meanwhile by someone else
                classify(created, target=self.name)
        else:
            classify(resp, target=self.name)
        self._property_ready = True

    def upsert(self, batch: Sequence[OutboxItem]) -> list[RecordResult]:
        self.ensure_id_property()
        inputs = [
            {
                "idProperty": self.options.id_property,
                "id": item.guest_id,
                "objectWriteTraceId": item.guest_id,
                "properties": item.payload,
            }
            for item in batch
        ]
        body = self.http.request("POST", UPSERT_PATH, json={"inputs": inputs}).json()
        results = self._results(batch, body)
        if self.options.email_fallback:
            results = self._adopt_by_email(batch, results)
        return results

    def _adopt_by_email(
        self, batch: Sequence[OutboxItem], results: list[RecordResult]
    ) -> list[RecordResult]:
        """Upsert conflicting records keyed by email: the contact exists without our id."""
        items = {item.guest_id: item for item in batch}
        retry = [
            items[r.guest_id]
            for r in results
            if not r.ok
            and r.error
            and r.error.startswith("CONFLICT")
            and items[r.guest_id].payload.get("email")
        ]
        if not retry:
            return results
        inputs = [
            {
                "idProperty": "email",
                "id": item.payload["email"],
                "objectWriteTraceId": item.guest_id,
                "properties": {**item.payload, self.options.id_property: item.guest_id},
            }
            for item in retry
        ]
        body = self.http.request("POST", UPSERT_PATH, json={"inputs": inputs}).json()
        second = {r.guest_id: r for r in self._results(retry, body)}
        return [second.get(r.guest_id, r) for r in results]

    def merge(self, keep: CrmRef, lose: CrmRef) -> RecordResult:
        """Fold the loser's contact into the keeper's; HubSpot keeps the primary's values."""
        body = self.http.request(
            "POST",
            MERGE_PATH,
            json={"primaryObjectId": keep.crm_id, "objectIdToMerge": lose.crm_id},
        ).json()
        return RecordResult(keep.guest_id, ok=True, crm_id=str(body.get("id") or keep.crm_id))

    def delete(self, refs: Sequence[CrmRef]) -> list[RecordResult]:
        """GDPR-delete each contact (permanent, also blocks the email from coming back)."""
        out = []
        for ref in refs:
            try:
                self.http.request("POST", GDPR_DELETE_PATH, json={"objectId": ref.crm_id})
            except AuthError:
                raise
            except PermanentError as exc:
                if exc.status != 404:  # 404: already gone, which is what we wanted
                    out.append(RecordResult(ref.guest_id, ok=False, error=str(exc)))
                    continue
            out.append(RecordResult(ref.guest_id, ok=True, crm_id=ref.crm_id))
        return out

    def _results(self, batch: Sequence[OutboxItem], body: dict[str, Any]) -> list[RecordResult]:
        wanted = {item.guest_id for item in batch}
        out: dict[str, RecordResult] = {}
        for r in body.get("results", []):
            gid = r.get("objectWriteTraceId") or (r.get("properties") or {}).get(
                self.options.id_property
            )
            if gid in wanted:
                out[gid] = RecordResult(
                    gid, ok=True, crm_id=str(r["id"]), created=bool(r.get("new"))
                )
        for e in body.get("errors", []):
            ctx = e.get("context") or {}
            ids = list(ctx.get("ids") or []) + list(ctx.get("objectWriteTraceId") or [])
            detail = "; ".join(x.get("message", "") for x in e.get("errors") or [] if x)
            message = f"{e.get('category', 'ERROR')}: {e.get('message', '')}"
            if detail:
                message += f" ({detail})"
            for gid in ids:
                if gid in wanted and gid not in out:
                    # HubSpot marks per-input failures in a 207; a RATE_LIMIT there is transient.
                    retryable = e.get("category") in ("RATE_LIMITS", "RATE_LIMIT")
                    out[gid] = RecordResult(gid, ok=False, error=message, retryable=retryable)
        return [
            out.get(item.guest_id)
            or RecordResult(
                item.guest_id,
                ok=False,
                retryable=True,
                error="HubSpot returned no result for this input",
            )
            for item in batch
        ]
