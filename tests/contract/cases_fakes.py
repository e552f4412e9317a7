"""Contract harnesses for BottleCRM and the generic REST target, on local fakes.

BottleCRM also has an end-to-end test against a REAL django-crm (test_bottlecrm_e2e.py);
here it runs on `FakeBottleCrm`, which follows the same recorded shapes, so every
contract case runs in `make test` even where no Python 3.12 exists.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from guestsync.config.connectors import BottleCrmTargetOptions, RestTargetOptions
from guestsync.connectors import BottleCrmTarget, RestTarget
from guestsync.testing import FakeBottleCrm, FakeRestCrm, ServerThread, rest_target_options

from .harness import Harness, case


class FakeHarness:
    crm: FakeBottleCrm | FakeRestCrm

    def reject(self, guest_id: str, message: str) -> None:
        self.crm.reject[guest_id] = message

    def fail_next(self, kind: int | str) -> None:
        self.crm.faults.script.append(kind)

    def break_auth(self) -> None:
        self.crm.token = "revoked"

    def expire_token(self) -> None:
        pytest.skip(f"{self.crm.name} uses a static token that does not expire")


class BottleCrmHarness(FakeHarness):
    def __init__(self, crm: FakeBottleCrm, url: str) -> None:
        self.crm = crm
        options = BottleCrmTargetOptions(
            type="bottlecrm", base_url=url, token=crm.token, batch_size=10
        )
        self.target = BottleCrmTarget("bottlecrm", options)

    def count(self, guest_id: str) -> int:
        return len(self.crm.find(guest_id))

    def fields(self, guest_id: str) -> dict[str, Any]:
        return self.crm.contacts[self.crm.find(guest_id)[0]]


@case("bottlecrm")
def bottlecrm() -> Iterator[Harness]:
    crm = FakeBottleCrm()
    with ServerThread(crm.app) as server:
        yield BottleCrmHarness(crm, server.url)


class RestHarness(FakeHarness):
    def __init__(self, crm: FakeRestCrm, url: str) -> None:
        self.crm = crm
        options = RestTargetOptions.model_validate(rest_target_options(url, token=crm.token))
        self.target = RestTarget("rest", options)

    def count(self, guest_id: str) -> int:
        return len(self.crm.find(guest_id))

    def fields(self, guest_id: str) -> dict[str, Any]:
        return self.crm.records[self.crm.find(guest_id)[0]]["properties"]


@case("rest")
def rest() -> Iterator[Harness]:
    crm = FakeRestCrm()
    with ServerThread(crm.app) as server:
        yield RestHarness(crm, server.url)
