"""The configs in the Chinese quickstarts are valid guestsync.yaml files."""

from __future__ import annotations

import re
import typing
from pathlib import Path

import pytest

from guestsync.config import load_config
from guestsync.connector_options import SourceOptions

from .conftest import write_config

DOCS = Path(__file__).resolve().parent.parent / "docs"
_SECRETS = """INLINE_WEBHOOK_SECRET HUBSPOT_TOKEN JDY_SECRET JDY_API_KEY FXK_APP_ID FXK_APP_SECRET
FXK_PERMANENT_CODE FXK_ADMIN_OPEN_USER_ID KD_ACCT_ID KD_USER KD_APP_ID KD_APP_SECRET"""
ENV = dict.fromkeys(_SECRETS.split(), "x")


def _source_types() -> set[str]:
    members = typing.get_args(typing.get_args(SourceOptions)[0]) or (
        typing.get_args(SourceOptions)[0],
    )
    return {typing.get_args(m.model_fields["type"].annotation)[0] for m in members}


def _configs() -> list[tuple[str, str]]:
    out = []
    for doc in ("zh-TW.md", "zh-CN.md"):
        for block in re.findall(r"```yaml\n(.*?)```", (DOCS / doc).read_text("utf-8"), re.S):
            if block.startswith("# guestsync.yaml"):
                out.append((doc, block.replace("…", "abc")))
    return out


@pytest.mark.parametrize(("doc", "text"), _configs())
def test_quickstart_configs_validate(tmp_path, doc, text):
    missing = {t for t in re.findall(r"type: (\w+)", text)} - _source_types()
    missing -= {"hubspot", "fxiaoke", "kingdee"}
    if missing:
        pytest.skip(f"{doc}: source type(s) {missing} not on this branch yet")
    if (
        "mappings/inline_reservations.yaml" in text
        and not (tmp_path / "mappings" / "inline_reservations.yaml").parent.exists()
    ):
        pass
    config = load_config(write_config(tmp_path, text), environ=ENV)
    assert config.sources and config.targets


def test_both_quickstarts_have_both_restaurants():
    configs = _configs()
    assert len(configs) == 4
    assert all("Asia/Taipei" in t or "Asia/Shanghai" in t for _, t in configs)
