"""Contract harnesses for HubSpot, Salesforce and Zoho, each on its local fake server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from guestsync.testing import FakeHubSpot, FakeSalesforce, FakeZoho, ServerThread
from guestsync.testing.harness import connect

from .harness import Harness, case


class HubSpotHarness:
    def __init__(self, crm: FakeHubSpot, url: str) -> None:
        self.crm = crm
        self.target = connect("hubspot", crm, url)

    def count(self, guest_id: str) -> int:
        return len(self.crm.find("guestsync_id", guest_id))

    def fields(self, guest_id: str) -> dict[str, Any]:
        return self.crm.contacts[self.crm.find("guestsync_id", guest_id)[0]]

    def reject(self, guest_id: str, message: str) -> None:
        self.crm.reject[guest_id] = message

    def fail_next(self, kind: int | str) -> None:
        self.crm.faults.script.append(kind)

    def break_auth(self) -> None:
        self.crm.token = "revoked"

    def expire_token(self) -> None:
        pytest.skip("HubSpot private-app tokens do not expire")


@case("hubspot")
def hubspot() -> Iterator[Harness]:
    crm = FakeHubSpot()
    with ServerThread(crm.app) as server:
        yield HubSpotHarness(crm, server.url)


class OAuthHarness:
    crm: FakeSalesforce | FakeZoho

    def reject(self, guest_id: str, message: str) -> None:
        self.crm.reject[guest_id] = message

    def fail_next(self, kind: int | str) -> None:
        self.crm.faults.script.append(kind)

    def break_auth(self) -> None:
        self.crm.refresh_token = "revoked"
        self.crm.expire_tokens()

    def expire_token(self) -> None:
        self.crm.expire_tokens()


class SalesforceHarness(OAuthHarness):
    def __init__(self, crm: FakeSalesforce, url: str) -> None:
        self.crm = crm
        self.target = connect("salesforce", crm, url)

    def count(self, guest_id: str) -> int:
        return len(self.crm.find(guest_id))

    def fields(self, guest_id: str) -> dict[str, Any]:
        return self.crm.records[self.crm.find(guest_id)[0]]


@case("salesforce")
def salesforce() -> Iterator[Harness]:
    crm = FakeSalesforce()
    with ServerThread(crm.app) as server:
        yield SalesforceHarness(crm, server.url)


class ZohoHarness(OAuthHarness):
    def __init__(self, crm: FakeZoho, url: str) -> None:
        self.crm = crm
        self.target = connect("zoho", crm, url)

    def count(self, guest_id: str) -> int:
        return len(self.crm.find("Guestsync_ID", guest_id))

    def fields(self, guest_id: str) -> dict[str, Any]:
        return self.crm.records[self.crm.find("Guestsync_ID", guest_id)[0]]


@case("zoho")
def zoho() -> Iterator[Harness]:
    crm = FakeZoho()
    with ServerThread(crm.app) as server:
        yield ZohoHarness(crm, server.url)
