"""Every command explains itself; init writes a config that validates; schema is JSON."""

from __future__ import annotations

import json

import click
import pytest
from click.testing import CliRunner

from guestsync.cli import cli


def _commands():
    return sorted(cli.commands.items())


@pytest.mark.parametrize(("name", "command"), _commands())
def test_every_command_has_help(name, command):
    assert command.help and len(command.help.strip()) > 20, f"{name} has no --help text"
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0 and "Usage:" in result.output


def test_init_writes_a_starter_that_validates(tmp_path, monkeypatch):
    monkeypatch.setenv("HUBSPOT_TOKEN", "x")
    assert CliRunner().invoke(cli, ["init", str(tmp_path)]).exit_code == 0
    assert (tmp_path / "guestsync.yaml").read_text().startswith("# guestsync.yaml")
    result = CliRunner().invoke(cli, ["validate", str(tmp_path / "guestsync.yaml")])
    assert result.exit_code == 0, result.output
    # A second init refuses to overwrite.
    again = CliRunner().invoke(cli, ["init", str(tmp_path)])
    assert again.exit_code != 0 and "--force" in again.output


def test_schema_is_json_schema_of_the_config():
    result = CliRunner().invoke(cli, ["schema"])
    schema = json.loads(result.output)
    assert schema["title"] == "guestsync.yaml"
    assert {"sources", "targets", "store", "defaults"} <= set(schema["properties"])


def test_cli_is_a_click_group():
    assert isinstance(cli, click.Group)
