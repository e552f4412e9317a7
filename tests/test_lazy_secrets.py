"""`status` and `report` work where the CRM tokens are not exported (issue 24): secrets are
resolved only for the commands that call out; a connector built without them never
sends a request with a placeholder, it raises the config error a strict load raises."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from guestsync.cli import cli
from guestsync.config import load_config
from guestsync.errors import ConfigError
from guestsync.store import Store
from guestsync.sync_engine import Hub
from guestsync.testing import FakeHubSpot, ServerThread

from .conftest import SAMPLES

CONFIG = """\
store: {path: hub.db}
sources:
  site: {type: csv, paths: [bookings/*.csv], mapping: mappings/booking_en.yaml}
targets:
  hubspot:
    type: hubspot
    token: ${HUBSPOT_TOKEN}
    base_url: BASE
"""
UNSET = {"HUBSPOT_TOKEN": None, "GUESTSYNC_CONFIG": None}


def _run(cfg, *args):
    return CliRunner().invoke(cli, ["-c", str(cfg), *args], env=UNSET)


@pytest.fixture
def cfg(make_config):
    path = make_config(CONFIG.replace("BASE", "http://127.0.0.1:9"))
    Store.open(path.parent / "hub.db").close()
    return path


@pytest.mark.parametrize(
    "command",
    [
        ["status"],
        ["report"],
        ["refresh"],
        ["outbox"],
        ["dead-letters", "list"],
        ["schedule", "list"],
    ],
)
def test_read_only_commands_do_not_need_the_crm_token(cfg, command):
    result = _run(cfg, *command)
    assert result.exit_code == 0, result.output


def test_a_command_that_calls_the_crm_still_names_the_unset_variable(cfg):
    result = _run(cfg, "sync")
    assert isinstance(result.exception, ConfigError)  # main() prints it and exits 2
    assert f"{cfg}:7" in str(result.exception) and "HUBSPOT_TOKEN is not set" in str(
        result.exception
    )


def test_a_target_built_without_its_secret_never_sends_a_request(make_config, tmp_path):
    crm = FakeHubSpot(token="t")
    with ServerThread(crm.app) as server:
        path = make_config(CONFIG.replace("BASE", server.url))
        (tmp_path / "bookings").mkdir()
        rows = (SAMPLES / "booking_site.csv").read_text("utf-8").splitlines()[:3]
        (tmp_path / "bookings" / "site.csv").write_text("\n".join(rows) + "\n", "utf-8")
        hub = Hub(load_config(path, environ={}, secrets=False))
        try:
            with pytest.raises(ConfigError, match=r"HUBSPOT_TOKEN is not set") as err:
                hub.sync()
        finally:
            hub.close()
    assert err.value.line == 7 and "targets.hubspot.token" in str(err.value)
    assert crm.contacts == {}


def test_strict_is_the_default(make_config):
    path = make_config(CONFIG.replace("BASE", "http://127.0.0.1:9"))
    with pytest.raises(ConfigError, match="HUBSPOT_TOKEN is not set"):
        load_config(path, environ={})


def test_an_unset_variable_that_is_not_a_valid_value_is_still_named(make_config):
    """A placeholder cannot stand for a URL: the error is the unset variable, not a URL."""
    path = make_config(CONFIG.replace("BASE", "${HUBSPOT_URL}"))
    with pytest.raises(ConfigError, match="HUBSPOT_URL is not set"):
        load_config(path, environ={"HUBSPOT_TOKEN": "t"}, secrets=False)
