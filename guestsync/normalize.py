"""Normalization of contact points, shared by mapping transforms and identity keys.

Pure functions, memoized: real exports repeat the same phone and email many times.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from .contact_fast import fast_e164, fast_email

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
