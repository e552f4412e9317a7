"""Contract harnesses for the Fxiaoke and Kingdee targets, each on its local fake server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from guestsync.testing import FakeFxiaoke, FakeKingdee, ServerThread
from guestsync.testing.harness import connect

from .harness import Harness, case


class FxiaokeHarness:
    def __init__(self, crm: FakeFxiaoke, url: str) -> None:
        self.crm = crm
        # the contract does not test pacing (test_fxiaoke_pacing.py does)
        self.target = connect("fxiaoke", crm, url, rate=None, sleep=lambda s: None)

    def count(self, guest_id: str) -> int:
        return len(self.crm.find("guestsync_id__c", guest_id))

    def fields(self, guest_id: str) -> dict[str, Any]:
        return self.crm.records["ContactObj"][self.crm.find("guestsync_id__c", guest_id)[0]]

    def reject(self, guest_id: str, message: str) -> None:
        self.crm.reject[guest_id] = message

    def fail_next(self, kind: int | str) -> None:
        self.crm.faults.script.append(kind)

    def break_auth(self) -> None:
        self.crm.app_secret = "rotated"
        self.crm.expire_tokens()

    def expire_token(self) -> None:
        self.crm.expire_tokens()


@case("fxiaoke")
def fxiaoke() -> Iterator[Harness]:
    crm = FakeFxiaoke()
    with ServerThread(crm.app) as server:
        yield FxiaokeHarness(crm, server.url)


class KingdeeHarness:
    def __init__(self, crm: FakeKingdee, url: str) -> None:
        self.crm = crm
        self.target = connect("kingdee", crm, url)

    def count(self, guest_id: str) -> int:
        return len(self.crm.find(f"GS{guest_id}"))

    def fields(self, guest_id: str) -> dict[str, Any]:
        return self.crm.customers[self.crm.find(f"GS{guest_id}")[0]]

    def reject(self, guest_id: str, message: str) -> None:
        self.crm.reject[f"GS{guest_id}"] = message

    def fail_next(self, kind: int | str) -> None:
        self.crm.faults.script.append(kind)

    def break_auth(self) -> None:
        self.crm.app_secret = "rotated"  # our signatures no longer verify

    def expire_token(self) -> None:
        pytest.skip("Kingdee signs every call with the app secret: no token to expire")


@case("kingdee")
def kingdee() -> Iterator[Harness]:
    crm = FakeKingdee()
    with ServerThread(crm.app) as server:
        yield KingdeeHarness(crm, server.url)
