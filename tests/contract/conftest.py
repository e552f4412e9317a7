"""Collects every `cases_*.py` module here; each registers its harnesses with `@case`."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from .harness import CASES, Harness

for _info in pkgutil.iter_modules([str(Path(__file__).parent)]):
    if _info.name.startswith("cases_"):
        importlib.import_module(f"{__package__}.{_info.name}")


@pytest.fixture(params=sorted(CASES))
def crm(request: pytest.FixtureRequest) -> Iterator[Harness]:
    with CASES[request.param]() as harness:
        yield harness
