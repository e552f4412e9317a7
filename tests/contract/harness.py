"""The shared target contract: what a harness around one CRM target must offer.

Every target (HubSpot, Salesforce, Zoho, BottleCRM, generic REST, Fxiaoke, Kingdee, ...)
joins the contract suite with one module `tests/contract/cases_<target>.py` that defines a
context manager decorated with `@case("<name>")` and yielding a `Harness`. The suite
(`test_target_contract.py`) then runs every contract test against it. A harness method a
CRM cannot support raises `pytest.skip(...)` with the reason.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any, Protocol

from guestsync.connectors.base import Target
from guestsync.hashing import json_hash
from guestsync.models import Guest, OutboxItem


class Harness(Protocol):
    target: Target

    def count(self, guest_id: str) -> int:
        """How many CRM records hold this guest (the contract wants 0 or 1)."""
        ...

    def fields(self, guest_id: str) -> dict[str, Any]:
        """The CRM record of this guest as the CRM stores it."""
        ...

    def reject(self, guest_id: str, message: str) -> None:
        """Make the CRM refuse this one record (per-record error) with `message`."""
        ...

    def fail_next(self, kind: int | str) -> None:
        """The next API call fails: 429 (the vendor's throttle), 500, or "drop"."""
        ...

    def break_auth(self) -> None:
        """From now on the CRM refuses our credentials, even after a token refresh."""
        ...

    def expire_token(self) -> None:
        """Expire the current access token (the target must refresh it); may skip."""
        ...


CASES: dict[str, Callable[[], AbstractContextManager[Harness]]] = {}


def case(name: str):
    """Register a harness factory (a generator function) under `name`."""
    from contextlib import contextmanager

    def register(fn: Callable[[], Iterator[Harness]]):
        CASES[name] = contextmanager(fn)
        return fn

    return register


def item(target: Target, guest: Guest, *, item_id: int = 1) -> OutboxItem:
    payload = target.project(guest)
    return OutboxItem(item_id, target.name, guest.id or "", payload, json_hash(payload), 0, None)
