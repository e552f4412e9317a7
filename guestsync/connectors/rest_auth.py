"""Auth for pull sources: static credentials, or OAuth2 tokens fetched and refreshed.

`apply(headers, params)` adds the credentials to one request. OAuth2 tokens are fetched
lazily, refreshed `refresh_margin` seconds before `expires_in` runs out, and once more
when the API answers 401 (`invalidate()`). A rotated refresh token is kept in memory
for this process only: secrets are never written to the store.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from typing import Any

import requests

from ..config.pull import (
    ApiKeyAuth,
    AuthOptions,
    BasicAuth,
    BearerAuth,
    OAuth2ClientCredentials,
    OAuth2RefreshToken,
)
from ..errors import AuthError
from .http import HttpClient


class Auth:
    """No credentials."""

    def apply(self, headers: dict[str, str], params: dict[str, Any]) -> None:
        return None

    def invalidate(self) -> bool:
        """Forget a cached token; True if a fresh one can be fetched (worth one retry)."""
        return False


class StaticAuth(Auth):
    def __init__(self, header: tuple[str, str] | None = None, query: tuple[str, str] | None = None):
        self.header = header
        self.query = query

    def apply(self, headers: dict[str, str], params: dict[str, Any]) -> None:
        if self.header:
            headers[self.header[0]] = self.header[1]
        if self.query:
            params[self.query[0]] = self.query[1]


class OAuth2Auth(Auth):
    def __init__(
        self,
        options: OAuth2ClientCredentials | OAuth2RefreshToken,
        *,
        name: str,
        session: requests.Session,
        timeout: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.options = options
        self.clock = clock
        self.http = HttpClient(
            options.token_url, target=f"{name} token", session=session, timeout=timeout
        )
        self._token: str | None = None
        self._expires_at = 0.0
        self._refresh_token = (
            options.refresh_token.get_secret_value()
            if isinstance(options, OAuth2RefreshToken)
            else None
        )

    def _form(self) -> dict[str, str]:
        o = self.options
        form = {"client_id": o.client_id}
        if o.client_secret is not None:
            form["client_secret"] = o.client_secret.get_secret_value()
        if isinstance(o, OAuth2ClientCredentials):
            form["grant_type"] = "client_credentials"
            if o.scope:
                form["scope"] = o.scope
        else:
            form["grant_type"] = "refresh_token"
            form["refresh_token"] = self._refresh_token or ""
        return form

    def token(self) -> str:
        if self._token and self.clock() < self._expires_at - self.options.refresh_margin:
            return self._token
        try:
            body = self.http.request("POST", self.options.token_url, data=self._form()).json()
        except AuthError as exc:
            raise AuthError(f"token refresh refused: {exc}", target=exc.target) from None
        except ValueError:
            raise AuthError("token endpoint answered no JSON", target=self.http.target) from None
        if not isinstance(body, dict) or "access_token" not in body:
            raise AuthError("token endpoint gave no access_token", target=self.http.target)
        self._token = str(body["access_token"])
        self._expires_at = self.clock() + float(body.get("expires_in") or 3600)
        if body.get("refresh_token"):  # rotated (Salesforce, Zoho, …): use the new one
            self._refresh_token = str(body["refresh_token"])
        return self._token

    def apply(self, headers: dict[str, str], params: dict[str, Any]) -> None:
        headers["Authorization"] = f"Bearer {self.token()}"

    def invalidate(self) -> bool:
        self._token = None
        return True


def build_auth(
    options: AuthOptions | None,
    *,
    name: str,
    session: requests.Session,
    timeout: float,
    clock: Callable[[], float] = time.monotonic,
) -> Auth:
    if options is None:
        return Auth()
    if isinstance(options, BearerAuth):
        return StaticAuth(header=("Authorization", f"Bearer {options.token.get_secret_value()}"))
    if isinstance(options, BasicAuth):
        pair = f"{options.username}:{options.password.get_secret_value()}".encode()
        return StaticAuth(header=("Authorization", "Basic " + base64.b64encode(pair).decode()))
    if isinstance(options, ApiKeyAuth):
        kv = (options.name, options.value.get_secret_value())
        return StaticAuth(**{options.location: kv})
    return OAuth2Auth(options, name=name, session=session, timeout=timeout, clock=clock)
