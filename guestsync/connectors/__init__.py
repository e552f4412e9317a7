"""Connector registries: the `type:` in guestsync.yaml -> the class that implements it."""

from __future__ import annotations

from .base import RecordResult, Target
from .bottlecrm import BottleCrmTarget
from .csv_source import CsvSource
from .fxiaoke import FxiaokeTarget
from .hubspot import HubSpotTarget
from .jiandaoyun import JiandaoyunSource
from .kingdee import KingdeeTarget
from .rest import RestTarget
from .rest_source import RestSource
from .salesforce import SalesforceTarget
from .square import SquareSource
from .webhook_source import WebhookSource
from .zoho import ZohoTarget

SOURCES: dict[str, type] = {
    "csv": CsvSource,
    "rest": RestSource,
    "square": SquareSource,
    "webhook": WebhookSource,
    "jiandaoyun": JiandaoyunSource,
}
TARGETS: dict[str, type] = {
    "hubspot": HubSpotTarget,
    "salesforce": SalesforceTarget,
    "zoho": ZohoTarget,
    "bottlecrm": BottleCrmTarget,
    "rest": RestTarget,
    "fxiaoke": FxiaokeTarget,
    "kingdee": KingdeeTarget,
}

__all__ = [
    "SOURCES",
    "TARGETS",
    "BottleCrmTarget",
    "CsvSource",
    "FxiaokeTarget",
    "HubSpotTarget",
    "JiandaoyunSource",
    "KingdeeTarget",
    "RecordResult",
    "RestSource",
    "RestTarget",
    "SalesforceTarget",
    "SquareSource",
    "Target",
    "WebhookSource",
    "ZohoTarget",
]
