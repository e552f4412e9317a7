"""Name and address folding: one comparable form for 陳小明, 陈小明, "Chen Xiao Ming" and
"Ming Chen".

Traditional Chinese is folded to simplified with OpenCC (t2s), CJK characters are
romanized syllable by syllable with pypinyin, Latin names lose accents and case, and a
run-together romanization ("Xiaoming") is split into pinyin syllables so it lines up
with the per-character form. The result is a sorted tuple of tokens: word order (family
name first or last) no longer matters. Memoized: real data repeats names a lot.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache, lru_cache

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_INITIAL = "(?:zh|ch|sh|[bpmfdtnlgkhjqxrzcsyw])?"
_FINAL = (
    "(?:iang|iong|uang|ueng|ang|eng|ing|ong|ian|iao|uai|uan|van|ai|ei|ao|ou|an|en|er|in|un"
    "|ia|ie|iu|ua|uo|ue|ve|ui|vn|a|o|e|i|u|v)"
)
_SYLLABLE = re.compile(_INITIAL + _FINAL)
_PINYIN_WORD = re.compile(f"(?:{_INITIAL}{_FINAL})+")


@cache
def _t2s():  # type: ignore[no-untyped-def]
    import opencc  # imported lazily: loading the dictionaries takes a moment

    return opencc.OpenCC("t2s")


@lru_cache(maxsize=1 << 16)
def _pinyin(text: str) -> tuple[str, ...]:
    from pypinyin import lazy_pinyin

    return tuple(s.lower() for s in lazy_pinyin(text, errors="ignore") if s.strip())


def simplified(text: str) -> str:
    """Traditional Chinese folded to simplified (陳 -> 陈); other text unchanged."""
    if not _CJK.search(text):
        return text
    return _t2s().convert(text)


def _latin(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _split_pinyin(word: str) -> list[str]:
    """ "xiaoming" -> ["xiao", "ming"] when the word is wholly pinyin, else [word]."""
    if len(word) <= 3 or not _PINYIN_WORD.fullmatch(word):
        return [word]
    parts = _SYLLABLE.findall(word)
    return parts if "".join(parts) == word else [word]


@lru_cache(maxsize=1 << 17)
def name_tokens(name: str | None) -> tuple[str, ...]:
    """Sorted romanized tokens of a name: "陳小明" and "Ming Xiao Chen" both give
    ("chen", "ming", "xiao")."""
    if not name:
        return ()
    text = unicodedata.normalize("NFKC", name)
    tokens: list[str] = []
    for word in _WORD.findall(text):
        if _CJK.search(word):
            tokens.extend(_pinyin(simplified(word)))
        else:
            for part in _split_pinyin(_latin(word)):
                tokens.append(part)
    return tuple(sorted(t for t in tokens if t))


def name_key(name: str | None) -> str:
    """The blocking/compare form of a name: its sorted tokens joined by spaces."""
    return " ".join(name_tokens(name))


_ADDRESS_NOISE = re.compile(r"[\s,.#\-–/()（），、。]+")


@lru_cache(maxsize=1 << 16)
def address_key(address: str | None) -> str:
    """A postal address folded for comparison: NFKC, simplified, case and punctuation gone."""
    if not address:
        return ""
    text = simplified(unicodedata.normalize("NFKC", address)).casefold()
    return _ADDRESS_NOISE.sub(" ", text).strip()
