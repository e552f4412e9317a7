"""What the browser tests share: Debian's Chromium driven headless by Playwright (never a
downloaded browser), the widths a page is looked at, and where screenshots go."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WIDTHS = {"phone": 390, "desktop": 1280}

sync_api = pytest.importorskip("playwright.sync_api", reason="pip install -e '.[dev]'")
needs_chromium = pytest.mark.skipif(
    not os.access(CHROMIUM, os.X_OK),
    reason=f"{CHROMIUM} missing: `make test` installs it (apt-get install -y chromium)",
)


@contextmanager
def chromium() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def shots(tmp_path: Path, env: str) -> Path:
    """Where screenshots go: the folder named by `env`, else one under `tmp_path`."""
    d = Path(os.environ.get(env) or tmp_path / "shots")
    d.mkdir(parents=True, exist_ok=True)
    return d
