"""A fake Fxiaoke (纷享销客) open API: corpAccessToken and the CRM data create/update/query.

It follows the shapes in platform-apis.md §1.4 as `guestsync.connectors.fxiaoke` encodes
them (same constants): errors are HTTP 200 with a non-zero `errorCode`; tokens expire
(`token_ttl`, or `expire_tokens()` at once) and are refused with 20016; a per-window call
limit and injected faults answer 30004 "too frequent"; a daily quota answers 30002 until
`reset_quota()`. It records how many token calls ran at the same time, so a test can
assert the client never calls the token endpoint concurrently, and counts everything, so
a test can assert that every guest arrived exactly once.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from typing import Any

from flask import Flask, Response, jsonify, request

from ..connectors.fxiaoke import (
    CREATE_PATH,
    DAILY_QUOTA_USED,
    QUERY_PATH,
    TOKEN_INVALID,
    TOKEN_PATH,
    UPDATE_PATH,
)
from .fakecrm import FaultPlan, drop_connection

TOO_FREQUENT = 30004
NOT_FOUND = 320001404  # ❓ code for "no such record" on update: any unlisted code is per record
INVALID_VALUE = 320001400  # ❓ code for a field value the CRM refuses
BAD_PAGING = 10013  # ⚠️ offset not a multiple of limit, or beyond 10,000


def _ok(**body: Any) -> Response:
    return jsonify({"errorCode": 0, "errorMessage": "OK", **body})


def _fail(code: int, message: str) -> Response:
    return jsonify({"errorCode": code, "errorMessage": message})


class FakeFxiaoke:
    def __init__(
        self,
        *,
        app_id: str = "FSAID_test",
        app_secret: str = "app-secret",
        permanent_code: str = "perm-code",
        corp_id: str = "FSCID_test",
        token_ttl: float = 7200.0,
        token_delay: float = 0.0,
        calls_per_window: int | None = None,
        window: float = 20.0,
        daily_quota: int | None = None,
        faults: FaultPlan | None = None,
        id_field: str = "guestsync_id__c",
    ) -> None:
        self.app_id, self.app_secret, self.permanent_code = app_id, app_secret, permanent_code
        self.corp_id = corp_id
        self.token_ttl = token_ttl
        self.token_delay = token_delay  # holds each token call open, to expose concurrency
        self.calls_per_window = calls_per_window
        self.window = window
        self.daily_quota = daily_quota
        self.faults = faults or FaultPlan()
        self.id_field = id_field
        self.reject: dict[str, str] = {}  # guest id -> message: refuse that record
        self.records: dict[str, dict[str, dict[str, Any]]] = {}  # api name -> id -> fields
        self.tokens: dict[str, float] = {}  # token -> expiry (monotonic)
        self.counts: Counter[str] = Counter()
        self.token_in_flight = 0
        self.token_max_in_flight = 0
        self._calls: list[float] = []
        self.lock = threading.Lock()
        self.app = self._make_app()

    # -- controls and assertions -------------------------------------------------------

    def expire_tokens(self) -> None:
        with self.lock:
            self.tokens.clear()

    def reset_quota(self) -> None:
        with self.lock:
            self.counts["quota_used"] = 0

    def find(self, field: str, value: Any, *, api: str = "ContactObj") -> list[str]:
        return [i for i, r in self.records.get(api, {}).items() if r.get(field) == value]

    # -- the app -----------------------------------------------------------------------

    def _make_app(self) -> Flask:
        app = Flask("fake_fxiaoke")

        @app.post(TOKEN_PATH)
        def token() -> Response:
            body = request.get_json(silent=True) or {}
            with self.lock:
                self.counts["token"] += 1
                self.token_in_flight += 1
                self.token_max_in_flight = max(self.token_max_in_flight, self.token_in_flight)
            try:
                if self.token_delay:
                    time.sleep(self.token_delay)
                if (body.get("appId"), body.get("appSecret"), body.get("permanentCode")) != (
                    self.app_id,
                    self.app_secret,
                    self.permanent_code,
                ):
                    return _fail(20013, "appId或appSecret错误")  # ❓ code
                with self.lock:
                    now = time.monotonic()
                    live = [t for t, exp in self.tokens.items() if exp > now]
                    # ⚠️ the same token is returned while it is valid
                    tok = live[0] if live else uuid.uuid4().hex
                    self.tokens.setdefault(tok, now + self.token_ttl)
                    left = int(self.tokens[tok] - now)
                return _ok(corpAccessToken=tok, corpId=self.corp_id, expiresIn=left)
            finally:
                with self.lock:
                    self.token_in_flight -= 1

        def guarded(handler):
            def run() -> Response:
                body = request.get_json(silent=True)
                if not isinstance(body, dict):
                    return _fail(10001, "请求体不是JSON对象")
                with self.lock:
                    self.counts["requests"] += 1
                    token = body.get("corpAccessToken")
                    if token not in self.tokens or self.tokens[token] <= time.monotonic():
                        self.counts["token_refused"] += 1
                        return _fail(TOKEN_INVALID, "corpAccessToken无效")
                    if body.get("corpId") != self.corp_id or not body.get("currentOpenUserId"):
                        return _fail(10002, "corpId或currentOpenUserId错误")
                    if self.daily_quota is not None:
                        if self.counts["quota_used"] >= self.daily_quota:
                            self.counts["quota_refused"] += 1
                            return _fail(DAILY_QUOTA_USED, "今日接口调用次数已用完")
                        self.counts["quota_used"] += 1
                    now = time.monotonic()
                    self._calls = [t for t in self._calls if t > now - self.window]
                    if self.calls_per_window and len(self._calls) >= self.calls_per_window:
                        self.counts["throttled"] += 1
                        return _fail(TOO_FREQUENT, "接口调用过于频繁")
                    self._calls.append(now)
                fault = self.faults.next()
                if fault == 429:  # this vendor says "too frequent" in a 200
                    fault = TOO_FREQUENT
                if isinstance(fault, int) and fault >= 1000:
                    self.counts[f"fault_{fault}"] += 1
                    if fault == TOKEN_INVALID:
                        self.expire_tokens()
                    return _fail(fault, "injected")
                if fault == 500:
                    self.counts["500"] += 1
                    resp = jsonify({"message": "internal error"})
                    resp.status_code = 500
                    return resp
                if fault == "drop":
                    self.counts["drop"] += 1
                    return drop_connection()
                with self.lock:
                    return handler(body)

            run.__name__ = handler.__name__
            return run

        def object_data(body: dict[str, Any]) -> tuple[str, dict[str, Any]] | Response:
            obj = ((body.get("data") or {}).get("object_data")) or {}
            api = obj.get("dataObjectApiName")
            if not isinstance(obj, dict) or not api:
                return _fail(10003, "dataObjectApiName不能为空")
            return api, {k: v for k, v in obj.items() if k != "dataObjectApiName"}

        @app.post(CREATE_PATH)
        @guarded
        def create(body: dict[str, Any]) -> Response:
            got = object_data(body)
            if isinstance(got, Response):
                return got
            api, fields = got
            problem = self._invalid(fields, create=True)
            if problem:
                return problem
            data_id = uuid.uuid4().hex[:24]
            self.records.setdefault(api, {})[data_id] = {"_id": data_id, **fields}
            self.counts["created"] += 1
            return _ok(dataId=data_id)

        @app.post(UPDATE_PATH)
        @guarded
        def update(body: dict[str, Any]) -> Response:
            got = object_data(body)
            if isinstance(got, Response):
                return got
            api, fields = got
            data_id = fields.pop("_id", None)
            rec = self.records.get(api, {}).get(data_id)
            if rec is None:
                return _fail(NOT_FOUND, f"数据不存在: {data_id}")
            problem = self._invalid(fields, create=False)
            if problem:
                return problem
            rec.update(fields)
            self.counts["updated"] += 1
            return _ok()

        @app.post(QUERY_PATH)
        @guarded
        def query(body: dict[str, Any]) -> Response:
            data = body.get("data") or {}
            info = data.get("search_query_info") or {}
            limit, offset = int(info.get("limit", 20)), int(info.get("offset", 0))
            if not 1 <= limit <= 100 or offset % limit or offset > 10_000:
                return _fail(BAD_PAGING, "limit/offset不合法")
            api = data.get("dataObjectApiName")
            rows = list(self.records[api].values()) if api in self.records else []
            for f in info.get("filters") or []:
                if f.get("operator") != "EQ":
                    return _fail(10004, "operator not supported by the fake")
                rows = [r for r in rows if r.get(f["field_name"]) in f["field_values"]]
            self.counts["queries"] += 1
            return _ok(data={"dataList": rows[offset : offset + limit], "total": len(rows)})

        return app

    def _invalid(self, fields: dict[str, Any], *, create: bool) -> Response | None:
        refused = self.reject.get(str(fields.get(self.id_field)))
        if refused:
            self.counts["rejected"] += 1
            return _fail(INVALID_VALUE, refused)
        if create and not fields.get("name"):
            self.counts["rejected"] += 1
            return _fail(INVALID_VALUE, "必填字段[name]为空")
        email = fields.get("email")
        if email is not None and "@" not in str(email):
            self.counts["rejected"] += 1
            return _fail(INVALID_VALUE, f"邮箱格式不正确: {email}")
        return None
