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

Limits depend on the portal's tier (`tier:`): private apps get 100 requests per 10 s and
250,000 a day on Free and Starter, 190 per 10 s and 625,000 (Professional) or 1,000,000
(Enterprise) a day (https://developers.hubspot.com/docs/apps/legacy-apps/private-apps/overview,
"Private Apps" limits table; the 2021 changelog "increasing our API limits" said 650,000 for
Professional). A 429 whose `policyName` is `DAILY` means the day's calls are used up
(usage-details page): retrying only burns the next day's budget, so delivery pauses until
the portal's midnight (`portal_timezone`), when HubSpot resets the count.

HubSpot answers a batch holding an email that already belongs to another contact with one
409 `CONFLICT` for the whole batch ("Contact already exists. Existing ID: …"), not one
error per input (HubSpot/hubspot-api-python#51, HubSpot/hubspot-api-nodejs#545). The batch
is split until the conflicting records are alone; those are then adopted by email.

`hs_language` is an enumeration whose options are the portal's (GET
/crm/v3/properties/contacts/hs_language lists them), and `date_of_birth` is not a property
every portal has: both are checked once against the portal before they are sent; a
language code with no matching option, or a property the portal lacks, is left out rather
than failing the whole batch with a 400.

Merge: POST /crm/v3/objects/contacts/merge {primaryObjectId, objectIdToMerge} (SDK
`hubspot/crm/contacts/api/merge_api.py` ⚠️ not in our reference page). GDPR delete:
POST /crm/v3/objects/contacts/gdpr-delete {objectId} (SDK `gdpr_api.py` ⚠️), one call
per contact; 204 on success.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import requests

from ..config.connectors import HubSpotTargetOptions
from ..errors import AuthError, PermanentError, QuotaExhaustedError
from ..models import Guest, OutboxItem
from ..normalize import split_name
from .base import CrmRef, RecordResult
from .http import HttpClient, account_key, classify, json_object
from .hubspot_results import parse_results

UPSERT_PATH = "/crm/v3/objects/contacts/batch/upsert"
MERGE_PATH = "/crm/v3/objects/contacts/merge"
GDPR_DELETE_PATH = "/crm/v3/objects/contacts/gdpr-delete"
PROPERTIES_PATH = "/crm/v3/properties/contacts"

# Private apps: (requests per 10 s, requests per day) by subscription tier; see the module doc.
TIER_LIMITS = {
    "free": (100, 250_000),
    "starter": (100, 250_000),
    "professional": (190, 625_000),
    "enterprise": (190, 1_000_000),
}
CHECKED_PROPERTIES = ("hs_language", "date_of_birth")  # sent only if the portal has them


def language_option(code: str, options: Sequence[str]) -> str | None:
    """The portal's `hs_language` option for a BCP 47 code (`zh-TW`, `zh_tw`, `en`), or None.

    Exact match ignoring case and `_`/`-` first, then the bare language (`en-GB` -> `en`),
    then, for a bare language, its only regional option (`ja` -> `ja-jp` if that is all)."""
    norm = {o.lower().replace("_", "-"): o for o in options}
    code = code.strip().lower().replace("_", "-")
    if code in norm:
        return norm[code]
    lang = code.split("-")[0]
    if lang in norm:
        return norm[lang]
    regional = [o for k, o in norm.items() if k.startswith(lang + "-")]
    return regional[0] if "-" not in code and len(regional) == 1 else None


class HubSpotTarget:
    def __init__(
        self, name: str, options: HubSpotTargetOptions, *, session: requests.Session | None = None
    ) -> None:
        self.name = name
        self.options = options
        self.max_batch = options.batch_size
        per_10s, self.daily_limit = TIER_LIMITS[options.tier]
        self.rate: float | None = per_10s / 10
        # One budget per portal: every target using this token shares it.
        self.account = account_key("hubspot", options.token.get_secret_value())
        self._property_ready = not options.create_id_property
        self._portal: dict[str, list[str] | None] = {}  # checked property -> options (or None)
        self._pace: Callable[[], object] | None = None
        self.http = HttpClient(
            str(options.base_url),
            target=name,
            headers={"Authorization": f"Bearer {options.token.get_secret_value()}"},
            timeout=options.timeout,
            session=session,
        )

    def pace_requests(self, pace: Callable[[], object] | None) -> None:
        """One rate token per HTTP request: a 409 split or an email adoption makes several."""
        self._pace = pace

    def project(self, guest: Guest) -> dict[str, Any]:
        """HubSpot contact properties (all strings); empty values are left out. A full name
        alone is split into first and last name (family name first for CJK names)."""
        first, last = guest.given_name, guest.family_name
        if not first and not last and guest.full_name:
            first, last = split_name(guest.full_name)
        props = {
            self.options.id_property: guest.id,
            "firstname": first,
            "lastname": last,
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

    def portal_property(self, name: str) -> list[str] | None:
        """The options of a checked property in this portal ([] if it takes any value), or
        None if the portal has no such property. Asked once per process."""
        if name not in self._portal:
            resp = self.http.request("GET", f"{PROPERTIES_PATH}/{name}", check=False)
            if resp.status_code == 404:
                self._portal[name] = None
            else:
                classify(resp, target=self.name)
                body = json_object(resp, target=self.name)
                opts = body.get("options") if body.get("type") == "enumeration" else None
                self._portal[name] = [
                    str(o["value"]) for o in opts or [] if isinstance(o, dict) and "value" in o
                ]
        return self._portal[name]

    def sendable(self, payload: dict[str, Any]) -> dict[str, Any]:
        """The payload as this portal accepts it: checked properties mapped or left out."""
        out = dict(payload)
        for name in CHECKED_PROPERTIES:
            if name not in out:
                continue
            options = self.portal_property(name)
            if options is None:
                del out[name]
            elif options:
                value = language_option(str(out[name]), options)
                if value is None:
                    del out[name]
                else:
                    out[name] = value
        return out

    def _paced(self) -> None:
        if self._pace is not None:
            self._pace()

    def _post_upsert(self, inputs: list[dict[str, Any]]) -> dict[str, Any]:
        self._paced()
        resp = self.http.request("POST", UPSERT_PATH, json={"inputs": inputs}, check=False)
        if resp.status_code == 429:
            self._raise_if_daily(resp)
        classify(resp, target=self.name)
        return json_object(resp, target=self.name, needs="results")

    def _raise_if_daily(self, resp: requests.Response) -> None:
        try:
            policy = resp.json().get("policyName")
        except (ValueError, AttributeError):
            return
        if policy != "DAILY":
            return
        zone = ZoneInfo(self.options.portal_timezone)
        now = datetime.now(zone)
        reset = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), zone)
        raise QuotaExhaustedError(
            f"{self.name}: HubSpot daily API limit used up ({self.options.tier} tier: "
            f"{self.daily_limit:,} a day); resets at the portal's midnight",
            status=429,
            target=self.name,
            retry_after=(reset - now).total_seconds(),
            resets_at=reset.astimezone(UTC),
        )

    def upsert(self, batch: Sequence[OutboxItem]) -> list[RecordResult]:
        self.ensure_id_property()
        results = self._upsert(batch, by_email=False)
        if self.options.email_fallback:
            results = self._adopt_by_email(batch, results)
        return results

    def _input(self, item: OutboxItem, *, by_email: bool) -> dict[str, Any]:
        props = self.sendable(item.payload)
        if by_email:
            props[self.options.id_property] = item.guest_id
        return {
            "idProperty": "email" if by_email else self.options.id_property,
            "id": item.payload["email"] if by_email else item.guest_id,
            "objectWriteTraceId": item.guest_id,
            "properties": props,
        }

    def _upsert(self, batch: Sequence[OutboxItem], *, by_email: bool) -> list[RecordResult]:
        """Upsert `batch`; a 409 for the whole batch is split until each conflict is alone."""
        try:
            body = self._post_upsert([self._input(item, by_email=by_email) for item in batch])
        except AuthError:
            raise
        except PermanentError as exc:
            if exc.status != 409:
                raise
            if len(batch) == 1:
                return [RecordResult(batch[0].guest_id, ok=False, error=f"CONFLICT: {exc}")]
            half = len(batch) // 2
            return self._upsert(batch[:half], by_email=by_email) + self._upsert(
                batch[half:], by_email=by_email
            )
        return parse_results(batch, body, self.options.id_property)

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
        second = {r.guest_id: r for r in self._upsert(retry, by_email=True)}
        return [second.get(r.guest_id, r) for r in results]

    def merge(self, keep: CrmRef, lose: CrmRef) -> RecordResult:
        """Fold the loser's contact into the keeper's; HubSpot keeps the primary's values."""
        self._paced()
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
            self._paced()
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
