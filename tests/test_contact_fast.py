"""The fast paths for phones and emails answer only as the libraries would (#20)."""

from __future__ import annotations

import random

import phonenumbers
import pytest
from email_validator import EmailNotValidError, validate_email
from phonenumbers import PhoneNumberType

from guestsync.normalize import _parsed_e164, email_address, fast_e164, fast_email, phone_e164

# Regions with a national prefix, without one, with a carrier-code prefix (CN), a
# transform rule (AR, JP), a calling code shared with other regions (US, GB, RU).
REGIONS = ["TW", "HK", "CN", "SG", "MY", "KR", "IT", "DE", "FR", "AU", "AR", "JP", "US", "GB", "RU"]
TYPES = [
    PhoneNumberType.MOBILE,
    PhoneNumberType.FIXED_LINE,
    PhoneNumberType.TOLL_FREE,
    PhoneNumberType.PREMIUM_RATE,
    PhoneNumberType.VOIP,
    PhoneNumberType.UAN,
]


def _slow(text: str, region: str) -> str | None:
    try:
        return _parsed_e164(text, region)
    except ValueError:
        return None


def _numbers(rng: random.Random) -> list[tuple[str, str]]:
    """Example numbers of each region and type, written nationally and internationally,
    then with digits changed, added and dropped; and random digits."""
    cases = []
    for region in REGIONS:
        code = str(phonenumbers.country_code_for_region(region))
        for kind in TYPES:
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            nsn = phonenumbers.national_significant_number(example)
            for _ in range(40):
                d = list(nsn)
                for _ in range(rng.randrange(3)):
                    d[rng.randrange(len(d))] = rng.choice("0123456789")
                if rng.random() < 0.2:
                    d.insert(rng.randrange(len(d) + 1), rng.choice("0123456789"))
                if rng.random() < 0.2 and len(d) > 3:
                    del d[rng.randrange(len(d))]
                digits = "".join(d)
                for text in (
                    "0" + digits,
                    digits,
                    "+" + code + digits,
                    "+" + code + "0" + digits,
                    code + digits,
                    "00" + code + digits,
                ):
                    for home in (region, rng.choice(REGIONS)):
                        cases.append((text, home))
        for _ in range(200):
            digits = "".join(rng.choice("0123456789") for _ in range(rng.randrange(2, 16)))
            cases.append((rng.choice(["", "+", "0", "00"]) + digits, region))
    return cases


def test_a_fast_phone_is_phonenumbers_answer() -> None:
    cases = _numbers(random.Random(20))
    answered = 0
    for text, region in cases:
        fast = fast_e164(text, region)
        if fast is not None:
            answered += 1
            assert fast == _slow(text, region), (text, region)
    assert answered > len(cases) // 10  # the fast path does answer the common shapes


@pytest.mark.parametrize(
    ("text", "region", "e164"),
    [
        ("0912345678", "TW", "+886912345678"),
        ("+886912345678", "TW", "+886912345678"),
        ("+85291234567", "TW", "+85291234567"),
        ("02-2345-6789".replace("-", ""), "TW", "+886223456789"),
    ],
)
def test_common_phones_take_the_fast_path(text: str, region: str, e164: str) -> None:
    assert fast_e164(text, region) == e164 == _slow(text, region)


@pytest.mark.parametrize(
    ("text", "region"),
    [
        ("+12015550123", "US"),  # +1 is shared by many regions
        ("886912345678", "TW"),  # a country code without its +
        ("002886912345678", "TW"),  # an international prefix
        ("0390123456", "IT"),  # a leading zero kept (Italy)
        ("09012345678", "JP"),  # a national prefix with a transform rule
        ("091234567", "TW"),  # too short: refused, so phonenumbers says why
    ],
)
def test_unsure_phones_go_to_phonenumbers(text: str, region: str) -> None:
    assert fast_e164(text, region) is None


def test_phone_reasons_unchanged() -> None:
    with pytest.raises(ValueError, match="not a valid phone number for region TW"):
        phone_e164("0912 345", "TW")


def _address(rng: random.Random) -> str:
    """Plausible addresses, now and then with a character that breaks or bends a rule."""

    def word() -> str:
        return "".join(rng.choice("abcxyz0189") for _ in range(rng.randrange(1, 9)))

    def joined(n: int, seps: str) -> str:
        return rng.choice(seps).join(word() for _ in range(n))

    local = joined(rng.randrange(1, 4), "._+-")
    host = joined(rng.randrange(1, 4), ".-")
    tld = rng.choice(["com", "tw", "io", "c0", "x", "test", "local", "arpa", "invalid", "onion"])
    odd = rng.choice(["..", "--", ".-", "-.", "@", " ", "!", "'", "(", '"', "xn--", "\\", "é"])
    address = f"{local}@{host}.{tld}"
    if rng.random() < 0.3:
        at = rng.randrange(len(address) + 1)
        address = address[:at] + odd + address[at:]
    if rng.random() < 0.02:
        address = "a" * rng.randrange(60, 70) + address
    if rng.random() < 0.02:
        address = address.replace("@", "@" + "b" * rng.randrange(58, 66) + ".")
    return address.lower()


def _validated(text: str) -> str | None:
    try:
        return validate_email(text, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return None


def test_a_fast_email_is_email_validators_answer() -> None:
    rng = random.Random(26)
    answered = 0
    for _ in range(20000):
        text = _address(rng)
        fast = fast_email(text)
        if fast is not None:
            answered += 1
            assert fast == _validated(text), text
    assert answered > 1000


@pytest.mark.parametrize(
    "text",
    ["a@b.test", "a@mail.local", "a@b.c0", "a@xn--bcher-kva.example", "a..b@c.com", "a@b-.com"],
)
def test_unsure_emails_go_to_email_validator(text: str) -> None:
    assert fast_email(text) is None


def test_emails_as_before() -> None:
    assert fast_email("amy.lin+vip@example.com") == "amy.lin+vip@example.com"
    assert email_address(" Amy@Example.COM ") == "amy@example.com"
    with pytest.raises(ValueError, match="not a valid email"):
        email_address("amy@localhost.test")
