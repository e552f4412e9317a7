"""`name_split`: one full-name string -> its given or family part.

- CJK names are written surname first with no space: 陳小明 -> family 陳, given 小明.
  Two-character surnames (歐陽, 司馬, 諸葛, 上官 …, traditional and simplified) are
  recognised from the list below, so 歐陽娜娜 -> family 歐陽, given 娜娜.
- Latin names are "Given Family" (the last word is the family name) unless written
  "Family, Given" with a comma; `order: family_first` reads "LIN Mei-ling" as family LIN.
- A single Latin word is a given name; a lone CJK character, or a lone two-character
  surname, is a family name. Transliterated names with a middle dot (約翰·史密斯) are
  given-first.

Use it on two fields, one part each:
    guest.family_name: {column: 姓名, transforms: [{name_split: family}]}
    guest.given_name:  {column: 姓名, transforms: [{name_split: given}]}

Not handled (documented): Hong Kong married names with two surnames (陳李美玲), and
Japanese names written without a space (their surnames are often two or three characters).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any

from .context import Context, Fn, as_text, options_of

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


def name_split(args: Any, ctx: Context) -> Fn:
    """Options: `part` (`given` or `family`, also given bare: `{name_split: family}`) and
    `order` (`given_first`, default, or `family_first`) for Latin names."""
    opts = options_of(args, "name_split", {"part", "order"}, scalar="part")
    part = opts.get("part")
    if part not in ("given", "family"):
        raise ValueError("say which part: {name_split: given} or {name_split: family}")
    order = opts.get("order", "given_first")
    if order not in ("given_first", "family_first"):
        raise ValueError("`order:` is `given_first` (default) or `family_first`")
    index = 0 if part == "given" else 1
    if order == "family_first":
        return lambda v: _split_family_first(as_text(v))[index]
    return lambda v: split_name(as_text(v))[index]


@lru_cache(maxsize=65536)
def _split_family_first(full: str) -> tuple[str | None, str | None]:
    return split_name(full, family_first=True)


__all__ = ["COMPOUND_SURNAMES", "name_split", "split_name"]
