"""One wiring of each fake CRM to the target that talks to it, for the tests, the
benchmarks and the demo: the options block a user would write, pointed at the fake's URL
and carrying the fake's credentials.

    with ServerThread(fake.app) as server:
        target = connect("zoho", fake, server.url, rate=None)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import TypeAdapter

from ..config.connectors import TargetOptions
from ..connectors import TARGETS
from ..connectors.base import Target
from .fake_rest import rest_target_options

_OPTIONS = TypeAdapter(TargetOptions)


def target_options(kind: str, fake: Any, url: str, **overrides: Any) -> dict[str, Any]:
    """The `targets.<name>` block (as a dict) of a `kind` target talking to `fake` at `url`;
    `overrides` replace or add keys (rate, batch_size, retry …)."""
    blocks: dict[str, dict[str, Any]] = {
        "hubspot": {"token": "test-token", "base_url": url},
        "salesforce": {"login_url": url, "client_id": "cid", "refresh_token": "refresh-1"},
        "zoho": {
            "accounts_url": url,
            "client_id": "cid",
            "client_secret": "secret",
            "refresh_token": "refresh-1",
        },
        "bottlecrm": {"base_url": url, "token": getattr(fake, "token", "bcrm_pat_test")},
        "fxiaoke": {
            "app_id": getattr(fake, "app_id", "FSAID_test"),
            "app_secret": getattr(fake, "app_secret", "app-secret"),
            "permanent_code": getattr(fake, "permanent_code", "perm-code"),
            "open_user_id": "FSUID_admin",
            "base_url": url,
        },
        "kingdee": {
            "server_url": f"{url}/k3cloud/",
            "acct_id": getattr(fake, "acct_id", None),
            "user_name": "administrator",
            "app_id": getattr(fake, "app_id", None),
            "app_secret": getattr(fake, "app_secret", None),
        },
    }
    block = rest_target_options(url) if kind == "rest" else {"type": kind, **blocks[kind]}
    return {**block, **overrides}


def connect(
    kind: str,
    fake: Any,
    url: str,
    *,
    name: str | None = None,
    sleep: Callable[[float], None] | None = None,
    **overrides: Any,
) -> Target:
    """A `kind` target named `name` (default: `kind`) talking to `fake` at `url`;
    `sleep` goes to a target that paces itself (Fxiaoke), so tests need not wait."""
    options = _OPTIONS.validate_python(target_options(kind, fake, url, **overrides))
    extra = {"sleep": sleep} if sleep is not None else {}
    target: Target = TARGETS[kind](name or kind, options, **extra)
    return target
