"""The delivery engine's promises hold for the targets built apart from it (BottleCRM on
its fake, generic REST): `sync --dry-run`, dead letters with the CRM's own reason,
`dead-letters retry`, `outbox`, one clear stop on refused credentials, the give-up limit,
and the shared rate budget paced per HTTP request. Through the CLI and config, as a user
runs them. (BottleCRM against a real django-crm: test_bottlecrm_e2e.py.)
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from guestsync.cli import cli, main
from guestsync.config import load_config
from guestsync.store import Store
from guestsync.sync_engine import Hub
from guestsync.testing import FakeBottleCrm, FakeRestCrm, ServerThread, rest_target_options

from .conftest import SAMPLES

RETRY = {"max_attempts": 3, "initial_wait": 0, "max_wait": 0}


def _bottlecrm(url: str, **kw: Any) -> dict[str, Any]:
    return {
        "type": "bottlecrm",
        "base_url": url,
        "token": "bcrm_pat_test",
        "batch_size": 10,
        "retry": RETRY,
        **kw,
    }


def _rest(url: str, **kw: Any) -> dict[str, Any]:
    return rest_target_options(url, **{"retry": RETRY, **kw})


FAKES = {"bottlecrm": (FakeBottleCrm, _bottlecrm), "rest": (FakeRestCrm, _rest)}


class Setup:
    def __init__(self, kind: str, crm: Any, url: str, make_config, bookings: Path) -> None:
        self.kind, self.crm, self.url, self.bookings = kind, crm, url, bookings
        self.make_config = make_config
        self.cfg = self.configure()

    def configure(self, **target: Any) -> Path:
        block = FAKES[self.kind][1](self.url, **target)
        return self.make_config(
            "store: {path: hub.db}\n"
            "sources:\n"
            "  site: {type: csv, paths: [bookings/*.csv], mapping: mappings/booking_en.yaml}\n"
            f"targets: {json.dumps({'crm': block})}\n"
        )

    def count(self, guest_id: str) -> int:
        return len(self.crm.find(guest_id))

    def total(self) -> int:
        return len(getattr(self.crm, "contacts", None) or getattr(self.crm, "records", {}))

    def run(self, *args: str):
        return CliRunner().invoke(cli, ["-c", str(self.cfg), *args], catch_exceptions=False)

    def pending(self) -> list[str]:
        store = Store.open(load_config(self.cfg).store_path)
        try:
            return [i.guest_id for i in store.pending_outbox("crm", limit=100)]
        finally:
            store.close()


@pytest.fixture(params=sorted(FAKES))
def setup(request, make_config, tmp_path: Path) -> Iterator[Setup]:
    d = tmp_path / "bookings"
    d.mkdir()
    shutil.copy(SAMPLES / "booking_site.csv", d / "site.csv")
    crm = FAKES[request.param][0]()
    with ServerThread(crm.app) as server:
        yield Setup(request.param, crm, server.url, make_config, d)


def test_dry_run_reports_creates_and_sends_nothing(setup: Setup):
    result = setup.run("sync", "--dry-run", "--target", "crm")
    assert "crm: 13 to create, 0 to update, 0 to merge, 0 to delete" in result.output
    assert "kevin@example.com" in result.output
    assert setup.crm.counts["requests"] == 0 and setup.total() == 0
    assert len(setup.pending()) == 13  # nothing was marked delivered

    assert setup.run("sync").exit_code == 0
    assert setup.total() == 13 and setup.pending() == []


def test_rejected_guest_is_a_dead_letter_with_the_crms_reason_then_retried(setup: Setup):
    setup.run("sync", "--no-deliver")
    victim = setup.pending()[3]
    setup.crm.reject[victim] = "Custom validation: guest is on the blocklist"
    setup.run("sync")
    assert setup.total() == 12 and setup.count(victim) == 0
    listed = setup.run("dead-letters", "list", "--target", "crm")
    assert victim in listed.output and "blocklist" in listed.output
    dl_id = next(line for line in listed.output.splitlines() if victim in line).split()[0]
    assert "blocklist" in setup.run("dead-letters", "show", dl_id).output

    outbox = setup.run("outbox")
    assert outbox.exit_code == 0 and "crm" in outbox.output

    del setup.crm.reject[victim]
    assert "1 dead letter(s) re-queued" in setup.run("dead-letters", "retry", "--all").output
    setup.run("sync")
    assert setup.count(victim) == 1 and setup.total() == 13
    assert victim not in setup.run("dead-letters", "list").output


def test_refused_credentials_stop_the_target_once_and_dead_letter_nothing(setup: Setup):
    setup.crm.token = "rotated"
    result = setup.run("sync")
    assert "credentials refused" in result.output
    assert result.output.count("credentials refused") == 1
    assert len(setup.pending()) == 13
    assert setup.run("dead-letters", "list").output.startswith("0 dead letter(s)")


def test_a_crm_down_for_good_turns_records_into_dead_letters_after_the_give_up_limit(
    setup: Setup,
):
    setup.cfg = setup.configure(retry={**RETRY, "give_up_after_attempts": 2})
    setup.crm.faults.rate_500 = 1.0
    # A run stops at the first batch that keeps failing (the CRM is down), so later
    # batches start counting attempts once the earlier ones are dead letters.
    for _ in range(5):
        setup.run("sync")
    assert setup.pending() == []
    listed = setup.run("dead-letters", "list", "--target", "crm").output
    assert "gave up after 2 failed attempt(s)" in listed and "HTTP 500" in listed
    assert setup.total() == 0


def test_the_shared_rate_budget_is_taken_for_every_http_request(setup: Setup):
    setup.cfg = setup.configure(rate=2.0, rate_account="one-account")
    now = [1_000_000.0]
    slept: list[float] = []

    def sleep(s: float) -> None:
        slept.append(s)
        now[0] += s

    hub = Hub(load_config(setup.cfg), sleep=sleep, clock=lambda: now[0])
    try:
        summary = hub.sync()
        assert summary.deliveries[0].pushed == 13
        calls = setup.crm.counts["api_calls"]
        assert calls >= 1
        # One token per request at 2/s (x0.97 safety): the first is free.
        assert sum(slept) == pytest.approx((calls - 1) / (2.0 * 0.97), rel=0.01)
    finally:
        hub.close()


def test_targets_writing_to_one_account_share_one_budget_by_default(setup: Setup):
    """Two schedules' targets for the same CRM server and credentials, named differently,
    draw on one budget without `rate_account`; another token is another account."""
    make = FAKES[setup.kind][1]
    blocks = {
        "a": make(setup.url, rate=2.0),
        "b": make(setup.url, rate=2.0),
        "other": make(setup.url.replace("127.0.0.1", "localhost"), rate=2.0),
    }
    cfg = setup.make_config(f"store: {{path: hub.db}}\ntargets: {json.dumps(blocks)}\n")
    now = [1_000_000.0]
    slept: list[float] = []

    def sleep(s: float) -> None:
        slept.append(s)
        now[0] += s

    hub = Hub(load_config(cfg), sleep=sleep, clock=lambda: now[0])
    try:
        a, b, other = (hub.pacer(n) for n in ("a", "b", "other"))
        assert a is not None and b is not None and other is not None
        a(), b()  # the second waits for the first's token: one budget
        other()  # its own budget: no wait
        assert len(slept) == 1 and slept[0] == pytest.approx(1 / (2.0 * 0.97))
    finally:
        hub.close()


def test_dry_run_json_carries_the_plan_and_an_unknown_target_is_a_clear_error(setup: Setup, capsys):
    result = setup.run("sync", "--dry-run", "--json")
    report = json.loads(result.output)
    (plan,) = report["dry_run"]
    assert plan["target"] == "crm" and len(plan["creates"]) == 13
    assert setup.crm.counts["requests"] == 0

    with pytest.raises(SystemExit) as exc:
        main(["-c", str(setup.cfg), "sync", "--target", "nope"])
    assert exc.value.code == 2
    assert "unknown target 'nope' (known: crm)" in capsys.readouterr().err


def test_dry_run_shows_merges_and_says_when_the_crm_cannot_merge(setup: Setup):
    setup.run("sync")
    store = Store.open(load_config(setup.cfg).store_path)
    keep, lose = (g.id or "" for g in list(store.stream_guests())[:2])
    assert store.crm_id("crm", keep) and store.crm_id("crm", lose)
    with store.atomic():
        store.record_guest_merge(keep, lose)
    store.close()
    result = setup.run("sync", "--dry-run")
    assert "1 to merge" in result.output and f"merge {lose}" in result.output
    warned = "crm cannot merge contacts" in result.output
    assert warned == (setup.kind == "rest")  # BottleCRM merges; the generic REST CRM cannot
