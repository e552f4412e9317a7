"""Kingdee Cloud Galaxy (金蝶云星空) target: guests saved as customers (BD_Customer).

Calls ✅ (platform-apis.md §1.5; vendor SDK `kingdee-cdp-webapi-sdk` 8.2.0): JSON POSTs to
`{server}/Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.<Op>.common.kdsvc`, signed per
call with the SDK's headers (`kingdee_sign`), so there is no login session to expire.

A guest's customer number (FNumber) is `number_prefix + guest id`. Before saving guests
whose customer id is not yet known, one ExecuteBillQuery looks their numbers up, so a
batch retried after a lost answer updates (FCUSTID set) instead of creating twice. One
BatchSave then writes the batch; its per-entity answer (`SuccessEntitys`, `Errors`, both
carrying `DIndex`, the position in `Model`) becomes one result per guest.

The customer model, the answer shapes and MsgCode are ⚠️/❓ in the reference: they are all
in the block below (and the field keys in `KingdeeTargetOptions.fields`), and
`guestsync.testing.fake_kingdee` follows the same block.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Sequence
from typing import Any

import requests

from ..config.connectors import KingdeeTargetOptions
from ..errors import AuthError, PermanentError, RetryableError
from ..models import Guest, OutboxItem
from .base import RecordResult
from .http import HttpClient
from .kingdee_sign import signed_headers
from .names import single_name

# -- partial / unverified API facts (platform-apis.md §1.5), in one place ---------------
SERVICE = "Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.{op}.common.kdsvc"  # ✅
FORM_ID = "BD_Customer"  # ⚠️
ID_FIELD = "FCUSTID"  # ⚠️ the customer's internal id; set in Model = update that customer
AUTH_MSG_CODES = frozenset({1})  # ❓ "MsgCode: 1 = login expired"


def save_body(models: list[dict[str, Any]]) -> dict[str, Any]:
    """BatchSave request (⚠️ `data.Model` as a list; NumberSearch: base data by FNumber)."""
    return {"formid": FORM_ID, "data": {"NumberSearch": True, "Model": models}}


def query_body(numbers: list[str]) -> dict[str, Any]:
    """ExecuteBillQuery for the ids of these customer numbers (⚠️ shape)."""
    quoted = ",".join("'" + n.replace("'", "''") + "'" for n in numbers)
    return {
        "data": {
            "FormId": FORM_ID,
            "FieldKeys": f"{ID_FIELD},FNumber",
            "FilterString": f"FNumber in ({quoted})",
            "OrderString": f"{ID_FIELD} ASC",
            "StartRow": 0,
            "Limit": 2000,
        }
    }


def response_status(body: Any) -> dict[str, Any] | None:
    """`Result.ResponseStatus` of an answer, also when wrapped as `[[{...}]]` (⚠️)."""
    while isinstance(body, list) and body:
        body = body[0]
    if isinstance(body, dict):
        return (body.get("Result") or {}).get("ResponseStatus")
    return None


# ---------------------------------------------------------------------------------------


class KingdeeTarget:
    def __init__(
        self,
        name: str,
        options: KingdeeTargetOptions,
        *,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.name = name
        self.options = options
        self.max_batch = options.batch_size
        self.rate: float | None = None  # ❓ no documented limit
        self.clock = clock
        self.http = HttpClient(
            str(options.server_url),
            target=name,
            headers={"Content-Type": "application/json", "Accept-Charset": "utf-8"},
            timeout=options.timeout,
            session=session,
        )

    def number(self, guest_id: str) -> str:
        return f"{self.options.number_prefix}{guest_id}"

    def project(self, guest: Guest) -> dict[str, Any]:
        """The customer Model: number, name, organisation, mapped fields; empties left out."""
        o = self.options
        org = {"FNumber": o.org_number}
        model: dict[str, Any] = {
            "FNumber": self.number(guest.id or ""),
            "FName": single_name(guest),
            "FCreateOrgId": org,
            "FUseOrgId": dict(org),
        }
        values = guest.model_dump(mode="json")
        for canonical, key in o.fields.items():
            v = values.get(canonical)
            if v not in (None, "", []):
                model[key] = v if not isinstance(v, list) else ",".join(map(str, v))
        return model

    # -- calls -------------------------------------------------------------------------

    def _post(self, op: str, body: dict[str, Any]) -> Any:
        o = self.options
        url = f"{str(o.server_url).rstrip('/')}/{SERVICE.format(op=op)}"
        ts = str(int(self.clock()))
        headers = signed_headers(
            url,
            app_id=o.app_id,
            app_secret=o.app_secret.get_secret_value(),
            acct_id=o.acct_id,
            user_name=o.user_name,
            lcid=o.lcid,
            org_num=o.org_num,
            timestamp=ts,
            nonce=secrets.token_hex(8),
            xor_code=o.xor_code.get_secret_value() if o.xor_code else None,
        )
        resp = self.http.request("POST", url, json=body, headers=headers)
        text = resp.text
        if text.startswith("response_error:"):  # the gateway's own error form (SDK ValidResult)
            raise RetryableError(f"{self.name}: {text[:300]}", target=self.name)
        try:
            return resp.json()
        except ValueError:
            raise RetryableError(
                f"{self.name}: answer is not JSON: {text[:200]!r}", target=self.name
            ) from None

    def _batch_error(self, status: dict[str, Any]) -> Exception:
        errors = status.get("Errors") or []
        message = "; ".join(str(e.get("Message", "")) for e in errors) or "request refused"
        message = f"{self.name}: {message} (MsgCode {status.get('MsgCode')})"
        if status.get("MsgCode") in AUTH_MSG_CODES:
            return AuthError(message, target=self.name)
        return PermanentError(message, target=self.name)

    def _lookup(self, numbers: list[str]) -> dict[str, str]:
        """FNumber -> FCUSTID for the customers that exist (the oldest if several)."""
        body = self._post("ExecuteBillQuery", query_body(numbers))
        status = response_status(body)
        if status is not None and not status.get("IsSuccess", False):
            raise self._batch_error(status)
        found: dict[str, str] = {}
        for row in body if isinstance(body, list) else []:
            if isinstance(row, list) and len(row) >= 2:
                found.setdefault(str(row[1]), str(row[0]))
        return found

    def upsert(self, batch: Sequence[OutboxItem]) -> list[RecordResult]:
        ids = {item.guest_id: item.crm_id for item in batch}
        unknown = [self.number(i.guest_id) for i in batch if not i.crm_id]
        if unknown:
            found = self._lookup(unknown)
            for item in batch:
                ids[item.guest_id] = ids[item.guest_id] or found.get(self.number(item.guest_id))
        models = []
        for item in batch:
            model = dict(item.payload)
            crm_id = ids[item.guest_id]
            if crm_id:
                model[ID_FIELD] = int(crm_id) if crm_id.isdigit() else crm_id
            models.append(model)
        body = self._post("BatchSave", save_body(models))
        status = response_status(body)
        if status is None:
            raise RetryableError(f"{self.name}: answer without ResponseStatus", target=self.name)
        return self._results(batch, ids, status)

    def _results(
        self,
        batch: Sequence[OutboxItem],
        ids: dict[str, str | None],
        status: dict[str, Any],
    ) -> list[RecordResult]:
        out: dict[int, RecordResult] = {}
        for s in status.get("SuccessEntitys") or []:
            i = s.get("DIndex")
            if isinstance(i, int) and 0 <= i < len(batch) and s.get("Id") not in (None, ""):
                gid = batch[i].guest_id
                out[i] = RecordResult(gid, ok=True, crm_id=str(s["Id"]), created=not ids[gid])
        errors = status.get("Errors") or []
        batch_level = [e for e in errors if not isinstance(e.get("DIndex"), int)]
        if batch_level and not out:
            raise self._batch_error(status)
        for e in errors:
            i = e.get("DIndex")
            if isinstance(i, int) and 0 <= i < len(batch) and i not in out:
                field = e.get("FieldName") or ""
                message = f"{field}: {e.get('Message', '')}" if field else str(e.get("Message"))
                out[i] = RecordResult(batch[i].guest_id, ok=False, error=message)
        return [
            out.get(i)
            or RecordResult(
                item.guest_id, ok=False, retryable=True, error="Kingdee returned no result"
            )
            for i, item in enumerate(batch)
        ]
