"""Generic REST CRM target: a CRM without a connector, described in guestsync.yaml.

    targets:
      crm:
        type: rest
        base_url: https://api.example-crm.com
        auth: {kind: bearer, token: "${CRM_TOKEN}"}
        batch_size: 50
        fields: {external_id: guest.id, name: "first_name ~ ' ' ~ last_name", email: guest.email}
        upsert:
          method: POST
          path: /v1/contacts/upsert
          record: {key: "{{ guest_id }}", properties: "{{ fields }}"}
          body: {items: "{{ records }}"}
          results_path: results
          key_path: key
          id_path: id
          error_path: error.message
          created_path: created

`fields` builds the payload (hashed to decide whether to push); `record` and `body` shape
the request; the JMESPath expressions read one result per record out of the answer.
HTTP errors are classified as for every target (429/5xx retry, 401/403 stop the target,
other 4xx reject the batch).
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from typing import Any

import requests

from ..config.connectors import RestRequest, RestTargetOptions
from ..errors import ConfigError, RetryableError
from ..models import Guest, OutboxItem
from .base import RecordResult
from .http import HttpClient, account_key
from .names import first_last
from .templating import Render, compile_expression, compile_path, compile_template, variables


class _Call:
    """One configured request, compiled once."""

    def __init__(self, spec: RestRequest, *, where: str, batch_size: int) -> None:
        self.method = spec.method
        # A path naming one record (/contacts/{{ crm_id }}) means one request per record.
        self.per_record = bool(variables(spec.path) & {"guest_id", "crm_id", "fields"})
        self.path = compile_template(spec.path, where=f"{where}.path")
        self.record = compile_template(spec.record, where=f"{where}.record")
        default_body = "{{ records[0] }}" if batch_size == 1 else "{{ records }}"
        self.body = compile_template(
            spec.body if spec.body is not None else default_body, where=f"{where}.body"
        )
        self.results = compile_path(spec.results_path, where=f"{where}.results_path")
        self.id = compile_path(spec.id_path, where=f"{where}.id_path")
        self.key = compile_path(spec.key_path, where=f"{where}.key_path")
        self.error = compile_path(spec.error_path, where=f"{where}.error_path")
        self.created = compile_path(spec.created_path, where=f"{where}.created_path")


class RestTarget:
    def __init__(
        self, name: str, options: RestTargetOptions, *, session: requests.Session | None = None
    ) -> None:
        self.name = name
        self.options = options
        self.max_batch = options.batch_size
        self.rate: float | None = options.rate
        # One budget per CRM account: same server and same credentials share it.
        self.account = account_key("rest", str(options.base_url), *_auth_headers(options).values())
        where = f"targets.{name}"
        self.fields: dict[str, Render] = {
            k: compile_expression(v, where=f"{where}.fields.{k}") for k, v in options.fields.items()
        }
        self.upsert_call = _Call(options.upsert, where=f"{where}.upsert", batch_size=self.max_batch)
        self.update_call = (
            _Call(options.update, where=f"{where}.update", batch_size=self.max_batch)
            if options.update
            else None
        )
        self.http = HttpClient(
            str(options.base_url),
            target=name,
            headers={**options.headers, **_auth_headers(options)},
            timeout=options.timeout,
            session=session,
        )
        self.pace: Callable[[], object] | None = None

    def pace_requests(self, pace: Callable[[], object] | None) -> None:
        """The engine's shared rate budget, taken once per HTTP request (a per-record
        path makes one request per record)."""
        self.pace = pace

    def project(self, guest: Guest) -> dict[str, Any]:
        first, last = first_last(guest)
        ctx = {"guest": guest.model_dump(mode="json"), "first_name": first, "last_name": last}
        values = {k: render(ctx) for k, render in self.fields.items()}
        return {k: v for k, v in values.items() if v not in (None, "", [])}

    def upsert(self, batch: Sequence[OutboxItem]) -> list[RecordResult]:
        known = [i for i in batch if i.crm_id] if self.update_call else []
        new = [i for i in batch if i not in known]
        results: dict[str, RecordResult] = {}
        for items, call in ((new, self.upsert_call), (known, self.update_call)):
            if items and call:
                for r in self._send_all(call, items):
                    results[r.guest_id] = r
        return [results[i.guest_id] for i in batch]

    def _send_all(self, call: _Call, items: Sequence[OutboxItem]) -> list[RecordResult]:
        if not call.per_record or len(items) == 1:
            return self._send(call, items)
        out: list[RecordResult] = []
        for pos, item in enumerate(items):
            try:
                out += self._send(call, [item])
            except RetryableError as exc:
                if not out:
                    raise  # nothing sent yet: let the engine retry the batch
                out += [
                    RecordResult(i.guest_id, ok=False, retryable=True, error=str(exc))
                    for i in items[pos:]
                ]
                break
        return out

    def _send(self, call: _Call, items: Sequence[OutboxItem]) -> list[RecordResult]:
        contexts = [
            {"guest_id": i.guest_id, "crm_id": i.crm_id, "fields": i.payload} for i in items
        ]
        records = [call.record(ctx) for ctx in contexts]
        ctx: dict[str, Any] = {"records": records, "items": contexts}
        if len(contexts) == 1:
            ctx = {**contexts[0], **ctx}
        path = call.path(ctx)
        if not isinstance(path, str) or not path:
            raise ConfigError("path template rendered empty", field=f"targets.{self.name}")
        if self.pace is not None:
            self.pace()
        resp = self.http.request(call.method, path, json=call.body(ctx))
        try:
            body = resp.json() if resp.content else None
        except ValueError:
            body = None
        return _results(call, items, body, target=self.name)


def _results(
    call: _Call, items: Sequence[OutboxItem], body: Any, *, target: str
) -> list[RecordResult]:
    found = call.results(body) if call.results else body
    if not isinstance(found, list):
        found = [] if found is None else [found]
    by_key: dict[str, Any] = {}
    if call.key:
        by_key = {str(call.key(r)): r for r in found if isinstance(r, dict)}
    elif len(found) != len(items):
        message = f"{target}: the answer had {len(found)} result(s) for {len(items)} record(s)"
        return [RecordResult(i.guest_id, ok=False, retryable=True, error=message) for i in items]
    out = []
    for pos, item in enumerate(items):
        result = by_key.get(item.guest_id) if call.key else found[pos]
        out.append(_one(call, item, result, target=target))
    return out


def _one(call: _Call, item: OutboxItem, result: Any, *, target: str) -> RecordResult:
    if result is None:
        return RecordResult(
            item.guest_id, ok=False, retryable=True, error=f"{target}: no result for this record"
        )
    error = _search(call.error, result)
    if error not in (None, "", [], False):
        return RecordResult(item.guest_id, ok=False, error=f"{target}: {error}")
    crm_id = _search(call.id, result)
    if crm_id in (None, ""):
        crm_id = item.crm_id
    if crm_id in (None, ""):
        return RecordResult(
            item.guest_id,
            ok=False,
            error=f"{target}: no CRM id at id_path in the answer: {str(result)[:200]}",
        )
    created = _search(call.created, result) if call.created else not item.crm_id
    return RecordResult(item.guest_id, ok=True, crm_id=str(crm_id), created=bool(created))


def _search(path: Callable[[Any], Any] | None, value: Any) -> Any:
    return path(value) if path and isinstance(value, dict | list) else None


def _auth_headers(options: RestTargetOptions) -> dict[str, str]:
    auth = options.auth
    if auth.kind == "bearer" and auth.token:
        return {"Authorization": f"Bearer {auth.token.get_secret_value()}"}
    if auth.kind == "basic" and auth.password:
        pair = f"{auth.username}:{auth.password.get_secret_value()}".encode()
        return {"Authorization": "Basic " + base64.b64encode(pair).decode("ascii")}
    if auth.kind == "header" and auth.value:
        return {auth.header: auth.value.get_secret_value()}
    return {}
