"""Structure rules from STYLE.md that a test can keep."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import get_args

from guestsync import connectors
from guestsync.config.connectors import SourceOptions, TargetOptions

PKG = Path(__file__).resolve().parent.parent / "guestsync"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            names.add((node.module or "").split(".")[0])
        elif isinstance(node, ast.Import):
            names.update(
                a.name.split(".")[1] for a in node.names if a.name.startswith("guestsync.")
            )
    return names


def test_pure_layers_do_no_io_through_the_store_or_engine():
    for sub in ("mapping", "identity"):
        for f in (PKG / sub).glob("*.py"):
            assert not _imports(f) & {
                "store",
                "sync_engine",
                "cli",
                "webhook_server",
                "process",
                "delivery",
                "ingest",
            }, f


def test_connectors_never_touch_the_store_or_engine():
    for f in (PKG / "connectors").glob("*.py"):
        bad = _imports(f) & {"sync_engine", "cli", "process", "delivery", "ingest"}
        assert not bad, f"{f.name} imports {bad}"


def test_no_sql_outside_the_store():
    allowed = {"store"}
    for f in PKG.rglob("*.py"):
        if f.relative_to(PKG).parts[0] in allowed:
            continue
        text = f.read_text("utf-8")
        for word in ("SELECT ", "INSERT ", "UPDATE ", "DELETE FROM"):
            assert word not in text, f"SQL ({word.strip()}) in {f.relative_to(PKG)}"


def _tags(union) -> set[str]:
    members = get_args(get_args(union)[0]) or (get_args(union)[0],)
    return {get_args(m.model_fields["type"].annotation)[0] for m in members}


def test_registries_match_the_config_types():
    assert set(connectors.SOURCES) == _tags(SourceOptions)
    assert set(connectors.TARGETS) == _tags(TargetOptions)


def test_modules_stay_small():
    for f in PKG.rglob("*.py"):
        n = len(f.read_text("utf-8").splitlines())
        assert n <= 450, f"{f.relative_to(PKG)} has {n} lines; split it by concept"
