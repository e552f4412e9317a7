"""PII masking reaches what `guestsync serve` writes: a worker error's traceback in the
log and the `last_error` that /healthz shows."""

from __future__ import annotations

import logging

from guestsync.config import load_config
from guestsync.metrics import Metrics
from guestsync.restaurant import privacy
from guestsync.serve.worker import Worker
from guestsync.sync_engine import Hub

from .webhook_signing import webhook_config

PII = "amy.lin@example.com / +886912345678"


def test_a_worker_error_is_masked_in_the_log_traceback_and_in_health(make_config, caplog):
    hub = Hub(load_config(make_config(webhook_config())))  # mask_logs is on by default
    assert privacy.installed()
    worker = Worker(hub, metrics=Metrics())

    def boom(**_):  # the worker passes progress=
        worker.stopping.set()  # one cycle only
        raise ValueError(f"cannot map guest {PII}")

    hub.process = boom  # type: ignore[method-assign]
    with caplog.at_level(logging.ERROR, logger="guestsync.serve.worker"):
        worker.run()
    hub.close()
    assert "worker step failed" in caplog.text and "Traceback" in caplog.text
    assert "a***@example.com" in caplog.text and "+88691****678" in caplog.text
    assert "amy.lin@" not in caplog.text and "912345678" not in caplog.text
    assert worker.last_error == "ValueError: cannot map guest a***@example.com / +88691****678"


def test_stack_info_is_masked_too(caplog):
    privacy.install_log_masking()
    with caplog.at_level(logging.INFO):
        logging.getLogger("guestsync.x").info("called for %s", "bob@example.com", stack_info=True)
    assert "b***@example.com" in caplog.text and "bob@example.com" not in caplog.text
