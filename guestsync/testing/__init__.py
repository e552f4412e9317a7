"""Test doubles that follow the vendors' documented shapes, and a helper to serve them
on 127.0.0.1. Used by the tests, the demo and the benchmarks."""

from .fake_fxiaoke import FakeFxiaoke
from .fake_hubspot import FakeHubSpot, FaultPlan
from .fake_kingdee import FakeKingdee
from .server import ServerThread

__all__ = ["FakeFxiaoke", "FakeHubSpot", "FakeKingdee", "FaultPlan", "ServerThread"]
