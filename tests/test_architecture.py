"""Structure rules from LAYOUT.md and STYLE.md that a test can keep.

Every import inside the package is checked against the allowed-dependency table below
(run time and TYPE_CHECKING alike); the module graph must have no cycle; no import hides
inside a function to dodge one; no private name crosses a module boundary.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import get_args

from guestsync import connectors
from guestsync.config.connectors import SourceOptions, TargetOptions

PKG = Path(__file__).resolve().parent.parent / "guestsync"

KERNEL = {
    "errors",
    "models",
    "hashing",
    "normalize",
    "yamlfile",
    "cron",
    "ratelimit",
    "metrics",
    "lifeline",
}
STAGES = {"intake", "process", "delivery"}
# layer -> the layers it may import (the kernel is open to all; a layer may import itself)
ALLOWED: dict[str, set[str]] = {
    "cli": {"*"},
    "serve": {"*"},
    "demo": {"*"},
    "testing": {"*"},
    "actions": {
        "sync_engine",
        *STAGES,
        "restaurant",
        "store",
        "connectors",
        "mapping",
        "identity",
        "config",
        "webhooks",
        "testing",
    },
    "sync_engine": {*STAGES, "restaurant", "store", "connectors", "mapping", "config"},
    # the HTTP face: intake's receiver, and the serve package's health and WSGI pieces
    "webhook_server": {"intake", "store", "config", "webhooks", "serve", "console"},
    # the web console: a face like webhook_server; its buttons call the CLI's actions
    "console": {"actions", "store", "config", "identity", "restaurant", "delivery"},
    "intake": {"store", "connectors", "mapping", "webhooks", "config"},
    "process": {"restaurant", "store", "identity", "mapping", "connectors.base", "config"},
    "delivery": {"store", "connectors", "config"},
    "restaurant": {"store", "config"},
    "store": set(),  # + identity from the m0014 migration, below
    "connectors": {"config", "webhooks"},
    "mapping": set(),
    "identity": set(),
    "config": {"identity.settings", "webhooks"},
    "webhooks": set(),
    "kernel": set(),
    "": {"*"},  # guestsync/__init__.py: the public face
}
EXCEPTIONS = {  # rebuilt keys with the code
    ("store.schema.m0014_blocking_keys", "identity"),
    ("store.schema.m0024_birthday_keys", "identity"),
    ("store.schema.m0025_partial_name_keys", "identity"),
    ("store.schema.m0028_email_flat_keys", "identity"),
    ("store.schema.m0040_dob_initials_keys", "identity"),
}


@dataclass(frozen=True)
class Import:
    module: str  # importing module, relative to the package: "process.batch"
    target: str  # imported module, relative: "store" or "identity.settings"
    names: tuple[str, ...]
    in_function: bool
    line: int


def _modules() -> dict[str, Path]:
    out = {}
    for f in PKG.rglob("*.py"):
        parts = list(f.relative_to(PKG).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = f
    return out


MODULES = _modules()


def _imports(module: str, path: Path) -> Iterator[Import]:
    tree = ast.parse(path.read_text("utf-8"))
    inside = {
        id(n)
        for fn in ast.walk(tree)
        if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef)
        for n in ast.walk(fn)
    }
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1] if node.level > 1 else package
                target = ".".join([*base, *([node.module] if node.module else [])])
            elif node.module and node.module.split(".")[0] == "guestsync":
                target = node.module.partition(".")[2]
            else:
                continue
            names = tuple(a.name for a in node.names)
            subs = [f"{target}.{n}" if target else n for n in names]
            for sub in subs:  # `from . import hooks` imports a module
                if sub in MODULES:
                    yield Import(module, sub, (), id(node) in inside, node.lineno)
            if not all(sub in MODULES for sub in subs):
                yield Import(module, target, names, id(node) in inside, node.lineno)
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("guestsync."):
                    target = a.name.partition(".")[2]
                    yield Import(module, target, (), id(node) in inside, node.lineno)


IMPORTS = [i for m, p in MODULES.items() for i in _imports(m, p)]


def layer(module: str) -> str:
    top = module.split(".")[0]
    return "kernel" if top in KERNEL else top


def _allowed(imp: Import) -> bool:
    src, dst = layer(imp.module), layer(imp.target)
    if dst in ("kernel", src) or (imp.module, dst) in EXCEPTIONS:
        return True
    rules = ALLOWED[src]
    return (
        "*" in rules
        or dst in rules
        or any(imp.target.startswith(r + ".") or imp.target == r for r in rules)
    )


def test_every_import_follows_the_layout_table():
    bad = [f"{i.module}:{i.line} imports {i.target}" for i in IMPORTS if not _allowed(i)]
    assert not bad, "imports outside LAYOUT.md's table:\n" + "\n".join(bad)


def test_stages_never_import_each_other():
    bad = [
        f"{i.module} imports {i.target}"
        for i in IMPORTS
        if layer(i.module) in STAGES and layer(i.target) in STAGES - {layer(i.module)}
    ]
    assert not bad, bad


def test_every_layer_is_in_the_table():
    assert {layer(m) for m in MODULES} <= set(ALLOWED)


def test_no_import_hides_in_a_function():
    bad = [f"{i.module}:{i.line} imports {i.target}" for i in IMPORTS if i.in_function]
    assert not bad, (
        "function-local imports (move them to the top, or fix the cycle):\n" + "\n".join(bad)
    )


def test_no_private_name_crosses_a_module():
    bad = [
        f"{i.module}:{i.line} imports {n} from {i.target}"
        for i in IMPORTS
        for n in i.names
        if n.startswith("_") and i.target != i.module
    ]
    assert not bad, bad


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for i in IMPORTS:
        target = i.target if i.target in MODULES else i.target.rsplit(".", 1)[0]
        if target != i.module and target in MODULES:
            graph[i.module].add(target)
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        stack.append(m)
        for n in sorted(graph[m]):
            if state.get(n) == 1:
                return [*stack[stack.index(n) :], n]
            if n not in state and (found := visit(n)):
                return found
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(graph):
        if m not in state and (found := visit(m)):
            return found
    return None


def test_the_module_graph_has_no_cycle():
    # A package's __init__ re-exporting its modules is an edge like any other.
    cycle = _cycle(_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_cycle_check_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_no_sql_outside_the_store():
    for f in PKG.rglob("*.py"):
        if f.relative_to(PKG).parts[0] == "store":
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


def test_the_top_level_holds_the_kernel_and_the_two_faces():
    loose = {f.stem for f in PKG.glob("*.py")} - {"__init__"}
    assert loose <= KERNEL | {"sync_engine", "webhook_server", "demo"}, loose


def test_intake_delivery_and_restaurant_take_their_narrow_store():
    """They see the store through store/protocols.py, which a second store implements."""
    for stage in ("intake", "delivery", "restaurant"):
        for f in (PKG / stage).glob("*.py"):
            text = f.read_text("utf-8")
            assert ": Store" not in text and "import Store\n" not in text, f
