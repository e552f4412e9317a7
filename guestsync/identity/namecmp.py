"""Comparing two names (their `names.name_form`): which agreement level, and whether the
given names clearly differ (the family guard's question).

Levels, strongest first:
- exact: the same name (same CJK characters once folded to one script; the same Latin
  tokens in any order: "Lin Amy" is "Amy Lin");
- romanized: one in CJK, the other its romanization (陳小明 / "Chen Xiaoming" / "Xiao Ming
  Chen"), the family name first or last, the given syllables in written order;
- close: a doubled given syllable written once ("Yu Cai" for "Yuyu Cai", "Shen Yi Yi":
  蔡雨雨 romanized by someone who dropped the repeat); one typo: a changed, dropped, added
  or swapped letter ("Lin" / "Lni", "Anna" /
  "Ana"; also "Lin" / "Lim", the Hokkien spelling of 林), only a swap in two-letter
  words ("Wu" / "Wo" are two surnames), two edits in words of five letters or more; in
  a Latin-only name, one slip in each of the family and given name;
  a homophone written with other characters (IME slip); a space slipped one letter over
  ("Yan gFrank" for 楊Frank: the same letters run together);
- partial: one name inside the other ("Ming Chen" for 陳小明: the POS calls him by the
  last character; "John Smith" in "John Robert Smith");
- initials: "J Smith" / "John Smith";
- differ: anything else, including the same given characters in another order (美玉 and
  玉美 are sisters, not a typo).

Latin tokens stay whole: pinyin syllables are only read out of a Latin word when the other
side is written in CJK ("Xiaoming" against 小明), so "Anna Lee" is never "an na lee".
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz.distance import OSA, JaroWinkler

from .names import pinyin, split_pinyin

EXACT, ROMANIZED, CLOSE, PARTIAL, INITIALS, DIFFER = (
    "exact",
    "romanized",
    "close",
    "partial",
    "initials",
    "differ",
)


@dataclass(frozen=True)
class NameView:
    family: str  # CJK family name (simplified), "" if none
    given: str  # CJK given name in order
    latin: tuple[str, ...]  # whole Latin tokens in order
    fam_py: str  # romanized CJK family name
    given_py: tuple[str, ...]  # romanized CJK given name, syllable by syllable

    @property
    def full_cjk(self) -> bool:
        return bool(self.family and self.given)

    def readings(self) -> tuple[tuple[str, str], ...]:
        """(family, given run together) as it could be read: a Latin-only name has its
        family name first or last."""
        if self.family:
            given = "".join(self.given_py) + "".join(self.latin)
            return ((self.fam_py, given),)
        t = self.latin
        if len(t) < 2:
            return (("", "".join(t)),)
        return ((t[0], "".join(t[1:])), (t[-1], "".join(t[:-1])))

    def syllables(self) -> frozenset[str]:
        if self.family:
            return frozenset((self.fam_py, *self.given_py, *self.latin))
        return frozenset(s for t in self.latin for s in split_pinyin(t))


@lru_cache(maxsize=1 << 17)
def view(form: str) -> NameView:
    if "|" not in form:  # a link folded before name forms: its sorted token key
        return NameView("", "", tuple(form.split()), "", ())
    family, given, latin = form.split("|", 2)
    return NameView(
        family,
        given,
        tuple(latin.split()),
        "".join(pinyin(family)) if family else "",
        pinyin(given) if given else (),
    )


def typo(x: str, y: str) -> bool:
    """One slip of the fingers between two different words."""
    if x == y or not x or not y:
        return False
    if max(len(x), len(y)) <= 2:  # Wu/Uw yes, Wu/Wo no
        return len(x) == len(y) and sorted(x) == sorted(y) and OSA.distance(x, y) == 1
    d = OSA.distance(x, y)
    return d <= 1 or (d == 2 and min(len(x), len(y)) >= 5)


@lru_cache(maxsize=1 << 18)
def compare_forms(a: str, b: str) -> tuple[str, float]:
    """(level, similarity) of two name forms."""
    if a == b:
        return EXACT, 1.0
    va, vb = view(a), view(b)
    sim = JaroWinkler.similarity(" ".join(sorted(va.syllables())), " ".join(sorted(vb.syllables())))
    return _level(va, vb), sim


def _level(va: NameView, vb: NameView) -> str:
    if va.full_cjk and vb.full_cjk and not (va.latin or vb.latin):
        return _cjk_level(va, vb)
    ra, rb = va.readings(), vb.readings()
    if any(fa == fb and ga == gb for fa, ga in ra for fb, gb in rb):
        return EXACT if not (va.family or vb.family) else ROMANIZED
    if any(_one_typo(fa, ga, fb, gb) for fa, ga in ra for fb, gb in rb):
        return CLOSE
    latin_only = not (va.family or vb.family)
    if latin_only and _latin_readings(_undoubled(va.latin)) & _latin_readings(_undoubled(vb.latin)):
        return CLOSE
    if latin_only and any(typo(fa, fb) and typo(ga, gb) for fa, ga in ra for fb, gb in rb):
        return CLOSE  # "Gacía, Matthew" / "Mathew García": a slip in each word
    if _joined(va) & _joined(vb):
        return CLOSE  # a space slipped: "Yan gFrank" / 楊Frank, "WangA llen" / "Allen Wang"
    if _partial(va, vb) or _partial(vb, va):
        return PARTIAL
    if any(fa and fa == fb and _initial(ga, gb) for fa, ga in ra for fb, gb in rb):
        return INITIALS
    return DIFFER


def _joined(v: NameView) -> frozenset[str]:
    """The whole name run together, family name first or last (the given syllables keep
    their order: "Mei Yu Shi" is never 施玉美)."""
    return frozenset(x for f, g in v.readings() for x in (f + g, g + f))


def _undoubled(tokens: tuple[str, ...]) -> tuple[str, ...]:
    """The tokens in order, with a doubled pinyin syllable written once: "yuyu" and "yu yu"
    are "yu" ("anna" is not "an na" doubled, so it stays)."""
    out: list[str] = []
    for t in tokens:
        parts = split_pinyin(t)
        if len(parts) == 2 and parts[0] == parts[1]:
            t = parts[0]
        if not out or out[-1] != t:
            out.append(t)
    return tuple(out)


def _latin_readings(t: tuple[str, ...]) -> frozenset[tuple[str, str]]:
    """(family, given run together) of Latin tokens, the family name first or last: "Amy
    Lin" is "Lin Amy", but "Weng Ling Bai" is not "Weng Bai Ling" (翁玲柏, 翁柏玲)."""
    if len(t) < 2:
        return frozenset({("", "".join(t))})
    return frozenset({(t[0], "".join(t[1:])), (t[-1], "".join(t[:-1]))})


def latin_given(form: str) -> bool:
    """The name has no CJK given name: its spelling can slip letter by letter, so two of
    its typos may differ while both are one slip from it (CJK characters do not slip so)."""
    return not view(form).given


def _cjk_level(va: NameView, vb: NameView) -> str:
    if va.family != vb.family:
        return CLOSE if _homophone(va, vb) and va.given == vb.given else DIFFER
    if va.given == vb.given:
        return EXACT
    if sorted(va.given) == sorted(vb.given):
        return DIFFER  # 美玉 / 玉美: another person of the family
    return CLOSE if _homophone(va, vb) else DIFFER


def _homophone(va: NameView, vb: NameView) -> bool:
    return va.fam_py == vb.fam_py and va.given_py == vb.given_py


def _one_typo(fa: str, ga: str, fb: str, gb: str) -> bool:
    if not ga or not gb:
        return False
    return (fa == fb and typo(ga, gb)) or (ga == gb and bool(fa) and typo(fa, fb))


def _partial(short: NameView, full: NameView) -> bool:
    """`short` names part of `full`: with a CJK side, the family name and the last given
    syllable ("Ming Chen" for 陳小明); else whole tokens of a longer name."""
    if full.family and not short.family and full.given_py:
        last = full.given_py[-1]
        return any(f == full.fam_py and g == last for f, g in short.readings())
    if short.family or full.family:
        return False
    ts, tf = set(short.latin), set(full.latin)
    if ts and ts < tf:  # "Amy" for "Amy Lin": a booking often carries the given name alone
        return True
    sa, sf = short.syllables(), full.syllables()  # "Ming Chen" in "Chen Xiaoming"
    return len(short.latin) >= 2 and len(sa) >= 2 and sa < sf


def _initial(ga: str, gb: str) -> bool:
    if not ga or not gb or ga == gb:
        return False
    short, long_ = (ga, gb) if len(ga) <= len(gb) else (gb, ga)
    return len(short) == 1 and long_.startswith(short)


def given_differs(a: str, b: str) -> bool:
    """The names clearly differ: what the family guard acts on."""
    return compare_forms(a, b)[0] == DIFFER
