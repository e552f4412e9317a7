"""Fxiaoke (纷享销客) CRM target: one object record per guest through the CRM data API.

Fxiaoke has no upsert and no enforced uniqueness, so each guest is looked up first (by our
guest id field, else by phone on a record that has no guest id yet), then created or
updated; the record's `dataId` becomes the guest's crm_id, and later pushes update it
directly. Errors arrive as HTTP 200 with a non-zero `errorCode`.

Every fact about this API is second-hand (platform-apis.md §1.4: developer.fxiaoke.com is
known only via wbchn/fxiaoke-python, ZhangZihe/FxiaokeSDK.NET, juejin.cn/post/
7242524966905987128, blog.csdn.net/wzf16008/article/details/122700234): marked ⚠️ partial
or ❓ unverified there. They are all in the block below and in the field-name options
(`FxiaokeTargetOptions`), and `guestsync.testing.fake_fxiaoke` follows the same block.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import requests

from ..config.connectors import FxiaokeTargetOptions
from ..errors import (
    AuthError,
    PermanentError,
    QuotaExhaustedError,
    RateLimitedError,
    RetryableError,
)
from ..models import Guest, OutboxItem
from ..ratelimit import TokenBucket
from .base import RecordResult
from .http import HttpClient, account_key
from .names import single_name

# -- unverified API facts (platform-apis.md §1.4), in one place -------------------------
TOKEN_PATH = "/cgi/corpAccessToken/get/V2"  # ⚠️ {appId, appSecret, permanentCode}
CREATE_PATH = "/cgi/crm/v2/data/create"  # ⚠️ -> dataId
UPDATE_PATH = "/cgi/crm/v2/data/update"  # ⚠️ _id inside object_data
QUERY_PATH = "/cgi/crm/v2/data/query"  # ⚠️ search_query_info, limit <= 100
TOKEN_INVALID = 20016  # ⚠️ refresh the token and retry once
TOO_FREQUENT = frozenset({14001, 30004})  # ⚠️ back off
DAILY_QUOTA_USED = 30002  # ⚠️ resets at midnight (zone ❓: options.quota_timezone)
NO_QUOTA_BOUGHT = 30003  # ⚠️ no API pack purchased: nothing to wait for
TOKEN_MARGIN = 300.0  # seconds before `expiresIn` (⚠️ 7,200 s) that we fetch a new token
TOKEN_MIN_INTERVAL = 6.0  # ⚠️ the token endpoint allows <= 10 calls a minute
LOOKUP_LIMIT = 10  # rows per lookup query (⚠️ limit <= 100, offset a multiple of it)
WRITTEN_MEMORY = 10  # batches whose writes are remembered, so a retried batch skips them


def _json(resp: requests.Response, target: str) -> dict[str, Any]:
    """The JSON object of a 200 answer; anything else is a transient fault of the gateway."""
    try:
        body = resp.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise RetryableError(f"{target}: answer is not a JSON object: {resp.text[:200]!r}")
    return body


def _check(body: dict[str, Any]) -> int:
    """The errorCode of a 200 answer (0 = success)."""
    try:
        return int(body.get("errorCode", 0))
    except (TypeError, ValueError):
        return -1


# Fields only a create may set: the record's owner (负责人) is required on create, and
# sending it on an update asks Fxiaoke to change the owner (a separate changeOwner action
# in public clients ⚠️), which the API user may not be allowed to do.
CREATE_ONLY_FIELDS = ("owner",)


def query_body(
    object_api: str, field: str, value: str, fields: tuple[str, ...] = ()
) -> dict[str, Any]:
    """data/query for records whose `field` equals `value`, oldest first (⚠️ shape).

    `fieldProjection` lists the fields to return (a public Go client's `SearchQueryInfo`
    carries it ⚠️): without it every field of every match comes back, for a lookup that
    reads two."""
    info: dict[str, Any] = {
        "limit": LOOKUP_LIMIT,
        "offset": 0,
        "filters": [{"field_name": field, "field_values": [value], "operator": "EQ"}],
        "orders": [{"fieldName": "create_time", "isAsc": True}],
    }
    if fields:
        info["fieldProjection"] = list(dict.fromkeys(fields))
    return {"data": {"dataObjectApiName": object_api, "search_query_info": info}}


def query_rows(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The records of a data/query answer (⚠️ `data.dataList`)."""
    data = body.get("data") or {}
    return list(data.get("dataList") or [])


# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    value: str
    corp_id: str
    fetched_at: float
    expires_at: float


class _Rejected(PermanentError):
    """One record was refused (a non-zero errorCode that is not about the call itself)."""


class FxiaokeTarget:
    def __init__(
        self,
        name: str,
        options: FxiaokeTargetOptions,
        *,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        pace_clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.options = options
        self.max_batch = options.batch_size
        # One knob, `rate`, paces every data call (a batch makes one to three calls per
        # record), not batches: the engine hands the account's shared budget at that rate
        # to `pace_requests` and does not pace this target's batches. Without one, a
        # local bucket at `rate` keeps the pace.
        self.rate: float | None = options.rate
        self.account = account_key(  # one budget per tenant, whatever the target's name
            "fxiaoke", options.app_id, options.permanent_code.get_secret_value()
        )
        self.clock = clock
        self.sleep = sleep
        self.http = HttpClient(
            str(options.base_url), target=name, timeout=options.timeout, session=session
        )
        # burst 1: at 2.9/s no 20-second window holds more than 1 + 20 * 2.9 = 59 calls
        self._own_pace: Callable[[], object] | None = (
            TokenBucket(options.rate, burst=1.0, clock=pace_clock, sleep=sleep).acquire
            if options.rate
            else None
        )
        self._pace: Callable[[], object] | None = self._own_pace
        self._token: _Token | None = None
        self._token_lock = threading.Lock()  # the token endpoint is never called concurrently
        self._paused_until: datetime | None = None
        self.token_fetches = 0
        # (guest id, payload hash) -> dataId written by this process: a batch retried after
        # a throttle does not write its first records twice.
        # Bounded: only the last few batches can be retried.
        self._written: OrderedDict[tuple[str, str], str] = OrderedDict()

    def pace_requests(self, pace: Callable[[], object] | None) -> None:
        """The engine's shared rate budget, one token per data call (None: the local one)."""
        self._pace = pace if pace is not None else self._own_pace

    # -- projection --------------------------------------------------------------------

    def project(self, guest: Guest) -> dict[str, Any]:
        """The object's fields (API names from the options); empty values left out."""
        o = self.options
        fields: dict[str, Any] = {o.id_field: guest.id, o.name_field: single_name(guest)}
        if o.phone_field and guest.phone:
            fields[o.phone_field] = guest.phone
        if o.email_field and guest.email:
            fields[o.email_field] = guest.email
        return fields

    # -- the token ---------------------------------------------------------------------

    def _access(self, *, stale: str | None = None) -> _Token:
        """The cached corpAccessToken; fetched once for all threads when missing, expired,
        or equal to `stale` (refused by the API)."""
        with self._token_lock:
            tok = self._token
            if tok is not None and tok.value != stale and self.clock() < tok.expires_at:
                return tok
            if tok is not None:  # keep under the endpoint's own limit when refreshing
                wait = tok.fetched_at + TOKEN_MIN_INTERVAL - self.clock()
                if wait > 0:
                    self.sleep(wait)
            o = self.options
            resp = self.http.request(
                "POST",
                TOKEN_PATH,
                json={
                    "appId": o.app_id,
                    "appSecret": o.app_secret.get_secret_value(),
                    "permanentCode": o.permanent_code.get_secret_value(),
                },
            )
            body = _json(resp, self.name)
            self.token_fetches += 1
            code = _check(body)
            if code in TOO_FREQUENT:
                raise RateLimitedError(self._say(code, body, "token endpoint"), target=self.name)
            if code != 0 or not body.get("corpAccessToken"):
                raise AuthError(
                    self._say(
                        code, body, "app credentials refused (appId/appSecret/permanentCode)"
                    ),
                    target=self.name,
                )
            now = self.clock()
            ttl = float(body.get("expiresIn") or 7200)
            self._token = _Token(
                str(body["corpAccessToken"]),
                str(body.get("corpId") or ""),
                now,
                now + max(ttl - TOKEN_MARGIN, ttl / 2),
            )
            return self._token

    def _say(self, code: int, body: dict[str, Any], what: str) -> str:
        return f"{self.name}: {what}: errorCode {code}: {body.get('errorMessage', '')}".rstrip()

    # -- one call ----------------------------------------------------------------------

    def _call(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        """POST with the auth fields; a refused token is refreshed once and the call retried."""
        tok = self._access()
        for first in (True, False):
            if self._pace is not None:
                self._pace()
            resp = self.http.request(
                "POST",
                path,
                json={
                    "corpAccessToken": tok.value,
                    "corpId": tok.corp_id,
                    "currentOpenUserId": self.options.open_user_id,
                    **payload,
                },
            )
            body = _json(resp, self.name)
            code = _check(body)
            if code == 0:
                return body
            if code == TOKEN_INVALID and first:
                tok = self._access(stale=tok.value)
                continue
            raise self._error(code, body)
        raise AssertionError("unreachable")

    def _error(self, code: int, body: dict[str, Any]) -> Exception:
        if code == TOKEN_INVALID:
            return AuthError(
                self._say(code, body, "token refused after a refresh"), target=self.name
            )
        if code in TOO_FREQUENT:
            return RateLimitedError(self._say(code, body, "too frequent"), target=self.name)
        if code == DAILY_QUOTA_USED:
            zone = ZoneInfo(self.options.quota_timezone)
            now = datetime.fromtimestamp(self.clock(), zone)
            reset = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), zone)
            self._paused_until = reset
            return self._quota_error(body)
        if code == NO_QUOTA_BOUGHT:
            return AuthError(
                self._say(
                    code,
                    body,
                    "no API quota purchased for this tenant (buy an API "
                    "pack in the Fxiaoke admin console)",
                ),
                target=self.name,
            )
        return _Rejected(self._say(code, body, "record rejected"), target=self.name)

    def _quota_error(self, body: dict[str, Any] | None = None) -> QuotaExhaustedError:
        until = self._paused_until
        assert until is not None
        wait = max(0.0, until.timestamp() - self.clock())
        said = f" ({body.get('errorMessage', '')})" if body else ""
        return QuotaExhaustedError(
            f"{self.name}: daily API quota used up{said}; records stay queued and delivery "
            f"resumes after {until.isoformat(timespec='minutes')}",
            target=self.name,
            retry_after=wait,
            resets_at=until,
        )

    # -- records -----------------------------------------------------------------------

    def _find(self, item: OutboxItem) -> str | None:
        """dataId of the record holding this guest: by our id, else an unclaimed phone match."""
        o = self.options
        rows = query_rows(
            self._call(
                QUERY_PATH,
                query_body(o.object_api_name, o.id_field, item.guest_id, ("_id", o.id_field)),
            )
        )
        if rows:
            return str(rows[0]["_id"])
        phone = item.payload.get(o.phone_field) if o.phone_field else None
        if o.match_on_phone and o.phone_field and phone:
            rows = query_rows(
                self._call(
                    QUERY_PATH,
                    query_body(o.object_api_name, o.phone_field, phone, ("_id", o.id_field)),
                )
            )
            for row in rows:  # never take over a record that belongs to another guest
                if not row.get(o.id_field):
                    return str(row["_id"])
        return None

    def _object_data(self, fields: dict[str, Any], data_id: str | None = None) -> dict[str, Any]:
        """create/update body. Neither workflows nor approval flows are triggered (both
        default to true ⚠️): an approval flow would hold each synced record 审批中 until
        someone approves it. An update leaves out the create-only fields (`owner`)."""
        obj = {
            "dataObjectApiName": self.options.object_api_name,
            **self.options.extra_fields,
            **fields,
        }
        if data_id is not None:
            obj["_id"] = data_id
            for key in CREATE_ONLY_FIELDS:
                obj.pop(key, None)
        return {
            "data": {"object_data": obj},
            "triggerWorkFlow": False,
            "triggerApprovalFlow": False,
        }

    def _create(self, fields: dict[str, Any]) -> str:
        body = self._call(CREATE_PATH, self._object_data(fields))
        data_id = body.get("dataId") or (body.get("data") or {}).get("_id")
        if not data_id:
            raise _Rejected(f"{self.name}: create answered without a dataId", target=self.name)
        return str(data_id)

    def _push(self, item: OutboxItem) -> RecordResult:
        key = (item.guest_id, item.payload_hash)
        if key in self._written:
            return RecordResult(item.guest_id, ok=True, crm_id=self._written[key])
        known = item.crm_id
        data_id = known or self._find(item)
        created = data_id is None
        try:
            if data_id is None:
                data_id = self._create(item.payload)
            else:
                try:
                    self._call(UPDATE_PATH, self._object_data(item.payload, data_id))
                except _Rejected:
                    # Our link may be stale (the record was deleted or merged in the CRM):
                    # look again, and create only if the guest is really not there.
                    if not known:
                        raise
                    found = self._find(item)
                    if found == known:
                        raise
                    if found is None:
                        data_id, created = self._create(item.payload), True
                    else:
                        data_id = found
                        self._call(UPDATE_PATH, self._object_data(item.payload, data_id))
        except _Rejected as exc:
            return RecordResult(item.guest_id, ok=False, error=str(exc))
        self._written[key] = data_id
        while len(self._written) > WRITTEN_MEMORY * self.max_batch:
            self._written.popitem(last=False)
        return RecordResult(item.guest_id, ok=True, crm_id=data_id, created=created)

    def upsert(self, batch: Sequence[OutboxItem]) -> list[RecordResult]:
        """One result per item, in order. A throttle, auth or quota error mid-batch raises
        for the whole batch; records already written are remembered, so a retry of the
        batch skips them."""
        if self._paused_until is not None:
            if self.clock() < self._paused_until.timestamp():
                raise self._quota_error()
            self._paused_until = None
        return [self._push(item) for item in batch]
