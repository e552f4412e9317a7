"""Every YAML the docs show works when copied (issue 24).

Each ```yaml block of README.md, docs/ and config/, and every YAML file under config/, is
loaded with the loader guestsync uses; a block that is a guestsync.yaml (or a part of one)
is validated as a config, a mapping is compiled. A reader pastes these: an example that
only looks right (an unquoted ${VAR} inside {…}, a key given twice) costs them an evening.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from guestsync.config import Config, load_config
from guestsync.errors import ConfigError
from guestsync.mapping import compile_mapping
from guestsync.mapping.context import Context
from guestsync.yamlfile import load_yaml

from .conftest import write_config

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
DOCS += sorted((ROOT / "config").rglob("*.md"))
FILES = sorted((ROOT / "config").rglob("*.yaml")) + sorted((ROOT / "config").rglob("*.yml"))
_FENCE = re.compile(r"^( *)```ya?ml\n(.*?)^\1```", re.S | re.M)
_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)")


def _blocks() -> list[tuple[str, str]]:
    out = []
    for doc in DOCS:
        text = doc.read_text("utf-8")
        for m in _FENCE.finditer(text):
            line = text.count("\n", 0, m.start()) + 2
            out.append((f"{doc.relative_to(ROOT)}:{line}", textwrap.dedent(m.group(2))))
    return out


BLOCKS = _blocks()


def _check(where: str, text: str, tmp_path: Path) -> str:
    """Load `text`, then validate it as what it is; answer what it was taken for."""
    doc = load_yaml(where, text=text)
    data = doc.data
    assert isinstance(data, dict), f"{where}: not a mapping"
    ctx = Context(region="TW", timezone="Asia/Taipei")
    if "entity" in data:
        compile_mapping(doc, ctx)
        return "mapping"
    if set(data) <= set(Config.model_fields):
        path = write_config(tmp_path, text)
        for name in re.findall(r"mapping[s]?:.*?(mappings/[\w.]+\.yaml)", text):
            # an example may name a mapping of its own (loyalty_members.yaml): give it one
            stub = tmp_path / name
            if not stub.exists():
                stub.write_text("entity: guest\nfields:\n  id: {path: id}\n", "utf-8")
        environ = {v: "https://example.com" if "URL" in v else "x" for v in _ENV.findall(text)}
        load_config(path, environ=environ)
        return "config"
    # a part of a mapping's `fields:` (config/mappings/README.md shows `items:` alone)
    wrapped = "entity: order\nfields:\n  id: {path: id}\n" + textwrap.indent(text, "  ")
    compile_mapping(load_yaml(where, text=wrapped), ctx)
    return "fields"


def test_the_docs_have_yaml_to_check():
    kinds = {where.split(":")[0] for where, _ in BLOCKS}
    assert {"README.md", "docs/zh-TW.md", "docs/zh-CN.md"} <= kinds
    assert len(BLOCKS) >= 15 and len(FILES) >= 15


@pytest.mark.parametrize(("where", "text"), BLOCKS, ids=[w for w, _ in BLOCKS])
def test_every_yaml_block_in_the_docs_loads_and_validates(tmp_path, where, text):
    _check(where, text.replace("…", "abc"), tmp_path)


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(ROOT)) for p in FILES])
def test_every_yaml_file_under_config_loads_and_validates(tmp_path, path):
    text = path.read_text("utf-8")
    kind = _check(str(path), text, tmp_path)
    assert kind == ("config" if path.name == "guestsync.yaml" else "mapping")


def test_unquoted_env_reference_in_flow_is_refused_with_the_fix(tmp_path):
    """The README once showed `secrets: [${KEY}]`: YAML reads `{` there as a mapping."""
    path = write_config(tmp_path, "server: {admin_token: ${GUESTSYNC_ADMIN}}\n")
    with pytest.raises(ConfigError, match=r"put \$\{VAR\} in quotes") as err:
        load_config(path, environ={"GUESTSYNC_ADMIN": "x"})
    assert err.value.line == 1 and err.value.file == str(path)


def test_a_pasted_second_source_with_the_same_name_is_refused(tmp_path):
    body = """\
        sources:
          site:
            type: csv
            paths: [a/*.csv]
            mapping: mappings/booking_en.yaml
          site:
            type: csv
            paths: [b/*.csv]
            mapping: mappings/booking_en.yaml
        """
    path = write_config(tmp_path, body)
    with pytest.raises(ConfigError, match="duplicate key 'site'") as err:
        load_config(path, environ={})
    assert err.value.file == str(path) and err.value.line == 6


def test_a_duplicate_key_never_quotes_the_value(tmp_path):
    """A token pasted twice must not reach the terminal or a log through the error."""
    path = write_config(tmp_path, "targets:\n  h:\n    token: s3cret-A\n    token: s3cret-B\n")
    with pytest.raises(ConfigError) as err:
        load_config(path, environ={})
    assert "s3cret" not in str(err.value) and err.value.line == 4


def test_no_is_norway_not_false():
    """YAML 1.2: `NO`, `yes`, `off` are words (PyYAML read `region: NO` as False)."""
    doc = load_yaml("x.yaml", text="defaults: {region: NO}\nflag: yes\nwhen: 1:30\n")
    assert doc.data == {"defaults": {"region": "NO"}, "flag": "yes", "when": "1:30"}


def test_lines_are_kept_on_every_node():
    doc = load_yaml("x.yaml", text="a:\n  b:\n    - 1\n    - {c: 2}\nd: [x,\n  y]\n")
    assert doc.line_of(("a", "b", 1, "c")) == 4
    assert doc.line_of(("d", 1)) == 6
    assert doc.line_of(("a", "nope")) == 1
