"""HubSpot CRM v3 contacts target: batch upsert keyed by a unique property holding our id.

API: POST /crm/v3/objects/contacts/batch/upsert
(https://developers.hubspot.com/docs/api-reference/legacy/crm/objects/contacts/batch/upsert-contacts).
200 when every input succeeded, 207 with `errors[]` when some failed. Each input carries
`objectWriteTraceId` (documented on the same page), which HubSpot echoes on its result, so
results are matched to inputs by our guest id and not by position.

One-time setup in the portal: a contact property (default `guestsync_id`, single-line
text) with "unique values" on (`hasUniqueValue: true`); HubSpot only accepts a unique
property as `idProperty`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import requests

from ..connector_options import HubSpotTargetOptions
from ..models import Guest
from ..store import OutboxItem
from .base import RecordResult
from .http import HttpClient

UPSERT_PATH = "/crm/v3/objects/contacts/batch/upsert"


class HubSpotTarget:
    def __init__(
        self, name: str, options: HubSpotTargetOptions, *, session: requests.Session | None = None
    ) -> None:
        self.name = name
        self.options = options
        self.max_batch = options.batch_size
        # Private apps: 190 requests per 10 s (HubSpot changelog "increasing our API limits").
        self.rate: float | None = 19.0
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

    def upsert(self, batch: Sequence[OutboxItem]) -> list[RecordResult]:
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
        return self._results(batch, body)

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
