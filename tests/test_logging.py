"""Logging is configured once (issue 24): `--log-level`/`--log-format` or their environment
variables; JSON lines when stderr is not a terminal; an access log for `serve` without
query strings, headers or bodies; emails and phones masked on every handler."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest
import requests
from click.testing import CliRunner
from werkzeug.test import Client

from guestsync.cli import cli
from guestsync.restaurant import privacy
from guestsync.serve import logs
from guestsync.serve.wsgi import AccessLog

from .webhook_signing import hmac_headers, webhook_config


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    yield
    for h in root.handlers:
        if h not in handlers:
            root.removeHandler(h)
    root.setLevel(level)


def test_json_lines_carry_extras_and_mask_pii(capsys):
    privacy.install_log_masking()
    logs.configure("info", "json")
    logging.getLogger("guestsync.test").warning(
        "guest %s not pushed", "amy.lin@example.com", extra={"target": "hubspot", "n": 3}
    )
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert line["level"] == "warning" and line["logger"] == "guestsync.test"
    assert line["msg"] == "guest a***@example.com not pushed"
    assert line["target"] == "hubspot" and line["n"] == 3 and line["ts"].endswith("+00:00")


def test_a_record_made_outside_the_masking_factory_is_masked_by_the_handler(capsys):
    """A library's own LogRecord (makeLogRecord bypasses the factory) is masked too."""
    privacy.install_log_masking()
    handler = logs.configure("info", "text")
    record = logging.makeLogRecord({"msg": "call +886912345678", "levelno": 30})
    handler.handle(record)
    err = capsys.readouterr().err
    assert "+88691****678" in err and "912345678" not in err


def test_configured_twice_logs_once(capsys):
    logs.configure("info", "json")
    logs.configure("info", "json")
    logging.getLogger("guestsync.test").warning("once")
    assert capsys.readouterr().err.count('"once"') == 1


def test_cli_takes_level_and_format_from_options_and_environment(tmp_path):
    runner = CliRunner()
    result = runner.invoke(cli, ["--log-level", "DEBUG", "--log-format", "json", "schema"])
    assert result.exit_code == 0 and logs.current() == ("debug", "json")
    assert logging.getLogger().level == logging.DEBUG
    env = {logs.LEVEL_ENV: "error", logs.FORMAT_ENV: "text"}
    assert runner.invoke(cli, ["schema"], env=env).exit_code == 0
    assert logs.current() == ("error", "text")
    assert runner.invoke(cli, ["schema"], env={logs.LEVEL_ENV: "", logs.FORMAT_ENV: ""})
    assert logs.current() == ("warning", "auto")  # a one-shot command logs only trouble


def test_a_bad_log_level_is_a_usage_error_not_a_crash():
    result = CliRunner().invoke(cli, ["--log-level", "loud", "schema"])
    assert result.exit_code == 2 and "loud" in result.output


def test_access_log_has_method_path_status_ms_source_and_no_query_or_body(caplog):
    def app(environ, start_response):
        environ["wsgi.input"].read()
        start_response("202 Accepted", [("Content-Type", "application/json")])
        return [b"{}"]

    ticks = iter([1.0, 1.0125])
    client = Client(AccessLog(app, clock=lambda: next(ticks)))
    with caplog.at_level(logging.INFO, logger="guestsync.access"):
        client.post("/webhooks/zap?token=s3cret", data=b'{"email": "amy@example.com"}')
    (rec,) = caplog.records
    assert (rec.method, rec.path, rec.status, rec.ms, rec.source) == (  # type: ignore[attr-defined]
        "POST",
        "/webhooks/zap",
        202,
        12.5,
        "zap",
    )
    assert "s3cret" not in caplog.text and "amy" not in caplog.text


def test_serve_writes_json_access_lines_to_stderr_when_not_a_terminal(make_config):
    config = make_config(webhook_config())
    env = {k: v for k, v in os.environ.items() if not k.startswith("GUESTSYNC_LOG")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "guestsync.cli", "-c", str(config), "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**env, "COLUMNS": "200"},
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip().rsplit(" ", 1)[-1]
        body = json.dumps({"id": "z1", "email": "amy.lin@example.com"}).encode()
        headers = hmac_headers(body) | {"Content-Type": "application/json"}
        answer = requests.post(f"{url}/webhooks/zap?k=s3cret", data=body, headers=headers)
        assert answer.status_code == 202
        assert requests.get(f"{url}/healthz", timeout=5).status_code in (200, 503)
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    lines = [json.loads(line) for line in err.splitlines() if line.strip()]
    access = [x for x in lines if x["logger"] == "guestsync.access"]
    hook = next(x for x in access if x["path"] == "/webhooks/zap")
    assert hook["method"] == "POST" and hook["status"] == 202 and hook["source"] == "zap"
    assert isinstance(hook["ms"], float) and hook["level"] == "info"
    assert any(x["path"] == "/healthz" for x in access)
    assert "s3cret" not in err and "amy.lin" not in err and "zap-secret" not in err
