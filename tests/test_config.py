"""Config errors are one line each, naming file, line and field; the CLI exits 2 quietly."""

from __future__ import annotations

import pytest

from guestsync.cli import main
from guestsync.config import load_config
from guestsync.errors import ConfigError

GOOD = """\
version: 1
sources:
  site:
    type: csv
    paths: [x.csv]
    mapping: mappings/booking_en.yaml
targets:
  hubspot:
    type: hubspot
    token: ${TOKEN}
"""


def test_valid_config_loads_and_substitutes_env(make_config):
    path = make_config(GOOD)
    config = load_config(path, environ={"TOKEN": "s3cret"})
    assert config.targets["hubspot"].token.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(config)  # secrets never reach logs through repr


def test_env_default_syntax(make_config):
    path = make_config(GOOD.replace("${TOKEN}", "${TOKEN:-fallback}"))
    assert load_config(path, environ={}).targets["hubspot"].token.get_secret_value() == "fallback"


@pytest.mark.parametrize(
    ("edit", "line", "field", "words"),
    [
        # missing required field: the mapping of a source
        (
            lambda s: s.replace("    mapping: mappings/booking_en.yaml\n", ""),
            3,
            "sources.site.mapping",
            "required setting is missing",
        ),
        # bad type
        (lambda s: s + "    batch_size: lots\n", 11, "targets.hubspot.batch_size", "integer"),
        # unknown connector type, listing the valid ones
        (
            lambda s: s.replace("type: hubspot", "type: hubspotz"),
            9,
            "targets.hubspot.type",
            "unknown type 'hubspotz'; valid types: 'hubspot'",
        ),
        # unset environment variable
        (
            lambda s: s.replace("${TOKEN}", "${NOT_SET_ANYWHERE}"),
            10,
            "targets.hubspot.token",
            "environment variable NOT_SET_ANYWHERE is not set",
        ),
        # typo in a key
        (lambda s: s.replace("paths:", "pathz:"), 5, "sources.site.pathz", "unknown setting"),
    ],
)
def test_config_errors_name_file_line_and_field(make_config, edit, line, field, words):
    path = make_config(edit(GOOD))
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={"TOKEN": "x"})
    message = str(info.value)
    first = message.splitlines()[0]
    assert first.startswith(f"{path}:{line}: {field}: "), message
    assert words in message


def test_yaml_syntax_error_has_line(make_config):
    path = make_config("sources:\n  site: [unclosed\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert f"{path}:" in str(info.value) and "invalid YAML" in str(info.value)


def test_missing_mapping_file_is_reported(make_config):
    path = make_config(GOOD.replace("booking_en.yaml", "nope.yaml"))
    with pytest.raises(ConfigError, match=r"sources\.site\.mapping: mapping file .*nope\.yaml"):
        load_config(path, environ={"TOKEN": "x"})


def test_cli_config_error_exits_2_without_traceback(make_config, capsys, monkeypatch):
    monkeypatch.delenv("TOKEN", raising=False)
    path = make_config(GOOD)
    with pytest.raises(SystemExit) as exit_info:
        main(["validate", str(path)])
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert captured.err.splitlines() == [
        f"config error {path}:10: targets.hubspot.token: environment variable TOKEN is not set "
        "(export it, or write ${TOKEN:-default})"
    ]


def test_bad_mapping_is_a_config_error_with_line(make_config, tmp_path):
    path = make_config(GOOD)
    (tmp_path / "mappings" / "booking_en.yaml").write_text(
        "entity: reservation\nfields:\n  start_at: {column: D}\n  guest.shoe_size: {column: S}\n",
        "utf-8",
    )
    from guestsync.sync_engine import Hub

    with pytest.raises(ConfigError) as info:
        Hub(load_config(path, environ={"TOKEN": "x"}))
    assert str(info.value).startswith(
        f"{tmp_path / 'mappings' / 'booking_en.yaml'}:4: "
        "fields.guest.shoe_size: unknown canonical field"
    )
