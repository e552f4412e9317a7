"""Connector registries: the `type:` in guestsync.yaml -> the class that implements it."""

from __future__ import annotations

from .base import RecordResult, Target
from .csv_source import CsvSource
from .fxiaoke import FxiaokeTarget
from .hubspot import HubSpotTarget
from .jiandaoyun import JiandaoyunSource
from .kingdee import KingdeeTarget

SOURCES: dict[str, type] = {"csv": CsvSource, "jiandaoyun": JiandaoyunSource}
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
    "JiandaoyunSource",
    "KingdeeTarget",
    "RecordResult",
    "Target",
]
