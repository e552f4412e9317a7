"""`guestsync serve` runs the `schedule:` jobs (scheduler.py) beside the webhook worker:
a scheduled source's run imports, processes and delivers, taking turns with the worker;
a target whose delivery stopped rests instead of being called every worker cycle."""

from __future__ import annotations

import io
import shutil
import time
from datetime import datetime
from zoneinfo import ZoneInfo

from rich.console import Console

from guestsync.cli.status_tables import print_service_status
from guestsync.config import load_config
from guestsync.metrics import Metrics
from guestsync.serve.service import Service
from guestsync.serve.worker import Worker
from guestsync.store import Store
from guestsync.sync_engine import Hub
from guestsync.testing import FakeHubSpot, FaultPlan, ServerThread
from guestsync.webhook_server import create_app

from .conftest import SAMPLES
from .webhook_signing import hmac_headers, sample, webhook_config


def test_serve_runs_the_scheduled_jobs_and_the_worker_together(make_config, tmp_path):
    (tmp_path / "bookings").mkdir()
    shutil.copy(SAMPLES / "booking_site.csv", tmp_path / "bookings" / "site.csv")
    fake = FakeHubSpot(token="test-token", faults=FaultPlan())
    with ServerThread(fake.app) as crm:
        cfg = make_config(
            f"""\
            store: {{path: hub.db}}
            sources:
              site:
                type: csv
                paths: [bookings/*.csv]
                mapping: mappings/booking_en.yaml
                schedule: "0 3 * * *"
            targets:
              hubspot:
                type: hubspot
                token: test-token
                base_url: {crm.url}
                retry: {{max_attempts: 10, initial_wait: 0, max_wait: 0}}
            server: {{worker_interval: 0.05}}
            """
        )
        service = Service(load_config(cfg), port=0).start()
        try:
            assert service.scheduler is not None
            job = service.scheduler.get_job("source:site")
            assert job is not None and job.next_run_time.hour == 3
            job.modify(next_run_time=datetime.now(ZoneInfo("UTC")))  # run it now
            store = Store.open(service.config.store_path)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                runs = [r for r in store.runs(limit=10) if r["kind"] == "schedule:source:site"]
                if runs and runs[0]["status"] != "running" and fake.contacts:
                    break
                time.sleep(0.05)
            assert runs and runs[0]["status"] in ("ok", "partial"), runs
            guests = store.count_guests()
            assert guests > 0
            store.close()
            # the worker delivers what the job processed, and counts it once deliver returns
            wanted = (
                'guestsync_run_seconds_count{stage="schedule"} 1.0',
                f'guestsync_deliveries_total{{target="hubspot"}} {guests}.0',
            )
            while time.monotonic() < deadline:
                text = service.metrics.render().decode()
                if all(w in text for w in wanted):
                    break
                time.sleep(0.05)
            assert all(w in text for w in wanted), text
        finally:
            service.stop(timeout=10)
    assert len(fake.contacts) == guests  # each guest pushed once
    emails = [c.get("email") for c in fake.contacts.values() if c.get("email")]
    assert len(emails) == len(set(emails))

    # `guestsync status`: the source's last scheduled run and last arrival, the queues
    from click.testing import CliRunner

    from guestsync.cli import cli

    result = CliRunner().invoke(cli, ["-c", str(cfg), "status"])
    assert result.exit_code == 0, result.output
    assert "review queue: 0 pair(s)" in result.output
    wide = Console(file=io.StringIO(), width=240)  # the CLI's console may be narrow
    store = Store.open(tmp_path / "hub.db")
    print_service_status(wide, store, ["site"])
    store.close()
    text = wide.file.getvalue()
    site = next(line for line in text.splitlines() if line.startswith("│ site"))
    # times are shown in the zone given (issue 24: defaults.timezone under `status`)
    from guestsync.cli.timefmt import local

    assert local(runs[0]["started_at"], "UTC") in site and runs[0]["status"] in site


def test_a_stopped_target_rests_instead_of_being_called_every_cycle(make_config):
    fake = FakeHubSpot(token="test-token", faults=FaultPlan())
    with ServerThread(fake.app) as crm:
        text = webhook_config(crm.url).replace("token: test-token", "token: revoked-token")
        hub = Hub(load_config(make_config(text)))
        client = create_app(hub.config, store=hub.store).test_client()
        body = sample("generic_booking.json")
        resp = client.post(
            "/webhooks/zap", data=body, headers=hmac_headers(body), content_type="application/json"
        )
        assert resp.status_code == 202
        now = [0.0]
        worker = Worker(hub, metrics=Metrics(), clock=lambda: now[0])
        worker.step()
        refused = fake.counts["401"]
        assert refused >= 1 and worker.notes() == {"paused_targets": {"hubspot": 30}}
        for t in (1.0, 10.0, 29.0):  # worker cycles within the 30 s pause: no CRM call
            now[0] = t
            worker.step()
        assert fake.counts["401"] == refused
        now[0] = 31.0  # the pause is over: one more try, refused again, pause doubles
        worker.step()
        assert fake.counts["401"] > refused
        assert worker.paused["hubspot"] == (91.0, 60.0)
        fake.token = "revoked-token"  # the CRM accepts the token again
        now[0] = 92.0
        worker.step()
        assert "hubspot" not in worker.paused and worker.notes() == {}
        assert len(fake.contacts) == 1
        assert hub.store.outbox_counts("hubspot").get("pending", 0) == 0
        hub.close()
