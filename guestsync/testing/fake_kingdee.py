"""A fake Kingdee Cloud Galaxy (金蝶云星空) WebAPI: BD_Customer BatchSave and ExecuteBillQuery.

It checks the SDK's signed headers on every call (recomputed from its own copy of the app
secret and the path it was called on) and follows the answer shapes that
`guestsync.connectors.kingdee` encodes (same constants; ⚠️/❓ in platform-apis.md §1.5):
`Result.ResponseStatus` with `SuccessEntitys` / `Errors` carrying `DIndex`, each entity of a
BatchSave saved or refused on its own, a refused signature answered with MsgCode 1, and the
query answered as a list of rows. Faults (HTTP 429/500, dropped connections) come from a
`FaultPlan`; everything is counted so a test can assert each guest arrived exactly once.
"""

from __future__ import annotations

import base64
import threading
from collections import Counter
from typing import Any
from urllib.parse import quote

from flask import Flask, Response, jsonify, request

from ..connectors.kingdee import FORM_ID, ID_FIELD, SERVICE
from ..connectors.kingdee_sign import b64hex, client_credentials
from .fakecrm import FaultPlan, drop_connection

PREFIX = "/k3cloud/"


def _status(*, ok: bool, errors=(), successes=(), msg_code: int = 0) -> dict[str, Any]:
    return {
        "Result": {
            "ResponseStatus": {
                "ErrorCode": 0 if ok else 500,
                "IsSuccess": ok,
                "Errors": list(errors),
                "SuccessEntitys": list(successes),
                "SuccessMessages": [],
                "MsgCode": msg_code,
            }
        }
    }


class FakeKingdee:
    def __init__(
        self,
        *,
        app_id: str = "224466_X0dC0+tJzqGV1WxHwr9BTyws7hRa1vLI",
        app_secret: str = "kd-app-secret",
        acct_id: str = "6500abc",
        faults: FaultPlan | None = None,
        email_field: str = "FEMAIL",
    ) -> None:
        self.app_id, self.app_secret, self.acct_id = app_id, app_secret, acct_id
        self.faults = faults or FaultPlan()
        self.email_field = email_field
        self.reject: dict[str, str] = {}  # FNumber -> message: refuse that customer
        self.customers: dict[int, dict[str, Any]] = {}
        self.next_id = 100001
        self.counts: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.app = self._make_app()

    def find(self, number: str) -> list[int]:
        return [i for i, c in self.customers.items() if c.get("FNumber") == number]

    def _signature_ok(self) -> bool:
        h = request.headers
        _, client_secret = client_credentials(self.app_id)
        sign = (
            "POST\n"
            + quote(request.path, safe="")
            + f"\n\nx-api-nonce:{h.get('x-api-nonce', '')}"
            + f"\nx-api-timestamp:{h.get('x-api-timestamp', '')}\n"
        )
        try:
            app_data = base64.b64decode(h.get("X-Kd-Appdata", "")).decode("utf-8")
        except ValueError:
            return False
        return (
            h.get("X-Kd-Appkey") == self.app_id
            and app_data.split(",")[0] == self.acct_id
            and h.get("X-Api-Signature") == b64hex(client_secret, sign)
            and h.get("X-Kd-Signature") == b64hex(self.app_secret, self.app_id + app_data)
        )

    def _make_app(self) -> Flask:
        app = Flask("fake_kingdee")

        @app.before_request
        def auth_and_faults() -> Response | None:
            self.counts["requests"] += 1
            if not self._signature_ok():
                self.counts["bad_signature"] += 1
                return jsonify(_status(ok=False, errors=[{"Message": "签名验证失败"}], msg_code=1))
            fault = self.faults.next()
            if fault in (429, 500):
                self.counts[str(fault)] += 1
                resp = jsonify({"message": "injected"})
                resp.status_code = int(fault)
                return resp
            if fault == "drop":
                self.counts["drop"] += 1
                return drop_connection()
            return None

        @app.post(PREFIX + SERVICE.format(op="BatchSave"))
        def batch_save() -> Response:
            body = request.get_json(silent=True) or {}
            data = body.get("data")
            if body.get("formid") != FORM_ID or not isinstance(data, dict):
                return jsonify(_status(ok=False, errors=[{"Message": "formid/data 不正确"}]))
            models = data.get("Model")
            if isinstance(models, dict):
                models = [models]
            if not isinstance(models, list):
                return jsonify(_status(ok=False, errors=[{"Message": "Model 不正确"}]))
            with self.lock:
                successes, errors = [], []
                for i, model in enumerate(models):
                    problem = self._save(model)
                    if isinstance(problem, tuple):
                        errors.append({"FieldName": problem[0], "Message": problem[1], "DIndex": i})
                    else:
                        cid = problem
                        number = self.customers[cid]["FNumber"]
                        successes.append({"Id": cid, "Number": number, "DIndex": i})
            return jsonify(_status(ok=not errors, errors=errors, successes=successes))

        @app.post(PREFIX + SERVICE.format(op="ExecuteBillQuery"))
        def query() -> Response:
            data = (request.get_json(silent=True) or {}).get("data") or {}
            filt = str(data.get("FilterString", ""))
            if data.get("FormId") != FORM_ID or not filt.startswith("FNumber in ("):
                return jsonify([[_status(ok=False, errors=[{"Message": "FilterString 不支持"}])]])
            wanted = {v.strip().strip("'") for v in filt[len("FNumber in (") : -1].split(",")}
            self.counts["queries"] += 1
            with self.lock:
                rows = [
                    [cid, c["FNumber"]]
                    for cid, c in sorted(self.customers.items())
                    if c["FNumber"] in wanted
                ]
            return jsonify(rows)

        return app

    def _save(self, model: Any) -> int | tuple[str, str]:
        if not isinstance(model, dict):
            return "", "Model 项不是对象"
        model = dict(model)
        cid = model.pop(ID_FIELD, None)
        refused = self.reject.get(str(model.get("FNumber")))
        if refused:
            self.counts["rejected"] += 1
            return "FNumber", refused
        if not model.get("FName"):
            self.counts["rejected"] += 1
            return "FName", "客户名称 是必填项"
        email = model.get(self.email_field)
        if email is not None and "@" not in str(email):
            self.counts["rejected"] += 1
            return self.email_field, f"邮箱格式不正确: {email}"
        number = model.get("FNumber")
        if cid in (None, 0, ""):
            if not number:
                return "FNumber", "编码 是必填项"
            if self.find(number):
                self.counts["duplicate"] += 1
                return "FNumber", f"编码 {number} 已经存在 (编码唯一性校验)"
            cid = self.next_id
            self.next_id += 1
            self.customers[cid] = {}
            self.counts["created"] += 1
        elif cid not in self.customers:
            return ID_FIELD, f"客户 {cid} 不存在"
        else:
            self.counts["updated"] += 1
        self.customers[cid].update(model)
        return cid
