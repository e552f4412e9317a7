"""A store filled with generated duplicates, and a config with an admin token, for the
console's tests (tests/test_console_*.py)."""

from __future__ import annotations

from pathlib import Path

from guestsync.config import Config, load_config
from guestsync.delivery.batches import QUOTA_PAUSE
from guestsync.store import Store
from guestsync.testing.synthetic import rows, to_record

from .activity_fixtures import feed
from .conftest import write_config

TOKEN = "console-test-token-8f3a91"


def console_config(tmp_path: Path) -> Config:
    """The admin token set, no CRM reachable (nothing is delivered in these tests)."""
    path = write_config(
        tmp_path,
        f"""\
        store: {{path: hub.db}}
        server: {{admin_token: {TOKEN}}}
        sources: {{}}
        targets:
          hubspot: {{type: hubspot, token: x, base_url: "http://127.0.0.1:9"}}
        """,
    )
    return load_config(path)


def filled_store(config: Config, *, people: int = 150, seed: int = 3) -> Store:
    """Synthetic guests with realistic dirt, resolved: some pairs wait for review."""
    store = Store.open(config.store_path)
    feed(store, [to_record(r) for r, _ in rows(people, 3.0, seed=seed)])
    assert store.count_reviews() > 0
    return store


def add_trouble(store: Store, *, error: str) -> str:
    """A dead letter with the CRM's message and a quota-paused target, as delivery leaves
    them; returns the dead letter's guest id."""
    guest = next(iter(store.all_guests()))
    assert guest.id is not None
    with store.atomic():
        store.conn.execute(
            "INSERT INTO dead_letters (target, guest_id, payload, error, attempts, created_at)"
            " VALUES ('hubspot', ?, '{}', ?, 3, '2026-01-01T00:00:00+00:00')",
            (guest.id, error),
        )
        store.set_meta(QUOTA_PAUSE.format(target="hubspot"), "2999-01-01T00:00:00+00:00")
    return guest.id
