"""The common shapes of phones and emails, normalized without the libraries' full parse (#20).

A distinct phone costs phonenumbers some 10–17 µs (parse, possible, valid: a dozen
regular expressions, each looked up in re's cache), a distinct email email_validator
5–18 µs; in a webhook drain every guest is new, so that was half of mapping's CPU.

Each function here answers only when it is sure of the library's answer, and then gives
exactly that answer; otherwise it returns None and the caller asks the library (which
also words the reason a value is refused). tests/test_contact_fast.py checks the answers
against the libraries' over generated numbers and addresses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from email_validator import SPECIAL_USE_DOMAIN_NAMES
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, PhoneMetadata

# -- phones ---------------------------------------------------------------------------

_DIGITS = re.compile(r"\+?[1-9][0-9]{1,16}|0[0-9]{1,16}")


@dataclass(frozen=True)
class _Plan:
    """What the fast path needs of one region's metadata, compiled once."""

    code: str  # country calling code, as text
    idd: re.Pattern[str] | None  # international dialling prefix
    prefix: re.Pattern[str] | None  # national prefix for parsing (no transform rule)
    general: re.Pattern[str]
    lengths: frozenset[int]  # possible lengths, less the local-only ones
    types: tuple[tuple[re.Pattern[str], frozenset[int]], ...]  # mobile first


def _types(meta: PhoneMetadata) -> tuple[tuple[re.Pattern[str], frozenset[int]], ...]:
    """The number types a valid number matches one of (phonenumbers' _number_type_helper:
    valid iff the general pattern and one type match; the order only decides the type)."""
    out = []
    for name in (
        "mobile",
        "fixed_line",
        "toll_free",
        "premium_rate",
        "shared_cost",
        "voip",
        "personal_number",
        "pager",
        "uan",
        "voicemail",
    ):
        desc = getattr(meta, name)
        if desc is not None and desc.national_number_pattern:
            out.append((re.compile(desc.national_number_pattern), frozenset(desc.possible_length)))
    return tuple(out)


@lru_cache(maxsize=512)
def _plan(region: str) -> _Plan | None:
    """None where the fast path does not apply: a calling code shared by several regions
    (which region a number is from is then phonenumbers' question), a national prefix
    rewritten by a transform rule, or metadata of an unexpected shape."""
    meta = PhoneMetadata.metadata_for_region(region, None)
    if meta is None or meta.country_code is None:
        return None
    if COUNTRY_CODE_TO_REGION_CODE.get(meta.country_code) != (region,):
        return None
    general = meta.general_desc
    if meta.national_prefix_transform_rule or general is None:
        return None
    if not general.national_number_pattern or not general.possible_length:
        return None
    if general.possible_length[0] == -1:
        return None
    return _Plan(
        code=str(meta.country_code),
        idd=re.compile(meta.international_prefix) if meta.international_prefix else None,
        prefix=(
            re.compile(meta.national_prefix_for_parsing)
            if meta.national_prefix_for_parsing
            else None
        ),
        general=re.compile(general.national_number_pattern),
        lengths=frozenset(general.possible_length) - set(general.possible_length_local_only),
        types=_types(meta),
    )


def _region_of(code: int) -> str | None:
    regions = COUNTRY_CODE_TO_REGION_CODE.get(code)
    return regions[0] if regions is not None and len(regions) == 1 else None


def _national(plan: _Plan, number: str) -> str | None:
    """The national significant number phonenumbers keeps, if sure; else None."""
    if plan.prefix is not None and (m := plan.prefix.match(number)) is not None:
        stripped = number[m.end() :]
        # kept stripped when the rest is a number of the region (and its length possible);
        # otherwise phonenumbers weighs more, and so does the slow path
        if not plan.general.fullmatch(stripped) or len(stripped) not in plan.lengths:
            return None
        number = stripped
    if number.startswith("0") or not 2 <= len(number) <= 17:
        return None  # an Italian leading zero, or a length parse refuses
    return number


def _valid(plan: _Plan, nsn: str) -> bool:
    n = len(nsn)
    if n not in plan.lengths or not plan.general.fullmatch(nsn):
        return False
    return any((not lengths or n in lengths) and p.fullmatch(nsn) for p, lengths in plan.types)


def fast_e164(text: str, region: str) -> str | None:
    """E.164 of a number written as digits (+digits for an international one) that
    phonenumbers would parse as valid to exactly that; None: ask phonenumbers."""
    if not _DIGITS.fullmatch(text):
        return None
    if text[0] == "+":
        digits = text[1:]
        for size in (1, 2, 3):
            code = int(digits[:size])
            if code in COUNTRY_CODE_TO_REGION_CODE:
                break
        else:
            return None
        home = _region_of(code)
        plan = _plan(home) if home is not None else None
        rest = digits[size:]
    else:
        plan = _plan(region)
        if plan is None or (plan.idd is not None and plan.idd.match(text)):
            return None  # an international prefix: phonenumbers reads a country code
        if text.startswith(plan.code):
            return None  # maybe the country code without its +: phonenumbers weighs it
        rest = text
    if plan is None:
        return None
    nsn = _national(plan, rest)
    if nsn is None or not _valid(plan, nsn):
        return None
    return f"+{plan.code}{nsn}"


# -- emails ---------------------------------------------------------------------------

# An address email_validator accepts unchanged (lower-case ASCII): a dot-atom local part,
# host labels of letters, digits and single hyphens (no "xn--" or other "ab--" label),
# a top-level label ending with a letter. Longer ones go the slow way.
_EMAIL = re.compile(
    r"[a-z0-9_+\-]+(?:\.[a-z0-9_+\-]+)*"
    r"@(?:[a-z0-9](?:-?[a-z0-9])*\.)+[a-z0-9](?:-?[a-z0-9])*[a-z]"
)
_SPECIAL = tuple(SPECIAL_USE_DOMAIN_NAMES)


def fast_email(text: str) -> str | None:
    """`text` (lower-case) when email_validator would accept it and normalize it to
    itself; None: ask email_validator."""
    if len(text) > 200 or not _EMAIL.fullmatch(text):
        return None
    local, domain = text.split("@")
    if len(local) > 64 or any(len(label) > 63 for label in domain.split(".")):
        return None
    if any(domain == d or domain.endswith("." + d) for d in _SPECIAL):
        return None
    return text


__all__ = ["fast_e164", "fast_email"]
