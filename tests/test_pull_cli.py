"""`guestsync pull` and config checks of REST sources."""

from __future__ import annotations

import pytest
import responses
from click.testing import CliRunner

from guestsync.cli import cli
from guestsync.config import load_config
from guestsync.errors import ConfigError

CONFIG = """\
store: {path: hub.db}
sources:
  loyalty:
    type: rest
    base_url: https://loyalty.example.test
    auth: {type: api_key, name: X-Key, value: "${LOYALTY_KEY}"}
    streams:
      members:
        path: v1/members
        records: data
        mapping: mappings/MAPPING
        incremental: {field: updated_at, param: since, start: "2026-01-01T00:00:00Z"}
        pagination: {type: page_number, size_param: n, size: 2}
targets:
  hubspot: {type: hubspot, token: x, base_url: "http://127.0.0.1:9"}
"""


def test_a_missing_stream_mapping_names_the_stream(make_config, monkeypatch):
    monkeypatch.setenv("LOYALTY_KEY", "k")
    path = make_config(CONFIG.replace("MAPPING", "nope.yaml"))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert "sources.loyalty.streams.members.mapping" in str(info.value)
    assert "nope.yaml" in str(info.value)


def test_an_unknown_pagination_type_lists_the_valid_ones(make_config, monkeypatch):
    monkeypatch.setenv("LOYALTY_KEY", "k")
    path = make_config(
        CONFIG.replace("MAPPING", "square_customers.yaml").replace("page_number", "pages")
    )
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert "page_number" in str(info.value) and "guestsync.yaml:13" in str(info.value)


@responses.activate
def test_pull_command_stores_pages_and_prints_the_cursor(make_config, monkeypatch):
    monkeypatch.setenv("LOYALTY_KEY", "k")
    path = make_config(CONFIG.replace("MAPPING", "square_customers.yaml"))
    members = [
        {"id": "M1", "given_name": "Amy", "updated_at": "2026-02-01T00:00:00Z"},
        {"id": "M2", "given_name": "Bo", "updated_at": "2026-02-03T00:00:00Z"},
    ]
    responses.get("https://loyalty.example.test/v1/members", json={"data": members})
    responses.get("https://loyalty.example.test/v1/members", json={"data": []})
    result = CliRunner().invoke(cli, ["-c", str(path), "pull"])
    assert result.exit_code == 0, result.output
    assert "2 record(s) in 2 page(s), 2 new" in result.output
    assert '"bookmark": "2026-02-03T00:00:00Z"' in result.output
    assert all(c.request.headers["X-Key"] == "k" for c in responses.calls)
