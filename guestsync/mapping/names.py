"""`name_split`: one full-name string -> its given or family part.

- CJK names are written surname first with no space: 陳小明 -> family 陳, given 小明.
  Two-character surnames (歐陽, 司馬, 諸葛, 上官 …, traditional and simplified) are
  recognised from `normalize.COMPOUND_SURNAMES`, so 歐陽娜娜 -> family 歐陽, given 娜娜.
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

from functools import lru_cache
from typing import Any

from ..normalize import split_name
from .context import Context, Fn, as_text, options_of


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


__all__ = ["name_split"]
