"""Term frequency: agreeing on a common name is weaker evidence than on a rare one.

The name weight of an "exact" or "romanized" agreement assumes a typical name. As splink
does (u of the level replaced by the frequency of the value agreed on), the weight is
adjusted by log2(typical / frequency(name)): two "Amy Chen" agree on a name about one
guest in a thousand has, two 鍾宜蓁 on one almost nobody else has. The adjustment is clamped
(`max_down`, `max_up`): the frequency is an estimate, and a rare name alone must not
merge two records that share nothing else.

The frequency of a name is that of its family name times that of its given name, from
built-in shares (family names of Taiwan, Hong Kong and the mainland by romanization;
common Western given and family names), which `identity.term_frequency` can extend with
the user's own counts.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from .namecmp import view
from .names import split_pinyin

# Share of people with this family name (by romanization: 陳 is chen, and Chan/Tan in
# Hong Kong/Hokkien spelling). Taiwan household registration shares for the pinyin forms.
SURNAMES: dict[str, float] = {
    "chen": 0.11,
    "lin": 0.083,
    "huang": 0.06,
    "zhang": 0.053,
    "li": 0.051,
    "wang": 0.041,
    "wu": 0.04,
    "liu": 0.032,
    "cai": 0.029,
    "yang": 0.026,
    "xu": 0.023,
    "zheng": 0.019,
    "xie": 0.018,
    "guo": 0.017,
    "hong": 0.016,
    "zeng": 0.014,
    "qiu": 0.014,
    "liao": 0.013,
    "lai": 0.013,
    "zhou": 0.011,
    "ye": 0.011,
    "su": 0.01,
    "zhuang": 0.009,
    "lv": 0.009,
    "jiang": 0.009,
    "he": 0.008,
    "xiao": 0.008,
    "luo": 0.008,
    "gao": 0.008,
    "pan": 0.007,
    "jian": 0.007,
    "zhu": 0.007,
    "zhong": 0.007,
    "you": 0.006,
    "peng": 0.006,
    "zhan": 0.006,
    "hu": 0.005,
    "shi": 0.005,
    "shen": 0.005,
    "yu": 0.005,
    # Wade-Giles / Cantonese / Hokkien spellings
    "chan": 0.05,
    "tan": 0.02,
    "lee": 0.05,
    "wong": 0.05,
    "cheung": 0.03,
    "chang": 0.05,
    "lau": 0.03,
    "ho": 0.02,
    "tsai": 0.029,
    "hsu": 0.023,
    "yeh": 0.011,
    "kuo": 0.017,
    "lim": 0.01,
    "ng": 0.01,
    "chow": 0.01,
    "tsang": 0.005,
    "leung": 0.02,
    "kwok": 0.01,
    # Western
    "smith": 0.01,
    "johnson": 0.008,
    "williams": 0.007,
    "brown": 0.006,
    "jones": 0.006,
    "taylor": 0.005,
    "miller": 0.005,
    "davis": 0.005,
    "garcia": 0.005,
    "wilson": 0.004,
}
GIVEN_NAMES: dict[str, float] = dict.fromkeys(
    (  # noqa: SIM905
        "amy david kevin sophie jason grace eric vivian allen cindy peter irene tony joyce "
        "ryan emma leo nina oscar tina victor wendy henry iris frank linda jack sandy ken "
        "mandy john mary michael sarah robert emily james olivia daniel laura thomas rachel "
        "matthew hannah christopher jessica andrew katherine elizabeth anna alice"
    ).split(),
    0.01,
)
RARE_SURNAME = 0.002
CJK_GIVEN = 3e-4  # a two-character given name: thousands are in use
LATIN_GIVEN = 0.002


def frequency(
    form: str,
    surnames: Mapping[str, float] = SURNAMES,
    given_names: Mapping[str, float] = GIVEN_NAMES,
) -> float:
    """Estimated share of people bearing this name (a `names.name_form`)."""
    v = view(form)
    best = 0.0
    for fam, given in v.readings():
        f_fam = surnames.get(fam, RARE_SURNAME) if fam else 1.0
        if (v.given and not v.latin) or len(split_pinyin(given)) > 1:
            f_given = CJK_GIVEN  # 小明, or its romanization "Xiaoming"
        else:
            f_given = given_names.get(given, LATIN_GIVEN) if given else 1.0
        best = max(best, f_fam * f_given)
    return best


def adjustment(
    form: str,
    *,
    typical: float,
    max_down: float,
    max_up: float,
    surnames: Mapping[str, float] = SURNAMES,
    given_names: Mapping[str, float] = GIVEN_NAMES,
) -> float:
    """Bits added to (negative: taken from) an agreeing name's weight."""
    freq = max(frequency(form, surnames, given_names), 1e-12)
    return max(-max_down, min(max_up, math.log2(typical / freq)))
