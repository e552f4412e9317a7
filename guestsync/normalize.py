"""Normalization of contact points, shared by mapping transforms and identity keys.

Pure functions, memoized: real exports repeat the same phone and email many times.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, PhoneMetadata

# Digits, spaces and dashes only (an optional leading +): phonenumbers reads such a number
# the same whatever its spaces and dashes, so they are dropped from the cache key.
_PLAIN_PHONE = re.compile(r"\+?[0-9][0-9 \-]*")
_PHONE_SEPARATORS = str.maketrans("", "", " -")


@lru_cache(maxsize=16384)
def phone_e164(raw: str, region: str) -> str:
    """A phone number in E.164 (+886912345678), or ValueError saying why not.

    `region` applies to numbers written without a country code (0912-345-678 in TW).
    Full-width digits and separators from CJK input methods are folded first.
    """
    text = unicodedata.normalize("NFKC", raw).strip()
    if not text:
        raise ValueError("empty phone number")
    if _PLAIN_PHONE.fullmatch(text):  # 0912-345-678, 0912345678 and +886 912 345 678 ...
        e164 = _plain_e164(text.translate(_PHONE_SEPARATORS), region)
        if e164 is not None:  # ... are parsed once; a failure is explained as written
            return e164
    return _e164(text, region)


_PLAIN: dict[tuple[str, str], str | None] = {}


def _plain_e164(digits: str, region: str) -> str | None:
    """E.164 of a number written as digits (maybe +digits), None if it is not valid.
    A number's own E.164 form is remembered with it: "+886 912 345 678" after
    "0912-345-678" costs no parse."""
    key = (digits, region)
    if key in _PLAIN:
        return _PLAIN[key]
    if len(_PLAIN) >= 1 << 15:
        _PLAIN.clear()
    try:
        e164: str | None = _e164(digits, region)
    except ValueError:
        e164 = None
    _PLAIN[key] = e164
    if e164 is not None:
        _PLAIN[(e164, region)] = e164
    return e164


def _e164(text: str, region: str) -> str:
    if text.startswith("00"):
        text = "+" + text[2:]
    fast = fast_e164(text, region)
    return fast if fast is not None else _parsed_e164(text, region)


def _parsed_e164(text: str, region: str) -> str:
    """phonenumbers' answer (and its reason for refusing the number)."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"not a phone number ({exc._msg})") from None
    if not phonenumbers.is_possible_number(number):
        raise ValueError(f"not a possible phone number for region {region}")
    if not phonenumbers.is_valid_number(number):
        raise ValueError(f"not a valid phone number for region {region}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@lru_cache(maxsize=16384)
def email_address(raw: str) -> str:
    """A normalized email (trimmed, domain lower-cased, local part lower-cased).

    Validation is syntactic only (no DNS): the hub runs offline and at import speed.
    The local part is lower-cased too because every CRM we push to (HubSpot, Zoho,
    BottleCRM) treats emails case-insensitively.
    """
    text = unicodedata.normalize("NFKC", raw).strip()
    if not text:
        raise ValueError("empty email")
    if text.isascii():  # Amy@Example.com and amy@example.com: validated once
        folded = _ascii_email(text.lower())
        if folded is not None:
            return folded
    return _email(text)


@lru_cache(maxsize=16384)
def _ascii_email(text: str) -> str | None:
    """An ASCII address, already lower-cased, normalized; None if not valid (the caller
    explains why from the address as written)."""
    try:
        return fast_email(text) or _email(text)
    except ValueError:
        return None


def _email(text: str) -> str:
    try:
        result = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(f"not a valid email ({exc})") from None
    return result.normalized.lower()


# -- the common shapes of phones and emails, without the libraries' full parse (#20) ---
# A distinct phone costs phonenumbers some 10–17 µs (parse, possible, valid: a dozen
# regular expressions, each looked up in re's cache), a distinct email email_validator
# 5–18 µs; in a webhook drain every guest is new, so that was half of mapping's CPU.
# fast_e164 and fast_email answer only when sure of the library's answer, and then give
# exactly that answer; otherwise None, and the library is asked (it also words the
# reason a value is refused). tests/test_contact_fast.py checks them against the
# libraries over generated numbers and addresses.


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


_NON_NAME = re.compile(r"[\s\W_]+", re.UNICODE)


def fold_name(name: str | None) -> str:
    """A comparison key for a name: NFKC, case-folded, no spaces or punctuation."""
    if not name:
        return ""
    return _NON_NAME.sub("", unicodedata.normalize("NFKC", name).casefold())


def name_tokens(name: str | None) -> frozenset[str]:
    if not name:
        return frozenset()
    text = unicodedata.normalize("NFKC", name).casefold()
    return frozenset(t for t in _NON_NAME.split(text) if t)


# -- full names: given and family parts (the one list of two-character surnames) ------

# Two-character (複姓) surnames, traditional and simplified forms.
COMPOUND_SURNAMES = frozenset(
    """
    歐陽 欧阳 司馬 司马 諸葛 诸葛 上官 東方 东方 皇甫 尉遲 尉迟 公孫 公孙 令狐 慕容 司徒
    夏侯 長孫 长孙 宇文 軒轅 轩辕 端木 西門 西门 南宮 南宫 獨孤 独孤 澹臺 澹台 公羊 申屠
    太史 呼延 聞人 闻人 万俟 鍾離 钟离 濮陽 濮阳 淳于 單于 单于 百里 東郭 东郭 拓跋 司空
    左丘 第五 穀梁 谷梁 梁丘 羊舌 微生 公冶 赫連 赫连 宗政 亓官 仲孫 仲孙 巫馬 巫马 子車
    子车 顓孫 颛孙 壤駟 壤驷 公良 漆雕 樂正 乐正 宰父 段干 即墨 公西 閭丘 闾丘 東門 东门
    范姜 張簡 张简 張廖 张廖 劉張 刘张 鮮于 鲜于 南門 南门 呼延 拓拔
    남궁 황보 제갈 선우 독고 서문 사공
    """.split()  # noqa: SIM905 (a block of names reads better than a list literal)
)

_CJK = re.compile(r"^[\u3400-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f\uac00-\ud7af·・\s]+$")
_SPACES = re.compile(r"\s+")


@lru_cache(maxsize=65536)
def split_name(full: str, *, family_first: bool = False) -> tuple[str | None, str | None]:
    """(given, family) of one full name; either may be None. Memoized: names repeat, and
    a mapping usually asks twice (once per part)."""
    text = _SPACES.sub(" ", unicodedata.normalize("NFKC", full)).strip()
    if not text:
        return None, None
    if _CJK.match(text):
        compact = text.replace(" ", "")
        if "·" in compact or "・" in compact:  # transliterated foreign name: 約翰·史密斯
            parts = [p for p in re.split("[·・]", compact) if p]
            return "·".join(parts[:-1]) or None, parts[-1] if parts else None
        n = 2 if compact[:2] in COMPOUND_SURNAMES else 1
        if len(compact) <= n:
            return None, compact
        return compact[n:], compact[:n]
    if "," in text:
        family, _, given = (p.strip() for p in text.partition(","))
        return given or None, family or None
    words = text.split(" ")
    if len(words) == 1:
        return text, None
    if family_first:
        return " ".join(words[1:]), words[0]
    return " ".join(words[:-1]), words[-1]
