from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from guestsync.testing import FakeHubSpot, FaultPlan, ServerThread

from .pg_fixtures import (  # noqa: F401 (fixtures)
    _every_store_on_postgresql,
    any_store,
    pg_server,
    pg_url,
    store,
    store_url,
)

ROOT = Path(__file__).resolve().parent.parent
MAPPINGS = ROOT / "config" / "mappings"
SAMPLES = ROOT / "config" / "samples"


@pytest.fixture
def fake_hubspot() -> Iterator[tuple[FakeHubSpot, ServerThread]]:
    crm = FakeHubSpot(token="test-token", faults=FaultPlan())
    with ServerThread(crm.app) as server:
        yield crm, server


# one CSV source (site.csv, the English booking profile) and a HubSpot target nowhere
SITE_CSV_CONFIG = """\
store: {path: hub.db}
sources:
  site: {type: csv, paths: [site.csv], mapping: mappings/booking_en.yaml}
targets:
  hubspot: {type: hubspot, token: x, base_url: "http://127.0.0.1:9"}
"""


def write_config(tmp_path: Path, body: str) -> Path:
    """Write guestsync.yaml into tmp_path, with the bundled mappings and samples beside it."""
    (tmp_path / "mappings").mkdir(exist_ok=True)
    for m in MAPPINGS.glob("*.yaml"):
        (tmp_path / "mappings" / m.name).write_text(m.read_text("utf-8"), "utf-8")
    path = tmp_path / "guestsync.yaml"
    path.write_text(textwrap.dedent(body), "utf-8")
    return path


@pytest.fixture
def make_config(tmp_path: Path):
    return lambda body: write_config(tmp_path, body)


def slice_config(url: str, *, paths: str = "[bookings/*.csv]", batch_size: int = 100) -> str:
    return f"""\
        store: {{path: hub.db}}
        sources:
          site:
            type: csv
            paths: {paths}
            mapping: mappings/booking_en.yaml
        targets:
          hubspot:
            type: hubspot
            token: test-token
            base_url: {url}
            batch_size: {batch_size}
            retry: {{max_attempts: 10, initial_wait: 0, max_wait: 0}}
        """
