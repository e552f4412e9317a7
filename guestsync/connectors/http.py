"""The shared HTTP boundary: one requests.Session per connector, timeouts, and one place
that turns responses and network failures into guestsync errors.
"""

from __future__ import annotations

import hashlib
from email.utils import parsedate_to_datetime
from typing import Any

import requests

from ..errors import AuthError, PermanentError, ProtocolError, RateLimitedError, RetryableError

USER_AGENT = "guestsync/0.1 (+https://github.com/guestsync/guestsync)"


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds: either delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    from datetime import UTC, datetime

    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _remote_message(resp: requests.Response) -> str:
    try:
        body = resp.json()
    except ValueError:
        text = resp.text.strip().replace("\n", " ")
        return text[:300] or resp.reason or ""
    if isinstance(body, dict):
        return str(body.get("message") or body.get("error") or body)[:500]
    return str(body)[:500]


def classify(resp: requests.Response, *, target: str) -> None:
    """Raise the guestsync error for a failed response; return for 2xx."""
    status = resp.status_code
    if status < 300:
        return
    message = f"{target}: HTTP {status}: {_remote_message(resp)}"
    if status == 429:
        raise RateLimitedError(
            message,
            status=status,
            target=target,
            retry_after=retry_after_seconds(resp.headers.get("Retry-After")),
        )
    if status >= 500 or status == 408:
        raise RetryableError(message, status=status, target=target)
    if status in (401, 403):
        raise AuthError(message, status=status, target=target)
    raise PermanentError(message, status=status, target=target)


def json_object(
    resp: requests.Response, *, target: str, needs: str | None = None
) -> dict[str, Any]:
    """The JSON object a 2xx answer documents, else a one-line ProtocolError (retryable):
    a proxy's HTML page, a cut-off body or `[]` must not crash a run with a traceback.
    `needs` names a key the object must hold (e.g. `results`)."""
    try:
        body = resp.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and (needs is None or needs in body):
        return body
    text = " ".join(resp.text.split())
    snippet = text[:80] + ("…" if len(text) > 80 else "")
    want = f"a JSON object with `{needs}`" if needs else "a JSON object"
    raise ProtocolError(
        f"{target}: HTTP {resp.status_code} but the body is not {want} "
        f"({len(resp.content)} bytes: {snippet!r}); will retry",
        status=resp.status_code,
        target=target,
    )


class HttpClient:
    """Requests to one base URL with fixed headers; failures become guestsync errors."""

    def __init__(
        self,
        base_url: str,
        *,
        target: str,
        headers: dict[str, str] | None = None,
        timeout: float = 30.0,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.target = target
        self.timeout = timeout
        self.session = session or requests.Session()
        self.session.headers.update({"User-Agent": USER_AGENT, **(headers or {})})

    def request(
        self, method: str, path: str, *, check: bool = True, **kw: Any
    ) -> requests.Response:
        """One request; `check=False` returns failed responses for the caller to read
        (network failures are RetryableError either way)."""
        url = path if path.startswith("http") else f"{self.base_url}/{path.lstrip('/')}"
        try:
            resp = self.session.request(method, url, timeout=self.timeout, **kw)
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise RetryableError(
                f"{self.target}: {type(exc).__name__} calling {method} {url}", target=self.target
            ) from None
        if check:
            classify(resp, target=self.target)
        return resp


def account_key(kind: str, *parts: str) -> str:
    """A stable budget name for a CRM account that does not reveal its credentials."""
    digest = hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()[:16]
    return f"{kind}:{digest}"
