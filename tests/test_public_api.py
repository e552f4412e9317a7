"""The public face of the package is pinned: adding or removing a name is a decision."""

from __future__ import annotations

import guestsync
from guestsync import errors

PUBLIC = {
    "AuthError",
    "BadRecordError",
    "Config",
    "ConfigError",
    "ConfigErrors",
    "GuestsyncError",
    "Hub",
    "PermanentError",
    "ProtocolError",
    "QuotaExhaustedError",
    "RateLimitedError",
    "RemoteError",
    "RetryableError",
    "Store",
    "__version__",
    "load_config",
}


def test_all_is_pinned_and_importable():
    assert set(guestsync.__all__) == PUBLIC
    for name in guestsync.__all__:
        assert getattr(guestsync, name) is not None


def test_every_error_class_is_public_and_under_one_root():
    classes = {
        n for n, v in vars(errors).items() if isinstance(v, type) and issubclass(v, Exception)
    }
    assert classes <= set(guestsync.__all__), classes - set(guestsync.__all__)
    assert all(issubclass(getattr(errors, n), errors.GuestsyncError) for n in classes)
