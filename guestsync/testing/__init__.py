"""Test doubles that follow the vendors' documented shapes, and a helper to serve them
on 127.0.0.1. Used by the tests, the demo and the benchmarks."""

from .fake_bottlecrm import FakeBottleCrm
from .fake_fxiaoke import FakeFxiaoke
from .fake_hubspot import FakeHubSpot
from .fake_kingdee import FakeKingdee
from .fake_rest import FakeRestCrm, rest_target_options
from .fake_salesforce import FakeSalesforce
from .fake_zoho import FakeZoho
from .fakecrm import FakeCrm, FaultPlan, RateWindow
from .server import ServerThread

__all__ = [
    "FakeBottleCrm",
    "FakeCrm",
    "FakeFxiaoke",
    "FakeHubSpot",
    "FakeKingdee",
    "FakeRestCrm",
    "FakeSalesforce",
    "FakeZoho",
    "FaultPlan",
    "RateWindow",
    "ServerThread",
    "rest_target_options",
]
