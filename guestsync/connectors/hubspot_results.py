"""Reading HubSpot's batch upsert answer into one `RecordResult` per input.

A 207 names each failed input in the error's `context`, but not always under the same key:
`ids` and `objectWriteTraceId` are the ones we send and see most, yet validation errors may
name the record under another key (e.g. `email`, or the `idProperty`'s name). So every list
(or string) in `context` is matched against the batch's ids and emails, and failing that the
input's email is looked for in the message. An error that still names no input is not
thrown away: its message goes to the unmatched inputs' `last_error`, and when unmatched
errors and inputs agree in number they are the same records, refused for good (retrying
them would only repeat the refusal 20 times before the same dead letter, minus the reason).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..models import OutboxItem
from .base import RecordResult

NO_RESULT = "HubSpot returned no result for this input"


def _context_values(ctx: Any) -> list[str]:
    if not isinstance(ctx, dict):
        return []
    out: list[str] = []
    for value in ctx.values():
        for v in value if isinstance(value, list) else [value]:
            if isinstance(v, str | int):
                out.append(str(v))
    return out


def error_message(e: dict[str, Any]) -> str:
    detail = "; ".join(
        str(x.get("message", "")) for x in e.get("errors") or [] if isinstance(x, dict)
    )
    message = f"{e.get('category', 'ERROR')}: {e.get('message', '')}"
    return f"{message} ({detail})" if detail else message


def parse_results(
    batch: Sequence[OutboxItem], body: dict[str, Any], id_property: str
) -> list[RecordResult]:
    """One result per input of `batch`, in its order."""
    keys: dict[str, str] = {}  # guest id or lower-cased email -> guest id
    emails: dict[str, str] = {}
    for item in batch:
        keys[item.guest_id] = item.guest_id
        email = str(item.payload.get("email") or "").lower()
        if email:
            keys.setdefault(email, item.guest_id)
            emails[email] = item.guest_id
    out: dict[str, RecordResult] = {}
    for r in body.get("results") or []:
        if not isinstance(r, dict) or "id" not in r:
            continue
        props: dict[str, Any] = r["properties"] if isinstance(r.get("properties"), dict) else {}
        gid = r.get("objectWriteTraceId") or props.get(id_property)
        if gid not in keys and str(props.get("email") or "").lower() in emails:
            gid = emails[str(props.get("email")).lower()]
        if gid in keys:
            gid = keys[gid]
            out[gid] = RecordResult(gid, ok=True, crm_id=str(r["id"]), created=bool(r.get("new")))
    unmatched: list[str] = []
    for e in body.get("errors") or []:
        if not isinstance(e, dict):
            continue
        message = error_message(e)
        values = _context_values(e.get("context"))
        named = {keys.get(v) or keys.get(v.lower()) or "" for v in values} - {""}
        if not named:  # last resort: an input's email quoted in the message
            text = message.lower()
            named = {gid for email, gid in emails.items() if email in text}
        # HubSpot marks per-input failures in a 207; a RATE_LIMIT there is transient.
        retryable = e.get("category") in ("RATE_LIMITS", "RATE_LIMIT")
        hit = False
        for gid in named:
            if gid not in out:
                out[gid] = RecordResult(gid, ok=False, error=message, retryable=retryable)
                hit = True
        if not hit:
            unmatched.append(message)
    missing = [item.guest_id for item in batch if item.guest_id not in out]
    final = bool(unmatched) and len(unmatched) == len(missing)
    for gid in missing:
        why = "; ".join(unmatched) if unmatched else ""
        if final:
            out[gid] = RecordResult(gid, ok=False, error=why, retryable=False)
        else:
            error = f"{NO_RESULT}; errors naming no input: {why}" if why else NO_RESULT
            out[gid] = RecordResult(gid, ok=False, error=error[:2000], retryable=True)
    return [out[item.guest_id] for item in batch]
