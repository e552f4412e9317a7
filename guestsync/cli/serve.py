"""`guestsync serve`: the always-on service (webhooks, worker, scheduled jobs)."""

from __future__ import annotations

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
@pass_ctx
def serve(ctx: Ctx, host: str | None, port: int | None, no_worker: bool) -> None:
    """Run the webhook server, the inbox/outbox worker and the scheduled jobs until stopped.

    POST /webhooks/<source> for every source with a `webhook:` block (and every
    Jiandaoyun source with a `secret`); GET /healthz and /metrics. SIGTERM or Ctrl-C
    drains gracefully; a restart resumes where it stopped.
    """
    service = Service(
        load_config(ctx.config_path),
        host=host,
        port=port,
        worker=not no_worker,
        worker_process=True,  # its own GIL and core: the requests keep theirs (service.py)
    )
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    service.start()
    out.print(f"guestsync listening on {service.url}", highlight=False)
    for name, src in service.config.sources.items():
        if (hook := getattr(src, "webhook", None)) is not None:
            out.print(f"  POST {service.url}/webhooks/{name}  ({hook.scheme})", highlight=False)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        out.print("draining…", highlight=False)
        service.stop()
        out.print("stopped", highlight=False)
