"""OAuth2 refresh-token flow shared by the Salesforce and Zoho targets.

The access token lives in memory only (never in the store or a log). It is fetched on
first use and again when the API says it expired; a refresh the authorization server
refuses is an AuthError (stop the target), a refresh that fails in transit is retryable.
"""

from __future__ import annotations

import threading
from typing import Any

import requests

from ..errors import AuthError, RetryableError
from .http import USER_AGENT


class RefreshToken:
    def __init__(
        self,
        token_url: str,
        form: dict[str, str],
        *,
        target: str,
        session: requests.Session,
        timeout: float = 30.0,
        send_as: str = "form",  # "form" (body) or "query" (Zoho's documented form)
        access_token: str | None = None,
    ) -> None:
        self.token_url = token_url
        self.form = form
        self.target = target
        self.session = session
        self.timeout = timeout
        self.send_as = send_as
        self.access_token = access_token
        self.answer: dict[str, Any] = {}
        self.refreshes = 0
        self._lock = threading.Lock()

    def get(self) -> str:
        if self.access_token is None:
            self.refresh()
        assert self.access_token is not None
        return self.access_token

    def refresh(self, *, stale: str | None = None) -> None:
        """Fetch a new access token (unless another thread already replaced `stale`)."""
        with self._lock:
            if stale is not None and self.access_token not in (None, stale):
                return
            kw: dict[str, Any] = {"data": self.form} if self.send_as == "form" else {}
            if self.send_as == "query":
                kw["params"] = self.form
            try:
                resp = self.session.post(
                    self.token_url,
                    timeout=self.timeout,
                    headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
                    **kw,
                )
            except (requests.ConnectionError, requests.Timeout) as exc:
                raise RetryableError(
                    f"{self.target}: {type(exc).__name__} refreshing the access token",
                    target=self.target,
                ) from None
            if resp.status_code >= 500 or resp.status_code == 429:
                raise RetryableError(
                    f"{self.target}: HTTP {resp.status_code} refreshing the access token",
                    status=resp.status_code,
                    target=self.target,
                )
            try:
                body = resp.json()
            except ValueError:
                body = {}
            token = body.get("access_token") if isinstance(body, dict) else None
            if resp.status_code >= 400 or not token:
                reason = (body.get("error_description") or body.get("error")) if body else None
                raise AuthError(
                    f"{self.target}: the OAuth server refused the refresh token "
                    f"(HTTP {resp.status_code}: {reason or resp.reason}); "
                    "authorize the app again and update the refresh token",
                    status=resp.status_code,
                    target=self.target,
                )
            self.answer = body
            self.access_token = str(token)
            self.refreshes += 1
