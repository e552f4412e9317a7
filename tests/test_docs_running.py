"""Running under cron and systemd (issue 24): every command docs/running.md shows exists
and takes the options shown; `sync --quiet` prints nothing when all is well and problems
on stderr; `import-csv` leaves a row in `runs`; `sync` shows its stage on a terminal."""

from __future__ import annotations

import io
import json
import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console

from guestsync.cli import cli, core
from guestsync.config import load_config
from guestsync.store import Store
from guestsync.testing import FakeHubSpot, ServerThread

from .conftest import SAMPLES

DOC = Path(__file__).resolve().parent.parent / "docs" / "running.md"
_FENCE = re.compile(r"^```(crontab|ini)\n(.*?)^```", re.S | re.M)


def _commands() -> list[str]:
    """The guestsync command lines of the crontab and the systemd units in the doc."""
    found = []
    for kind, block in _FENCE.findall(DOC.read_text("utf-8")):
        for line in block.splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if kind == "ini" and line.startswith("ExecStart="):
                found.append(line.removeprefix("ExecStart="))
            elif kind == "crontab" and "=" not in line.split()[0]:
                found.append(" ".join(line.split()[5:]))  # five time fields, then the command
    return found


COMMANDS = _commands()


def _argv(line: str) -> list[str]:
    words = shlex.split(line)
    (at,) = [i for i, w in enumerate(words) if Path(w).name == "guestsync"]
    return words[at + 1 :]


def test_the_doc_shows_cron_and_systemd_commands():
    text = " ".join(COMMANDS)
    assert len(COMMANDS) >= 6
    for shown in ("serve", "sync --quiet", "import-csv", "schedule once"):
        assert shown in text


@pytest.mark.parametrize("line", COMMANDS)
def test_every_command_in_the_doc_exists_with_its_options(line):
    """The line as written, with --help: an unknown command or option fails to parse
    (exit 2); a known one prints its help (exit 0) without running."""
    argv = _argv(line)
    result = CliRunner().invoke(cli, [*argv, "--help"], prog_name="guestsync")
    assert result.exit_code == 0, f"{line}: {result.output}"
    usage = re.search(r"Usage: guestsync ([a-z][a-z -]*?) \[OPTIONS\]", result.output)
    assert usage, f"{line}: no command's help was shown:\n{result.output}"
    path = usage.group(1).split()
    assert path[0] in cli.commands and all(word in argv for word in path), line


def _config(make_config, tmp_path: Path, url: str, token: str) -> Path:
    d = tmp_path / "bookings"
    d.mkdir(exist_ok=True)
    rows = (SAMPLES / "booking_site.csv").read_text("utf-8").splitlines()[:4]
    (d / "site.csv").write_text("\n".join(rows) + "\n", "utf-8")
    retry = {"max_attempts": 2, "initial_wait": 0, "max_wait": 0}
    block = {"type": "hubspot", "token": token, "base_url": url, "retry": retry}
    return make_config(
        "store: {path: hub.db}\n"
        "sources:\n"
        "  site: {type: csv, paths: [bookings/*.csv], mapping: mappings/booking_en.yaml}\n"
        f"targets: {json.dumps({'hubspot': block})}\n"
    )


def test_sync_quiet_prints_nothing_when_all_is_well(make_config, tmp_path):
    crm = FakeHubSpot(token="right")
    with ServerThread(crm.app) as server:
        cfg = _config(make_config, tmp_path, server.url, "right")
        result = CliRunner().invoke(cli, ["-c", str(cfg), "sync", "--quiet"])
    assert result.exit_code == 0, result.output
    assert result.stdout == "" and result.stderr == ""
    assert crm.contacts


def test_sync_quiet_says_what_is_wrong_on_stderr_only(make_config, tmp_path):
    crm = FakeHubSpot(token="right")
    with ServerThread(crm.app) as server:
        cfg = _config(make_config, tmp_path, server.url, "wrong")
        result = CliRunner().invoke(cli, ["-c", str(cfg), "sync", "--quiet"])
    assert result.exit_code == 3
    assert result.stdout == ""
    assert "hubspot: credentials refused (401)" in " ".join(result.stderr.split())


def test_import_csv_is_a_run_and_status_shows_it(make_config, tmp_path):
    cfg = _config(make_config, tmp_path, "http://127.0.0.1:9", "t")
    csv = tmp_path / "bookings" / "site.csv"
    result = CliRunner().invoke(
        cli, ["-c", str(cfg), "import-csv", str(csv), "--source", "site", "--quiet"]
    )
    assert result.exit_code == 0, result.output
    missing = CliRunner().invoke(
        cli, ["-c", str(cfg), "import-csv", str(tmp_path / "nope.csv"), "--source", "site", "-q"]
    )
    assert missing.exit_code == 2
    store = Store.open(load_config(cfg).store_path)
    try:
        runs = store.runs()
        last = store.last_source_runs()
    finally:
        store.close()
    newest, first = runs[0], runs[1]
    assert (first["kind"], first["status"]) == ("import-csv:site", "ok")
    assert json.loads(first["stats"])["rows"] == 3 and first["finished_at"]
    assert (newest["kind"], newest["status"]) == ("import-csv:site", "failed")
    assert last["site"][1] == "failed"


def test_sync_shows_its_stage_on_a_terminal(make_config, tmp_path, monkeypatch):
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=100)
    monkeypatch.setattr(core, "out", console)
    seen: list[str] = []
    stage = core._SyncProgress.stage
    monkeypatch.setattr(
        core._SyncProgress, "stage", lambda self, name: (seen.append(name), stage(self, name))
    )
    crm = FakeHubSpot(token="right")
    with ServerThread(crm.app) as server:
        cfg = _config(make_config, tmp_path, server.url, "right")
        result = CliRunner().invoke(cli, ["-c", str(cfg), "sync"])
    assert result.exit_code == 0, result.output
    assert seen == ["read", "pull", "process", "deliver:hubspot"]
    assert "pushing to hubspot" in buffer.getvalue()
