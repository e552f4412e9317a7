"""End to end against a REAL BottleCRM (django-crm 1.35.0) on 127.0.0.1, not a fake.

The first run installs django-crm into its own Python 3.12 venv and migrates a template
database (about 2 minutes, cached under .cache/bottlecrm/<version>/); later runs copy the
template and start in seconds. Skips, saying why, only where no Python >= 3.12 exists.

Faults injected: the server killed mid-run (back within the backoff, and down for the
rest of a run), and writes the server saved whose answer never reached us. Every guest
must land exactly once, across re-runs.
"""

from __future__ import annotations

import contextlib
import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from pydantic import SecretStr
from requests.adapters import HTTPAdapter

from guestsync.config import load_config
from guestsync.config.connectors import BottleCrmTargetOptions, DeliveryRetryOptions
from guestsync.connectors.base import CrmRef
from guestsync.connectors.bottlecrm import BottleCrmTarget
from guestsync.delivery.batches import deliver
from guestsync.errors import AuthError
from guestsync.hashing import json_hash
from guestsync.models import Guest
from guestsync.store import Store
from guestsync.sync_engine import Hub
from guestsync.testing import bottlecrm

ROOT = Path(__file__).resolve().parent.parent
RETRY = DeliveryRetryOptions(max_attempts=4, initial_wait=0, max_wait=0)


@pytest.fixture(scope="module")
def crm(tmp_path_factory) -> Iterator[tuple[bottlecrm.BottleCrmServer, str, str]]:
    try:
        python = bottlecrm.find_python312()
    except bottlecrm.Unavailable as exc:
        pytest.skip(str(exc))
    install = bottlecrm.ensure_installed(ROOT / ".cache" / "bottlecrm", python=python)
    server = bottlecrm.BottleCrmServer(install, tmp_path_factory.mktemp("bottlecrm"))
    server.spawn()
    try:
        first = server.devlogin()  # while the server boots
        server.wait_ready()
        jwt = server.login(first)
        yield server, server.create_token(jwt), jwt
    finally:
        server.stop()


class DropAfterSave(HTTPAdapter):
    """Sends every write, but loses the answer of every `every`-th one: the CRM has
    saved it, we see a connection reset (the classic duplicate maker)."""

    def __init__(self, every: int) -> None:
        super().__init__()
        self.every = every
        self.writes = 0
        self.dropped = 0

    def send(self, request, *args, **kwargs):
        resp = super().send(request, *args, **kwargs)
        if request.method in ("POST", "PATCH"):
            self.writes += 1
            if self.writes % self.every == 0:
                self.dropped += 1
                raise requests.ConnectionError("connection reset (injected, after save)")
        return resp


def _target(server, token, session=None) -> BottleCrmTarget:
    opts = BottleCrmTargetOptions(type="bottlecrm", base_url=server.url, token=token)
    return BottleCrmTarget("bottle", opts, session=session)


def _guests(n: int, *, run: str) -> list[Guest]:
    out = []
    for i in range(n):
        if i % 3 == 0:  # Taiwanese walk-ins: a phone, a Chinese name, no email
            g = Guest(id=f"{run}-{i}", full_name=f"陳小{chr(0x4E00 + i)}", phone=f"+8869120{i:05d}")
        else:
            g = Guest(
                id=f"{run}-{i}",
                given_name="Mei",
                family_name=f"Lin{i}",
                email=f"mei.{run}.{i}@example.com",
                allergies=["peanut"] if i % 5 == 0 else [],
            )
        out.append(g)
    return out


def _enqueue(store: Store, target: BottleCrmTarget, guests: list[Guest]) -> int:
    queued = 0
    with store.atomic():
        for g in guests:
            payload = target.project(g)
            queued += store.enqueue(target.name, g.id, payload, json_hash(payload))
    return queued


def _ours(server, token, run: str) -> Counter[str]:
    return Counter(
        c["source_ref"] for c in server.contacts(token) if (c["source_ref"] or "").startswith(run)
    )


def test_every_guest_lands_exactly_once_across_faults_and_reruns(crm, tmp_path):
    server, token, _ = crm
    store = Store.open(tmp_path / "hub.db")
    guests = _guests(24, run="faults")
    # A contact the restaurant created by hand before guestsync: matched by email, not
    # duplicated (email is unique per org).
    server.call(
        "POST",
        "/api/contacts/",
        token,
        {"first_name": "Mei", "last_name": "Lin1", "email": "MEI.faults.1@example.com"},
    )
    bad = Guest(id="faults-bad", given_name="Bad", family_name="Email", email="not-an-email")
    session = requests.Session()
    flaky = DropAfterSave(every=4)
    session.mount("http://", flaky)
    target = _target(server, token, session)
    assert _enqueue(store, target, [*guests, bad]) == 25

    # Run 1: the server dies after a few guests and comes back during the backoff. The
    # backoff is waited on a clock that moves only when delivery sleeps (a failing batch
    # waits in a backlog while others are tried: the sleep comes when none is left).
    restarts = []
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds
        if server.proc is None:
            server.start()
            restarts.append(seconds)

    calls = {"n": 0}
    original = flaky.send

    def send(request, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 9:
            server.stop()  # killed mid-run, by PID
        return original(request, *args, **kwargs)

    flaky.send = send
    backoff = RETRY.model_copy(update={"initial_wait": 1.0, "max_wait": 8.0})
    stats = deliver(store, target, backoff, sleep=sleep, clock=lambda: now[0])
    assert restarts, "the server was restarted during the backoff"
    assert flaky.dropped >= 3
    assert stats.stopped is None
    assert stats.pushed == 24 and stats.dead == 1
    [dead] = store.dead_letters(target="bottle")
    assert dead.guest_id == "faults-bad" and "Enter a valid email address" in dead.error

    ours = _ours(server, token, "faults")
    assert set(ours) == {g.id for g in guests}  # faults-1 adopted the hand-made contact
    assert max(ours.values()) == 1, f"duplicates: {ours.most_common(3)}"
    everyone = server.contacts(token)
    assert sum(1 for c in everyone if (c["email"] or "").lower() == "mei.faults.1@example.com") == 1

    # Run 2, nothing changed: nothing is queued and nothing is sent.
    assert _enqueue(store, target, guests) == 0
    assert deliver(store, target, RETRY).pushed == 0

    # Run 3: a few guests changed while the CRM is unreachable for the whole run (nothing
    # listens on its port; cheaper than another ~10 s boot): deferred and kept.
    changed = [g.model_copy(update={"notes": "VIP"}) for g in guests[:5]]
    assert _enqueue(store, target, changed) == 5
    down = BottleCrmTargetOptions(
        type="bottlecrm", base_url=f"http://127.0.0.1:{bottlecrm.free_port()}", token=token
    )
    stats = deliver(store, BottleCrmTarget("bottle", down), RETRY)
    assert stats.stopped and stats.pushed == 0
    assert store.outbox_counts("bottle")["pending"] == 5

    # Run 4: reachable again; the changes are PATCHed onto the same contacts.
    assert deliver(store, target, RETRY).pushed == 5
    after = {c["source_ref"]: c for c in server.contacts(token)}
    assert max(_ours(server, token, "faults").values()) == 1
    assert after["faults-0"]["description"] == "Notes: VIP"
    assert store.crm_id("bottle", "faults-0") == after["faults-0"]["id"]


def test_a_hub_that_lost_its_store_finds_its_contacts_again(crm, tmp_path):
    """A fresh store (crm_links gone) must not create everyone a second time."""
    server, token, _ = crm
    guests = _guests(6, run="lost")
    for path in ("a.db", "b.db"):
        store = Store.open(tmp_path / path)
        target = _target(server, token)
        _enqueue(store, target, guests)
        stats = deliver(store, target, RETRY)
        assert stats.pushed == 6
    ours = _ours(server, token, "lost")
    assert len(ours) == 6 and max(ours.values()) == 1


def test_merge_and_delete(crm):
    server, token, _ = crm
    target = _target(server, token)
    ids = {}
    for g in _guests(3, run="md"):
        payload = target.project(g)
        ids[g.id] = server.call("POST", "/api/contacts/", token, payload)["id"]
    keep, lose, forget = (CrmRef(gid, cid) for gid, cid in ids.items())
    assert target.merge(keep, lose).ok
    assert target.delete([forget])[0].ok
    assert target.delete([forget])[0].ok  # already gone is fine
    assert set(_ours(server, token, "md")) == {"md-0"}


def test_a_token_without_write_scope_stops_the_target(crm, tmp_path):
    server, _, jwt = crm
    read_only = server.create_token(jwt, scopes=("contacts:read",))
    store = Store.open(tmp_path / "hub.db")
    target = _target(server, read_only)
    _enqueue(store, target, _guests(3, run="auth"))
    stats = deliver(store, target, RETRY)
    assert stats.stopped and "credentials refused" in stats.stopped
    assert store.dead_letters() == [] and store.outbox_counts("bottle")["pending"] == 3


HUB_CONFIG = """\
store: {{path: hub.db}}
sources:
  pos: {{type: csv, paths: [pos/*.csv], mapping: mappings/booking_zh.yaml}}
targets:
  bottle:
    type: bottlecrm
    base_url: {url}
    token: ${{BOTTLECRM_TOKEN}}
    retry: {{max_attempts: 4, initial_wait: 0, max_wait: 0}}
"""


def test_sync_from_a_chinese_pos_export_through_the_hub(crm, make_config, tmp_path):
    """The whole pipeline from guestsync.yaml: CSV -> mapping -> dedupe -> BottleCRM."""
    server, token, _ = crm
    (tmp_path / "pos").mkdir()
    shutil.copy(ROOT / "config" / "samples" / "pos_export_zh.csv", tmp_path / "pos")
    config = load_config(
        make_config(HUB_CONFIG.format(url=server.url)), environ={"BOTTLECRM_TOKEN": token}
    )
    hub = Hub(config, sleep=lambda s: None)
    first = hub.sync()
    [d] = first.deliveries
    assert d.pushed == first.guests_total > 0 and d.dead == 0 and d.stopped is None
    ids = {g.id for g in hub.store.all_guests()}
    by_ref = Counter(c["source_ref"] for c in server.contacts(token))
    assert all(by_ref[i] == 1 for i in ids)
    ming = next(c for c in server.contacts(token) if c["email"] == "ming.chen@example.com")
    assert (ming["first_name"], ming["last_name"]) == ("小明", "陳")
    assert ming["phone_e164"] == "+886912345678" and ming["country"] == "TW"
    second = hub.sync()
    assert second.deliveries[0].pushed == 0
    hub.close()


def test_aggregates_and_consent_land_in_defined_custom_fields(crm):
    """Issue 8: the BottleCRM defaults write `custom_fields{}`; keys the org defined are
    stored (typed), the others are dropped by the CRM without failing the contact."""
    from guestsync.restaurant import hooks

    from .activity_fixtures import feed, settings
    from .test_aggregates import AMY_RECORDS

    server, token, jwt = crm
    for key, ftype in (("gs_visit_count", "number"), ("gs_segment", "text")):
        body = {"target_model": "Contact", "key": key, "label": key, "field_type": ftype}
        with contextlib.suppress(RuntimeError):  # defined already by another test
            server.call("POST", "/api/custom-fields/", jwt, body)
    store = Store.open(":memory:")
    target = _target(server, token)
    hooks.attach(store, settings(target_types={"bottle": "bottlecrm"}))
    feed(
        store,
        AMY_RECORDS,
        targets={"bottle": target},
        activity=settings(target_types={"bottle": "bottlecrm"}),
    )
    stats = deliver(store, target, RETRY, sleep=lambda s: None)
    assert stats.pushed == 1 and stats.dead == 0
    amy = next(c for c in server.contacts(token) if c["email"] == "amy@example.com")
    cf = amy["custom_fields"]
    assert cf["gs_visit_count"] == 3.0 and cf["gs_segment"] == "regular"


def test_targets_setup_create_defines_the_custom_fields(crm, make_config):
    """`targets setup --create` defines every listed key on Contact; a second run finds
    them; a token limited to contacts is refused plainly."""
    from click.testing import CliRunner

    from guestsync.actions.crm_setup import create_bottlecrm, required
    from guestsync.cli import cli

    server, token, jwt = crm
    admin = server.create_token(jwt, scopes=())  # no scope list: the owner's rights
    cfg = make_config(
        f"store: {{path: hub.db}}\ntargets:\n  bottle:\n    type: bottlecrm\n"
        f"    base_url: {server.url}\n    token: {admin}\n"
    )
    result = CliRunner().invoke(cli, ["-c", str(cfg), "targets", "setup", "--create"])
    assert result.exit_code == 0, result.output
    assert "gs_no_show_rate: created" in result.output
    defs = server.call("GET", "/api/custom-fields/?target_model=Contact", jwt)["definitions"]
    types = {d["key"]: d["field_type"] for d in defs}
    assert types["gs_no_show_rate"] == "number" and types["gs_email_opt_in"] == "checkbox"
    assert types["gs_upcoming_birthday"] == "date"
    again = CliRunner().invoke(cli, ["-c", str(cfg), "targets", "setup", "--create"])
    assert again.exit_code == 0 and "created" not in again.output
    opts = load_config(cfg).targets["bottle"].model_copy(update={"token": SecretStr(token)})
    with pytest.raises(AuthError):  # contacts:read/write only
        create_bottlecrm(opts, required(load_config(cfg)))
