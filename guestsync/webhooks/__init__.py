"""Webhooks: signature schemes, platform profiles (how a body becomes inbox rows), the
receiver the Flask app calls, and the worker-side fetch of id-only events."""

from .schemes import SCHEMES, Scheme, SignatureError, SignedRequest, build_scheme

__all__ = ["SCHEMES", "Scheme", "SignatureError", "SignedRequest", "build_scheme"]
