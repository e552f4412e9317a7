"""The BottleCRM harness's own small parts (the server itself: test_bottlecrm_e2e.py)."""

from __future__ import annotations

import pytest

from guestsync.testing import bottlecrm


def test_no_python_312_is_a_clear_skip_reason(monkeypatch, tmp_path):
    monkeypatch.setattr(bottlecrm.shutil, "which", lambda name: None)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv(bottlecrm.PYTHON_ENV, raising=False)
    monkeypatch.setattr(bottlecrm.sys, "version_info", (3, 11, 7))
    with pytest.raises(bottlecrm.Unavailable, match=r"needs Python >= 3\.12"):
        bottlecrm.find_python312()


def test_an_interpreter_named_in_the_environment_is_used(monkeypatch, tmp_path):
    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\necho True\n")
    fake.chmod(0o755)
    monkeypatch.setenv(bottlecrm.PYTHON_ENV, str(fake))
    assert bottlecrm.find_python312() == str(fake)


def test_devlogin_output_parsing():
    out = "Created user a@b\n\n=== Tokens ===\naccess_token:  eyJabc\nrefresh_token: eyJdef\n"
    assert bottlecrm._access_token(out) == "eyJabc"
    assert bottlecrm._access_token('{"access_token": "eyJx"}') == "eyJx"
    with pytest.raises(RuntimeError, match="no access token"):
        bottlecrm._access_token("nothing here")
