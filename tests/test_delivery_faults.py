"""10,000 guests to each fake CRM through injected faults: nothing lost, nothing doubled.

10% 500s, 5% throttles (each vendor's own answer), 1% dropped connections, 1% replies
lost after the CRM processed the call, access tokens expiring every 25 calls (OAuth
targets), and 1% invalid records. Every valid guest must be in the CRM exactly once,
every invalid one a dead letter with the CRM's message, and a second run sends nothing.
Sleeps are injected: the test never waits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from guestsync.config.connectors import (
    DeliveryRetryOptions,
)
from guestsync.connectors.base import Target
from guestsync.delivery.batches import deliver
from guestsync.delivery.rate_budget import SharedRateLimiter
from guestsync.hashing import json_hash
from guestsync.models import Guest
from guestsync.store import Store
from guestsync.testing import (
    FakeBottleCrm,
    FakeHubSpot,
    FakeRestCrm,
    FakeSalesforce,
    FakeZoho,
    FaultPlan,
    ServerThread,
)
from guestsync.testing.harness import connect

N = 10_000
FAULTS = {"rate_500": 0.10, "rate_429": 0.05, "rate_drop": 0.01, "rate_lost": 0.01}


@dataclass
class Setup:
    target: Target
    crm: FakeHubSpot | FakeSalesforce | FakeZoho | FakeRestCrm | FakeBottleCrm
    count: Callable[[str], int]
    total: Callable[[], int]
    vendor_message: str  # what the CRM says about an invalid email
    n: int = N  # guests to deliver


@contextmanager
def hubspot(faults: FaultPlan) -> Iterator[Setup]:
    crm = FakeHubSpot(faults=faults)
    with ServerThread(crm.app) as srv:
        yield Setup(
            connect("hubspot", crm, srv.url),
            crm,
            lambda g: len(crm.find("guestsync_id", g)),
            lambda: len(crm.contacts),
            "is not a valid email address",
        )


@contextmanager
def salesforce(faults: FaultPlan) -> Iterator[Setup]:
    crm = FakeSalesforce(faults=faults, token_uses=25)
    with ServerThread(crm.app) as srv:
        yield Setup(
            connect("salesforce", crm, srv.url),
            crm,
            lambda g: len(crm.find(g)),
            lambda: len(crm.records),
            "INVALID_EMAIL_ADDRESS: Email: invalid email address",
        )


@contextmanager
def zoho(faults: FaultPlan) -> Iterator[Setup]:
    crm = FakeZoho(faults=faults, token_uses=25)
    with ServerThread(crm.app) as srv:
        yield Setup(
            connect("zoho", crm, srv.url),
            crm,
            lambda g: len(crm.find("Guestsync_ID", g)),
            lambda: len(crm.records),
            "INVALID_DATA: invalid data (Email)",
        )


@contextmanager
def rest(faults: FaultPlan) -> Iterator[Setup]:
    crm = FakeRestCrm(faults=faults)
    with ServerThread(crm.app) as srv:
        yield Setup(
            connect("rest", crm, srv.url),
            crm,
            lambda g: len(crm.find(g)),
            lambda: len(crm.records),
            "invalid email: m",
        )


# BottleCRM has no batch endpoint: ~3 requests per new contact, one at a time. 10,000 of
# them take minutes, so `make test` sends BOTTLECRM_N; the real-server e2e test
# (test_bottlecrm_e2e.py) checks exactly-once across faults and re-runs as well.
BOTTLECRM_N = 600


@contextmanager
def bottlecrm(faults: FaultPlan) -> Iterator[Setup]:
    crm = FakeBottleCrm(faults=faults)
    with ServerThread(crm.app) as srv:
        yield Setup(
            connect("bottlecrm", crm, srv.url),
            crm,
            lambda g: len(crm.find(g)),
            lambda: len(crm.contacts),
            "email: Enter a valid email address.",
            n=BOTTLECRM_N,
        )


def _fill(store: Store, target: Target, n: int) -> set[str]:
    """Queue n guests; every 100th has an email the CRM refuses. Returns those ids."""
    invalid = set()
    with store.atomic():
        for i in range(n):
            gid = f"guest-{i:05d}"
            g = Guest(id=gid, given_name="Mei", family_name=f"Lin{i}", email=f"m{i}@example.com")
            payload = target.project(g)
            if i % 100 == 37:
                invalid.add(gid)
                for key in payload:
                    if key.lower() == "email":
                        payload[key] = f"m{i}-at-example"
            store.enqueue(target.name, gid, payload, json_hash(payload))
    return invalid


@pytest.mark.parametrize(
    "make", [hubspot, salesforce, zoho, rest, bottlecrm], ids=lambda f: f.__name__
)
def test_10k_guests_arrive_exactly_once_through_faults(tmp_path: Path, make):
    store = Store.open(tmp_path / "hub.db")
    now = [0.0]
    waits: list[float] = []

    def sleep(s: float) -> None:  # a clock that moves only when we "sleep"
        waits.append(s)
        now[0] += s

    retry = DeliveryRetryOptions(max_attempts=8, initial_wait=0.5, max_wait=30)
    # The script makes sure a dropped connection and a lost reply happen early on.
    with make(FaultPlan(script=[None, "lost", None, "drop"], seed=11, **FAULTS)) as s:
        n = s.n
        invalid = _fill(store, s.target, n)
        pace = SharedRateLimiter(
            store, "acct", s.target.rate or 10, clock=lambda: now[0], sleep=sleep
        ).acquire
        runs = []
        for _ in range(5):  # a run gives up on a batch after 8 tries; the next goes on
            runs.append(deliver(store, s.target, retry, sleep=sleep, pace=pace))
            if not store.outbox_counts(s.target.name).get("pending"):
                break
        assert store.outbox_counts(s.target.name) == {
            "done": n - len(invalid),
            "dead": len(invalid),
        }
        assert s.crm.counts["500"] > 0 and s.crm.counts["429"] > 0 and s.crm.counts["lost"] > 0
        assert sum(r.retries for r in runs) > 0 and max(waits) > 0
        if isinstance(s.crm, FakeSalesforce | FakeZoho):  # OAuth: tokens expired, refreshed
            assert s.crm.counts["tokens_issued"] > 2

        # Every valid guest exactly once; every invalid one a dead letter with the message.
        assert s.total() == n - len(invalid)
        valid = [f"guest-{i:05d}" for i in range(n) if f"guest-{i:05d}" not in invalid]
        assert all(s.count(g) == 1 for g in valid)
        dead = store.dead_letters(target=s.target.name)
        assert {d.guest_id for d in dead} == invalid
        assert all(s.vendor_message in d.error for d in dead), dead[0].error
        assert store.count_crm_links(s.target.name) == n - len(invalid)

        # A second run sends nothing.
        before = s.crm.counts["requests"]
        again = deliver(store, s.target, retry, sleep=sleep, pace=pace)
        assert again.pushed == 0 and again.batches == 0
        assert s.crm.counts["requests"] == before
    store.close()
