"""Third-party connectors through entry points (issue 24): tests/plugin_example, installed
with pip, adds a `tsv` source and a `jsonl_file` target; their options join the config
schema and validation, and a sync runs through both."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Literal

import pytest
from pydantic import BaseModel

from guestsync.config import json_schema, load_config, plugins
from guestsync.config.connectors import TARGET_MODELS
from guestsync.errors import ConfigError
from guestsync.sync_engine import Hub

from .conftest import SAMPLES

EXAMPLE = Path(__file__).resolve().parent / "plugin_example"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The example package installed (pip, from its pyproject) into a folder of its own."""
    target = tmp_path_factory.mktemp("site")
    build = tmp_path_factory.mktemp("build")
    src = build / "src"  # a copy: an in-tree build would leave build/ in tests/
    shutil.copytree(EXAMPLE, src, ignore=shutil.ignore_patterns("build", "*.egg-info"))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--target",
            str(target),
            str(src),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=build,
    )
    assert result.returncode == 0, result.stderr
    return target


@pytest.fixture
def installed(site, monkeypatch):
    monkeypatch.syspath_prepend(str(site))
    plugins.connectors.cache_clear()
    yield
    plugins.connectors.cache_clear()


CONFIG = """\
store: {path: hub.db}
sources:
  front_desk:
    type: tsv
    paths: [exports/*.tsv]
    mapping: mappings/booking_en.yaml
targets:
  file:
    type: jsonl_file
    path: OUT
"""


def test_a_plugin_source_and_target_run_a_sync(installed, make_config, tmp_path):
    rows = (SAMPLES / "booking_site.csv").read_text("utf-8").splitlines()[:5]
    (tmp_path / "exports").mkdir()
    tsv = "\n".join(r.replace(",", "\t") for r in rows) + "\n"
    (tmp_path / "exports" / "day.tsv").write_text(tsv, "utf-8")
    out = tmp_path / "pushed.jsonl"
    hub = Hub(load_config(make_config(CONFIG.replace("OUT", str(out)))))
    try:
        assert type(hub.sources["front_desk"]).__name__ == "TsvSource"
        summary = hub.sync()
    finally:
        hub.close()
    assert summary.ingest.rows == 4 and summary.process.rejected == 0
    pushed = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert len(pushed) == summary.guests_total > 0
    assert summary.deliveries[0].pushed == len(pushed)


def test_a_plugin_setting_is_validated_with_file_line_and_field(installed, make_config):
    path = make_config(CONFIG.replace("    path: OUT\n", "    pth: out.jsonl\n"))
    with pytest.raises(ConfigError) as err:
        load_config(path)
    text = str(err.value)
    assert f"{path}:10: targets.file.pth: unknown setting" in text
    assert f"{path}:8: targets.file.path: required setting is missing" in text


def test_plugin_types_are_listed_where_built_ins_are(installed, make_config):
    schema = json.dumps(json_schema())
    assert "JsonlFileOptions" in schema and "TsvSourceOptions" in schema
    path = make_config(CONFIG.replace("type: jsonl_file", "type: jsonl"))
    with pytest.raises(ConfigError, match=r"unknown type 'jsonl'; valid types: .*'jsonl_file'"):
        load_config(path)


def test_without_the_plugin_its_type_is_unknown(make_config):
    plugins.connectors.cache_clear()
    with pytest.raises(ConfigError, match="unknown type 'jsonl_file'"):
        load_config(make_config(CONFIG.replace("type: tsv", "type: csv")))


def test_a_broken_plugin_is_a_config_error_naming_it(monkeypatch):
    broken = EntryPoint(name="crm9", value="no_such_module:Target", group="guestsync.targets")
    monkeypatch.setattr(
        plugins, "entry_points", lambda group: [broken] if "targets" in group else []
    )
    plugins.connectors.cache_clear()
    try:
        with pytest.raises(ConfigError, match=r"plugin 'crm9' \(no_such_module:Target.*cannot be"):
            plugins.connectors("targets")
    finally:
        plugins.connectors.cache_clear()


class Clash:
    """A plugin target that claims a built-in's name."""

    class Options(BaseModel):
        type: Literal["hubspot"]


def test_a_plugin_may_not_take_a_built_in_name(monkeypatch):
    clash = EntryPoint(name="hubspot", value=f"{__name__}:Clash", group="guestsync.targets")
    monkeypatch.setattr(
        plugins, "entry_points", lambda group: [clash] if "targets" in group else []
    )
    plugins.connectors.cache_clear()
    try:
        with pytest.raises(ConfigError, match="uses the name of a built-in connector"):
            plugins.options_models("targets", TARGET_MODELS)
    finally:
        plugins.connectors.cache_clear()
