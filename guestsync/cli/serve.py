"""`guestsync serve`: the always-on service (webhooks, worker, scheduled jobs)."""

from __future__ import annotations

import os
import signal
import threading

import click

from ..config import load_config
from ..serve.service import Service
from .app import Ctx, cli, out, pass_ctx


@cli.command()
@click.option("--host", help="Bind address (default: server.host, 127.0.0.1).")
@click.option("--port", type=int, help="Port (default: server.port, 8080; 0 = any free).")
@click.option("--no-worker", is_flag=True, help="Only receive webhooks; do not process.")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=lambda: os.cpu_count() or 1,
    show_default="the number of cores",
    help="Intake processes answering webhooks on the one port (granian; POSIX).",
)
@pass_ctx
def serve(ctx: Ctx, host: str | None, port: int | None, no_worker: bool, workers: int) -> None:
    """Run the webhook server, the inbox/outbox worker and the scheduled jobs until stopped.

    POST /webhooks/<source> for every source with a `webhook:` block (and every
    Jiandaoyun source with a `secret`); GET /healthz and /metrics. `--workers` intake
    processes share the port; the worker is a process of its own. SIGTERM or Ctrl-C
    drains within a few seconds; what waits is kept, and a restart resumes there.
    """
    service = Service(
        load_config(ctx.config_path),
        host=host,
        port=port,
        worker=not no_worker,
        worker_process=True,  # its own GIL and core: the requests keep theirs (service.py)
        # granian runs one process on Windows: serve answers in-process there (waitress)
        workers=workers if os.name == "posix" else None,
    )
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    service.start()
    out.print(f"guestsync listening on {service.url}", highlight=False)
    for name, src in service.config.sources.items():
        if (hook := getattr(src, "webhook", None)) is not None:
            out.print(f"  POST {service.url}/webhooks/{name}  ({hook.scheme})", highlight=False)
    failed = False
    try:
        while not stop.wait(0.5):
            if service.intake is not None and not service.intake.alive():
                out.print("the intake processes exited (see the log above)", highlight=False)
                failed = True
                break
    finally:
        out.print("draining…", highlight=False)
        service.stop()
        out.print("stopped", highlight=False)
    if failed:
        raise SystemExit(1)
