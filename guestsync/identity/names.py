"""Name and address folding: one comparable form for 陳小明, 陈小明, "Chen Xiao Ming" and
"Ming Chen".

Traditional Chinese is folded to simplified with OpenCC (t2s), CJK characters are
romanized syllable by syllable with pypinyin, Latin names lose accents and case, and a
run-together romanization ("Xiaoming") is split into pinyin syllables so it lines up
with the per-character form. The result is a sorted tuple of tokens: word order (family
name first or last) no longer matters. It is what blocking keys and search use: loose on
purpose, since a key only decides who is compared.

Comparing needs more than that key: "Anna" cut into "an na" or 美玉 sorted like 玉美 lose
what tells two people apart. `name_form` keeps the structure (CJK family and given name in
order, Latin tokens whole and in order) for `namecmp`. Memoized: real data repeats names.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache, lru_cache

_CJK_CHARS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK = re.compile(f"[{_CJK_CHARS}]")
# A CJK run, or a run of other letters/digits: "林Amy" is two words.
_WORD = re.compile(f"[{_CJK_CHARS}]+|[^\\W_{_CJK_CHARS}]+", re.UNICODE)
# Every pinyin syllable (toneless; v for ü), as pypinyin spells them: used to split a
# run-together romanization ("xiaoming") the same way as per-character romanization.
_SYLLABLES = frozenset(
    (  # noqa: SIM905
        "a ai an ang ao ba bai ban bang bao bei ben beng bi bian biao bie bin bing bo bu ca cai "
        "can cang cao ce cen ceng cha chai chan chang chao che chen cheng chi chong chou chu chua "
        "chuai chuan chuang chui chun chuo ci cong cou cu cuan cui cun cuo da dai dan dang dao de "
        "den deng di dian diao die ding diu dong dou du duan dui dun duo e ei en eng er fa fan "
        "fang fei fen feng fiao fo fou fu ga gai gan gang gao ge gei gen geng gong gou gu gua "
        "guai guan guang gui gun guo ha hai han hang hao he hei hen heng hong hou hu hua huai "
        "huan huang hui hun huo ji jia jian jiang jiao jie jin jing jiong jiu ju juan jue jun ka "
        "kai kan kang kao ke ken keng kong kou ku kua kuai kuan kuang kui kun kuo la lai lan lang "
        "lao le lei leng li lia lian liang liao lie lin ling liu lo long lou lu luan lun luo lv "
        "lve ma mai man mang mao me mei men meng mi mian miao mie min ming miu mo mou mu na "
        "nai nan nang nao ne nei nen neng ni nian niang niao nie nin ning niu nong nou nu nuan "
        "nun nuo nv nve o ou pa pai pan pang pao pei pen peng pi pian piao pie pin ping po pou pu "
        "qi qia qian qiang qiao qie qin qing qiong qiu qu quan que qun ran rang rao re ren reng "
        "ri rong rou ru rua ruan rui run ruo sa sai san sang sao se sen seng sha shai shan shang "
        "shao she shen sheng shi shou shu shua shuai shuan shuang shui shun shuo si song sou su "
        "suan sui sun suo ta tai tan tang tao te teng ti tian tiao tie ting tong tou tu tuan tui "
        "tun tuo wa wai wan wang wei wen weng wo wu xi xia xian xiang xiao xie xin xing xiong xiu "
        "xu xuan xue xun ya yan yang yao ye yi yin ying yo yong you yu yuan yue yun za zai zan "
        "zang zao ze zei zen zeng zha zhai zhan zhang zhao zhe zhen zheng zhi zhong zhou zhu zhua "
        "zhuai zhuan zhuang zhui zhun zhuo zi zong zou zu zuan zui zun zuo "
    ).split()
)


@cache
def _t2s():  # type: ignore[no-untyped-def]
    import opencc  # imported lazily: loading the dictionaries takes a moment

    return opencc.OpenCC("t2s")


@lru_cache(maxsize=1 << 16)
def pinyin(text: str) -> tuple[str, ...]:
    from pypinyin import lazy_pinyin

    return tuple(s.lower() for s in lazy_pinyin(text, errors="ignore") if s.strip())


@lru_cache(maxsize=1 << 16)
def simplified(text: str) -> str:
    """Traditional Chinese folded to simplified (陳 -> 陈); other text unchanged."""
    if not _CJK.search(text):
        return text
    return _t2s().convert(text)


@cache
def _s2t():  # type: ignore[no-untyped-def]
    import opencc

    return opencc.OpenCC("s2t")


@lru_cache(maxsize=1 << 16)
def traditional(text: str) -> str:
    """Simplified Chinese written in traditional characters (欧阳 -> 歐陽); other text
    unchanged. Character by character (s2t, not the Taiwan phrase table): names are not
    phrases."""
    if not _CJK.search(text):
        return text
    return _s2t().convert(text)


@lru_cache(maxsize=1 << 16)
def script(text: str) -> str | None:
    """ "traditional" or "simplified" when the text has characters that exist in only one
    of the scripts, else None (林淑芬 reads the same in both; Latin text has none).
    Memoized: each golden record asks it of every name of every linked record."""
    if not _CJK.search(text):
        return None
    if simplified(text) != text:
        return "traditional"
    if traditional(text) != text:
        return "simplified"
    return None


def _latin(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def split_pinyin(word: str) -> list[str]:
    """ "xiaoming" -> ["xiao", "ming"] when the word is wholly pinyin, else [word].

    Fewest syllables wins ("fenguan" is fen-guan, never feng-uan: "uan" is no syllable).
    """
    n = len(word)
    if n <= 3 or not word.isascii():
        return [word]
    best: list[list[str] | None] = [None] * (n + 1)
    best[0] = []
    for i in range(n):
        if best[i] is None:
            continue
        for j in range(i + 1, min(n, i + 6) + 1):
            if word[i:j] in _SYLLABLES:
                cand = [*best[i], word[i:j]]  # type: ignore[misc]
                if best[j] is None or len(cand) < len(best[j]):  # type: ignore[arg-type]
                    best[j] = cand
    split = best[n]
    return split if split and len(split) > 1 else [word]


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
            tokens.extend(pinyin(simplified(word)))
        else:
            for part in split_pinyin(_latin(word)):
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


# Two-character family names (Taiwan, Hong Kong, mainland): 歐陽娜娜 is 歐陽 + 娜娜.
_COMPOUND = frozenset(
    [
        "欧阳",
        "司马",
        "诸葛",
        "上官",
        "张简",
        "范姜",
        "司徒",
        "东方",
        "皇甫",
        "夏侯",
        "慕容",
        "公孙",
        "令狐",
    ]
)
_APOSTROPHE = re.compile(r"(?<=\w)['’‘`-](?=\w)")


@lru_cache(maxsize=1 << 17)
def name_form(name: str | None) -> str:
    """The structured comparable form of a name: "CJK family|CJK given|latin tokens".

    CJK in simplified script, the given name in its written order (美玉 is not 玉美); Latin
    words accent- and case-folded, whole and in order ("anna lee", never "an na lee").
    "林Amy" is "林||amy"; "Chen Xiao Ming" is "||chen xiao ming"."""
    if not name:
        return ""
    text = _APOSTROPHE.sub("", unicodedata.normalize("NFKC", name))
    cjk: list[str] = []
    latin: list[str] = []
    for word in _WORD.findall(text):
        if _CJK.search(word):
            cjk.append(simplified(word))
        else:
            latin.append(_latin(word))
    family = given = ""
    if cjk:
        first = cjk[0]
        if len(cjk) > 1 and len(first) <= 2:  # 陳 小明: family name written apart
            family, given = first, "".join(cjk[1:])
        elif len(first) >= 3 and first[:2] in _COMPOUND:
            family, given = first[:2], first[2:] + "".join(cjk[1:])
        else:
            family, given = first[:1], first[1:] + "".join(cjk[1:])
    if not (family or latin):
        return ""
    return f"{family}|{given}|{' '.join(latin)}"
