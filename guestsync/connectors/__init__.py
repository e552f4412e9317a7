"""Connector registries: the `type:` in guestsync.yaml -> the class that implements it."""

from __future__ import annotations

from .base import RecordResult, Target
from .bottlecrm import BottleCrmTarget
from .csv_source import CsvSource
from .hubspot import HubSpotTarget
from .rest import RestTarget

SOURCES: dict[str, type] = {"csv": CsvSource}
TARGETS: dict[str, type] = {
    "hubspot": HubSpotTarget,
    "bottlecrm": BottleCrmTarget,
    "rest": RestTarget,
}

__all__ = [
    "SOURCES",
    "TARGETS",
    "BottleCrmTarget",
    "CsvSource",
    "HubSpotTarget",
    "RecordResult",
    "RestTarget",
    "Target",
]
