"""Spellings of one phone or email are normalized once (the issue: cache repeated
normalizations): the cache keys drop what cannot change the result, and every answer,
error messages included, is the one the unkeyed normalization gives."""

from __future__ import annotations

import random

import pytest
from email_validator import EmailNotValidError, validate_email

from guestsync import normalize
from guestsync.normalize import email_address, phone_e164


def _outcome(fn, *args):
    try:
        return "ok", fn(*args)
    except ValueError as exc:
        return "error", str(exc)


def _plain_email(text: str) -> str:
    if not text.strip():
        raise ValueError("empty email")
    try:
        return validate_email(text.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise ValueError(f"not a valid email ({exc})") from None


def test_spellings_of_one_number_are_parsed_once(monkeypatch):
    parses: list[str] = []  # the normalization under the cache (#20: often no parse)
    real = normalize._e164
    monkeypatch.setattr(normalize, "_e164", lambda t, r: parses.append(t) or real(t, r))
    first = phone_e164("0933-271-845", "TW")
    assert phone_e164("+886 933 271 845", "TW") == phone_e164("0933271845", "TW") == first
    assert first == "+886933271845" and len(parses) == 1


def test_spellings_of_one_address_are_validated_once():
    before = normalize._ascii_email.cache_info().misses
    assert email_address("Mei.Lin@Example.COM") == "mei.lin@example.com"
    assert email_address("MEI.LIN@EXAMPLE.COM") == email_address("mei.lin@example.com")
    assert normalize._ascii_email.cache_info().misses == before + 1


@pytest.mark.parametrize("region", ["TW", "HK", "US"])
def test_keyed_phone_answers_equal_the_plain_parse(region):
    rng = random.Random(region)
    shapes = ["{d}", "0{d}", "+{d}", "+886 {d}", "00{d}", "0{a}-{b}-{c}", "+886 {a} {b} {c}"]
    shapes += ["{a}-{b}", "+1 {a}-{b}-{c}", "(0{a}) {b}", "0{a}-{b}-{c} ext 12", "+852 {a} {b}"]
    for _ in range(400):
        d = "".join(rng.choice("0123456789") for _ in range(rng.randint(2, 14)))
        n = f"9{rng.randrange(10**8):08d}"
        text = rng.choice(shapes).format(d=d, a=n[:3], b=n[3:6], c=n[6:])
        assert _outcome(phone_e164, text, region) == _outcome(normalize._e164, text, region)


def test_keyed_email_answers_equal_the_plain_validation():
    rng = random.Random(7)
    domains = ["example.com", "Example.COM", "EXAMPLE", "localhost", "ex..com", "bücher.ch"]
    for _ in range(400):
        user = "".join(rng.choice("abcXYZ._-+0123!#") for _ in range(rng.randint(0, 10)))
        for text in (f"{user}@{rng.choice(domains)}", user):
            for spelling in (text, text.upper(), text.lower()):
                assert _outcome(email_address, spelling) == _outcome(_plain_email, spelling)
