"""Connector registries: the `type:` in guestsync.yaml -> the class that implements it."""

from __future__ import annotations

from .base import RecordResult, Target
from .csv_source import CsvSource
from .hubspot import HubSpotTarget
from .rest_source import RestSource
from .square import SquareSource

SOURCES: dict[str, type] = {"csv": CsvSource, "rest": RestSource, "square": SquareSource}
TARGETS: dict[str, type] = {"hubspot": HubSpotTarget}

__all__ = [
    "SOURCES",
    "TARGETS",
    "CsvSource",
    "HubSpotTarget",
    "RecordResult",
    "RestSource",
    "SquareSource",
    "Target",
]
