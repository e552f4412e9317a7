"""The Chinese quickstarts match the code: their configs pass `guestsync validate`, every
command and option they show exists, and both restaurants' setups run end to end (the
Shanghai one through the very commands the doc lists, then a signed Jiandaoyun push)."""

from __future__ import annotations

import hashlib
import json
import re
import time
from pathlib import Path

import pytest
import responses
from click.testing import CliRunner

from guestsync.cli import cli
from guestsync.config import load_config
from guestsync.connectors.jiandaoyun import LIST_PATH
from guestsync.store import Store
from guestsync.sync_engine import Hub
from guestsync.testing import FakeFxiaoke, FakeHubSpot, ServerThread
from guestsync.webhook_server import create_app

from .conftest import write_config
from .webhook_signing import inline_headers, sample

DOCS = Path(__file__).resolve().parent.parent / "docs"
QUICKSTARTS = ("zh-TW.md", "zh-CN.md")
_SECRETS = """INLINE_WEBHOOK_SECRET HUBSPOT_TOKEN JDY_SECRET JDY_API_KEY FXK_APP_ID FXK_APP_SECRET
FXK_PERMANENT_CODE FXK_ADMIN_OPEN_USER_ID KD_ACCT_ID KD_USER KD_APP_ID KD_APP_SECRET"""
ENV = dict.fromkeys(_SECRETS.split(), "x")


def _configs() -> list[tuple[str, str]]:
    out = []
    for doc in QUICKSTARTS:
        for block in re.findall(r"```yaml\n(.*?)```", (DOCS / doc).read_text("utf-8"), re.S):
            if block.startswith("# guestsync.yaml"):
                out.append((doc, block.replace("…", "abc")))
    return out


def _config(doc: str, zone: str) -> str:
    (text,) = [t for d, t in _configs() if d == doc and zone in t]
    return text


def _below(text: str, key: str, extra: str) -> str:
    """Insert `extra` (one setting) right under the `key:` line, at that block's indent."""
    line = re.search(rf"^( *){re.escape(key)}:.*\n", text, re.M)
    assert line, key
    indent = line.group(1) + "  "
    return text[: line.end()] + f"{indent}{extra}\n" + text[line.end() :]


@pytest.mark.parametrize(("doc", "text"), _configs())
def test_quickstart_configs_pass_guestsync_validate(tmp_path, doc, text):
    path = write_config(tmp_path, text)
    config = load_config(path, environ=ENV)
    assert config.sources and config.targets
    result = CliRunner().invoke(cli, ["-c", str(path), "validate"], env=ENV)
    assert result.exit_code == 0, result.output


def test_both_quickstarts_have_both_restaurants():
    configs = _configs()
    assert len(configs) == 4
    for doc in QUICKSTARTS:
        taipei, shanghai = _config(doc, "Asia/Taipei"), _config(doc, "Asia/Shanghai")
        assert "type: webhook" in taipei and "platform: inline" in taipei
        assert "type: hubspot" in taipei
        assert "type: jiandaoyun" in shanghai and "type: fxiaoke" in shanghai


@pytest.mark.parametrize("doc", QUICKSTARTS)
def test_every_command_and_option_shown_exists(doc):
    text = (DOCS / doc).read_text("utf-8")
    shown = re.findall(r"guestsync ((?:-c \S+ )?)([a-z][a-z-]+)([^`\n#&]*)", text)
    assert {name for _, name, _ in shown} >= {"validate", "serve", "pull", "sync", "init"}
    for _, name, rest in shown:
        command = cli.commands.get(name)
        assert command is not None, f"{doc}: `guestsync {name}` is not a command"
        known = {o for p in command.params for o in getattr(p, "opts", [])}
        for option in re.findall(r"(--[a-z-]+)", rest):
            assert option in known, f"{doc}: `guestsync {name} {option}` is not an option"
    assert "backfill" not in text


def test_taipei_inline_webhook_reaches_hubspot(tmp_path):
    crm = FakeHubSpot(token="hs-token")
    with ServerThread(crm.app) as server:
        text = _below(_config("zh-TW.md", "Asia/Taipei"), "hubspot", f"base_url: {server.url}")
        env = {"INLINE_WEBHOOK_SECRET": "in-secret", "HUBSPOT_TOKEN": "hs-token"}
        hub = Hub(load_config(write_config(tmp_path, text), environ=env), sleep=lambda s: None)
        try:
            client = create_app(hub.config, store=hub.store).test_client()
            body = sample("inline_reservations.json")
            answer = client.post(
                "/webhooks/inline",
                data=body,
                headers=inline_headers(body, "in-secret"),
                content_type="application/json",
            )
            assert answer.status_code == 202, answer.get_json()
            summary = hub.sync()
            assert summary.ok and summary.deliveries[0].pushed == summary.guests_total > 0
            assert len(crm.contacts) == summary.guests_total
        finally:
            hub.close()


JDY = "http://jdy.test"
W = "_widget_17000000000"


@responses.activate
def test_shanghai_commands_pull_then_sync_reach_fxiaoke(tmp_path):
    responses.add_passthru("http://127.0.0.1")
    entries = [
        {"_id": f"{i:024x}", W + "01": name, W + "02": {"phone": phone}, W + "04": 9}
        for i, (name, phone) in enumerate(
            [("张伟", "13800138001"), ("王芳", "13800138002"), ("张伟", "138-0013-8001")]
        )
    ]
    for e in entries:
        e.update(createTime="2026-11-20T12:00:00.000Z", updateTime="2026-11-20T12:00:00.000Z")
    responses.post(JDY + LIST_PATH, json={"data": entries})
    responses.post(JDY + LIST_PATH, json={"data": []})
    crm = FakeFxiaoke(app_id="app", app_secret="secret", permanent_code="perm")
    with ServerThread(crm.app) as server:
        text = _config("zh-CN.md", "Asia/Shanghai")
        text = _below(text, "feedback_form", f"base_url: {JDY}")
        text = _below(text, "fxiaoke", f"base_url: {server.url}")
        text = _below(text, "fxiaoke", "rate: 50")  # the test need not crawl at 2.9/s
        path = write_config(tmp_path, text)
        env = {
            **ENV,
            "JDY_API_KEY": "jdy-key",
            "FXK_APP_ID": "app",
            "FXK_APP_SECRET": "secret",
            "FXK_PERMANENT_CODE": "perm",
            "FXK_ADMIN_OPEN_USER_ID": "FSUID_admin",
        }
        run = CliRunner().invoke
        pulled = run(cli, ["-c", str(path), "pull", "--source", "feedback_form"], env=env)
        assert pulled.exit_code == 0, pulled.output
        assert "3 record(s)" in pulled.output
        synced = run(cli, ["-c", str(path), "sync"], env=env)
        assert synced.exit_code == 0, synced.output
        # then the form pushes a new entry to the URL the doc gives, signed as documented
        hub = Hub(load_config(path, environ=env))
        try:
            client = create_app(hub.config, store=hub.store).test_client()
            answer = _jdy_push(
                client, "x", {"_id": "f" * 24, W + "01": "李娜", W + "02": "13900139000"}
            )
            assert answer.status_code == 202, answer.get_json()
        finally:
            hub.close()
        synced = run(cli, ["-c", str(path), "sync"], env=env)
        assert synced.exit_code == 0, synced.output
    sent = json.loads(responses.calls[0].request.body)
    assert responses.calls[0].request.headers["Authorization"] == "Bearer jdy-key"
    assert sent["entry_id"] == "5f0dabc" and sent["limit"] == 100
    store = Store.open(tmp_path / "data" / "guestsync.db")
    guests = list(store.all_guests())
    store.close()
    assert len(guests) == 3  # the two 张伟 rows are one guest; 李娜 came by push
    assert [len(crm.find("guestsync_id__c", g.id)) for g in guests] == [1, 1, 1]


def _jdy_push(client, secret: str, data: dict):
    """POST /webhooks/feedback_form as Jiandaoyun does: sha1(nonce:body:secret:timestamp)."""
    data = {
        "createTime": "2026-11-21T08:00:00.000Z",
        "updateTime": "2026-11-21T08:00:00.000Z",
    } | data
    body = json.dumps({"op": "data_create", "data": data, "opTime": 1}, ensure_ascii=False)
    nonce, timestamp = "a1b2c3", str(int(time.time()))
    sign = hashlib.sha1(f"{nonce}:{body}:{secret}:{timestamp}".encode()).hexdigest()
    return client.post(
        f"/webhooks/feedback_form?nonce={nonce}&timestamp={timestamp}",
        data=body.encode(),
        headers={"X-JDY-Signature": sign, "X-JDY-DeliverId": "push-1"},
        content_type="application/json",
    )


def _steps(doc: str) -> list[tuple[str, list[str]]]:
    """Each restaurant's config and the commands below it that run offline, as written."""
    text = (DOCS / doc).read_text("utf-8")
    found = re.findall(r"```yaml\n(# guestsync\.yaml.*?)```\n\n```sh\n(.*?)```", text, re.S)
    offline = ("cd ", "export ", "mapping copy", " validate", " status")
    return [
        (config, [c for c in sh.replace("\\\n", " ").splitlines() if any(w in c for w in offline)])
        for config, sh in found
    ]


@pytest.mark.parametrize("doc", QUICKSTARTS)
def test_each_quickstart_runs_verbatim_from_init_to_validate(tmp_path, doc):
    """Issue 24: followed word for word, the quickstarts missed copying the mapping and
    running where the config is. Here: `init`, then each restaurant's commands as the doc
    writes them (those that need no network: cd, export, mapping copy, validate, status)."""
    import os
    import subprocess
    import sys

    steps = _steps(doc)
    assert len(steps) == 2 and all(any("validate" in c for c in cmds) for _, cmds in steps)
    for n, (config, commands) in enumerate(steps):
        repo = tmp_path / f"repo{n}"  # the clone: .venv/bin/guestsync, as make creates it
        (repo / ".venv" / "bin").mkdir(parents=True)
        exe = repo / ".venv" / "bin" / "guestsync"
        exe.write_text(f'#!/bin/sh\nexec {sys.executable} -m guestsync.cli "$@"\n', "utf-8")
        exe.chmod(0o755)
        init = subprocess.run(
            [str(exe), "init", "my-restaurant"], cwd=repo, capture_output=True, text=True
        )
        assert init.returncode == 0, init.stderr
        (repo / "my-restaurant" / "guestsync.yaml").write_text(config.replace("…", "abc"))
        script = "set -e\n" + "\n".join(commands) + "\n"
        done = subprocess.run(
            ["bash", "-c", script],
            cwd=repo,
            capture_output=True,
            text=True,
            env={k: v for k, v in os.environ.items() if not k.startswith("GUESTSYNC_")},
            timeout=120,
        )
        assert done.returncode == 0, f"{doc} restaurant {n + 1}:\n{script}\n{done.stderr}"
