"""`make demo`: the whole pipeline on bundled sample data against a local fake HubSpot.

Two booking exports (an English booking site and a POS export with Chinese headers, with
overlapping guests in different phone and email spellings) go through ingest, mapping,
dedupe and delivery to a fake HubSpot on 127.0.0.1 that answers some calls with 429 and
500. The store and the fake CRM's contacts live in .demo/, so a second `make demo` finds
nothing changed and pushes nothing.
"""

from __future__ import annotations

import os
from pathlib import Path

from rich.console import Console
from rich.table import Table

from .cli.core import print_summary
from .config import load_config
from .sync_engine import Hub
from .testing import FakeHubSpot, FaultPlan, ServerThread

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "config" / "guestsync.yaml"
STATE = ROOT / ".demo"


def main() -> None:
    console = Console()
    STATE.mkdir(exist_ok=True)
    faults = FaultPlan(script=[429, None, 500], rate_429=0.2, rate_500=0.15, seed=2026)
    crm = FakeHubSpot(token="demo-token", faults=faults, state_path=STATE / "fake_hubspot.json")
    contacts_before = len(crm.contacts)
    with ServerThread(crm.app) as server:
        os.environ["HUBSPOT_TOKEN"] = "demo-token"
        os.environ["HUBSPOT_BASE_URL"] = server.url
        console.print(f"fake HubSpot listening on {server.url} (injecting 429s and 500s)")
        hub = Hub(load_config(CONFIG))
        try:
            first = hub.sync()
            print_summary(first, console)
            console.print("second pass, nothing changed in the sources:")
            second = hub.sync()
            print_summary(second, console)
            inbox = hub.store.inbox_counts()
            guests = hub.store.count_guests()
        finally:
            hub.close()
    pushed = sum(d.pushed for d in first.deliveries + second.deliveries)
    retries = sum(d.retries for d in first.deliveries + second.deliveries)
    t = Table(title="guestsync demo")
    t.add_column("what")
    t.add_column("count", justify="right")
    t.add_row("source rows stored (all runs)", str(sum(inbox.values())))
    t.add_row("  of which rejected (see above; fix and replay)", str(inbox.get("error", 0)))
    t.add_row("guests after dedupe", str(guests))
    t.add_row("contacts in the CRM before this demo", str(contacts_before))
    t.add_row("contacts in the CRM now", str(len(crm.contacts)))
    t.add_row("contacts pushed by this demo", str(pushed))
    t.add_row("retries made (429/500 injected by the fake)", str(retries))
    t.add_row("faults the fake injected", str(crm.counts["429"] + crm.counts["500"]))
    console.print(t)
    if pushed == 0:
        console.print("[green]No guest changed since the last run: nothing was pushed.[/]")
    console.print(f"State kept in {STATE}; `make demo-clean` starts over.")


if __name__ == "__main__":
    main()
