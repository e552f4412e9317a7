"""Connector registries: the `type:` in guestsync.yaml -> the class that implements it."""

from __future__ import annotations

from .base import RecordResult, Target
from .csv_source import CsvSource
from .fxiaoke import FxiaokeTarget
from .hubspot import HubSpotTarget
from .kingdee import KingdeeTarget

SOURCES: dict[str, type] = {"csv": CsvSource}
TARGETS: dict[str, type] = {
    "hubspot": HubSpotTarget,
    "fxiaoke": FxiaokeTarget,
    "kingdee": KingdeeTarget,
}

__all__ = [
    "SOURCES",
    "TARGETS",
    "CsvSource",
    "FxiaokeTarget",
    "HubSpotTarget",
    "KingdeeTarget",
    "RecordResult",
    "Target",
]
