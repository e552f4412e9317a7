"""The membership sections of `guestsync report`: members and non-members (in all and
per RFM segment), guests per tier, tier changes this month, points liability
(outstanding balances, and how many stated balances disagree with their ledger),
coupon redemption by campaign. Each is a
`report_sections`-style function; `report.build` lays them out after its own. A store
with no programme, no tier and no coupon gets none of them."""

from __future__ import annotations

from typing import Any

from .report_figures import Section
from .report_sections import Context, number, percent

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "members": "Members and non-members",
        "members_note": "A member is a guest in a programme (a member row, points or a"
        " balance) or with a loyalty number.",
        "member": "members",
        "non_member": "non-members",
        "by_segment": "Members in each segment",
        "col_segment": "Segment",
        "tiers": "Guests by tier",
        "tier_changes": "Tier changes since {date}",
        "liability": "Points liability (outstanding balances)",
        "liability_note": "{n} member(s) have a stated balance that disagrees with their"
        " points ledger: see `guestsync guests show`.",
        "coupons": "Coupon redemption by campaign",
        "col_what": "",
        "col_guests": "Guests",
        "col_tier": "Tier",
        "col_change": "Change",
        "col_from": "From",
        "col_to": "To",
        "col_programme": "Programme",
        "col_points": "Points",
        "col_members": "Members",
        "col_campaign": "Campaign",
        "col_issued": "Issued",
        "col_redeemed": "Redeemed",
        "col_expired": "Expired",
        "col_open": "Open",
        "col_rate": "Rate",
        "upgrade": "upgrade",
        "downgrade": "downgrade",
        "change": "change",
        "none": "none this month",
    },
    "zh-TW": {
        "members": "會員與非會員",
        "members_note": "會員：在會員方案中（會員資料、點數或餘額）或有會員卡號的客人。",
        "member": "會員",
        "non_member": "非會員",
        "by_segment": "各分群的會員",
        "col_segment": "分群",
        "tiers": "各等級人數",
        "tier_changes": "{date} 起的等級異動",
        "liability": "點數負債（未使用點數）",
        "liability_note": "{n} 位會員的餘額與點數明細對不上：見 `guestsync guests show`。",
        "coupons": "各活動優惠券使用率",
        "col_guests": "人數",
        "col_tier": "等級",
        "col_change": "異動",
        "col_from": "原等級",
        "col_to": "新等級",
        "col_programme": "方案",
        "col_points": "點數",
        "col_members": "會員數",
        "col_campaign": "活動",
        "col_issued": "發出",
        "col_redeemed": "已使用",
        "col_expired": "已過期",
        "col_open": "未使用",
        "col_rate": "使用率",
        "upgrade": "升等",
        "downgrade": "降等",
        "change": "變更",
        "none": "本月沒有",
    },
    "zh-CN": {
        "members": "会员与非会员",
        "members_note": "会员：在会员方案中（会员资料、积分或余额）或有会员卡号的客人。",
        "member": "会员",
        "non_member": "非会员",
        "by_segment": "各分群的会员",
        "col_segment": "分群",
        "tiers": "各等级人数",
        "tier_changes": "{date} 起的等级变动",
        "liability": "积分负债（未使用积分）",
        "liability_note": "{n} 位会员的余额与积分流水对不上：见 `guestsync guests show`。",
        "coupons": "各活动优惠券核销率",
        "col_guests": "人数",
        "col_tier": "等级",
        "col_change": "变动",
        "col_from": "原等级",
        "col_to": "新等级",
        "col_programme": "方案",
        "col_points": "积分",
        "col_members": "会员数",
        "col_campaign": "活动",
        "col_issued": "发放",
        "col_redeemed": "已核销",
        "col_expired": "已过期",
        "col_open": "未使用",
        "col_rate": "核销率",
        "upgrade": "升级",
        "downgrade": "降级",
        "change": "变更",
        "none": "本月没有",
    },
}


def _w(ctx: Context, key: str, **kw: Any) -> str:
    """The label in the report's language, else in English."""
    text = LABELS.get(ctx.report.lang, {}).get(key) or LABELS["en"].get(key, key)
    return text.format(**kw) if kw else text


def _any(ctx: Context) -> bool:
    """Whether the store has anything of a programme: else no membership section."""
    members, _ = ctx.store.members_and_others()
    return bool(members or ctx.store.guests_by_tier() or ctx.store.coupons_by_campaign(
        ctx.report.generated))  # fmt: skip


def members(ctx: Context) -> Section | None:
    if not _any(ctx):
        return None
    yes, no = ctx.store.members_and_others()
    return Section(
        "members",
        _w(ctx, "members"),
        "table",
        columns=["", _w(ctx, "col_guests")],
        numeric={1},
        rows=[[_w(ctx, "member"), number(yes, "")], [_w(ctx, "non_member"), number(no, "")]],
        note=_w(ctx, "members_note"),
    )


def by_segment(ctx: Context) -> Section | None:
    """Members and other guests per RFM segment, in the segments' own order."""
    counts = ctx.store.members_by_segment()
    if not counts or not any(m for m, _ in counts.values()):
        return None
    order = [s for s in ctx.report.segments if s in counts]
    order += sorted(set(counts) - set(order))
    return Section(
        "members-by-segment",
        _w(ctx, "by_segment"),
        "table",
        columns=[_w(ctx, "col_segment"), _w(ctx, "member"), _w(ctx, "non_member")],
        numeric={1, 2},
        rows=[
            [ctx.words.segment(s), number(counts[s][0], ""), number(counts[s][1], "")]
            for s in order
        ],
    )


def tiers(ctx: Context) -> Section | None:
    by_tier = ctx.store.guests_by_tier()
    if not by_tier:
        return None
    return Section(
        "tiers",
        _w(ctx, "tiers"),
        "table",
        columns=[_w(ctx, "col_tier"), _w(ctx, "col_guests")],
        numeric={1},
        rows=[[t, number(n, "")] for t, n in by_tier.items()],
    )


def tier_changes(ctx: Context) -> Section | None:
    if not ctx.store.guests_by_tier():
        return None
    since = ctx.report.generated.replace(
        day=1, hour=0, minute=0, second=0, microsecond=0
    )  # the month's start, local
    rows = [[_w(ctx, d), a, b, number(n, "")] for d, a, b, n in ctx.store.tier_changes_since(since)]
    return Section(
        "tier-changes",
        _w(ctx, "tier_changes", date=ctx.words.day(ctx.report.month_start)),
        "table",
        columns=[_w(ctx, c) for c in ("col_change", "col_from", "col_to", "col_guests")],
        numeric={3},
        rows=rows,
        empty=None if rows else _w(ctx, "none"),
    )


def liability(ctx: Context) -> Section | None:
    owed = ctx.store.points_liability()
    if not owed:
        return None
    wrong = ctx.store.balance_discrepancies()
    return Section(
        "points-liability",
        _w(ctx, "liability"),
        "table",
        columns=[_w(ctx, c) for c in ("col_programme", "col_points", "col_members")],
        numeric={1, 2},
        rows=[[p, f"{v:,}", number(n, "")] for p, (v, n) in owed.items()],
        note=_w(ctx, "liability_note", n=wrong) if wrong else None,
    )


def coupons(ctx: Context) -> Section | None:
    by_campaign = ctx.store.coupons_by_campaign(ctx.report.generated)
    if not by_campaign:
        return None
    keys = ("issued", "redeemed", "expired", "open")
    rows = [
        [k, *(number(c[x], "") for x in keys),
         percent(c["redeemed"] / c["issued"] if c["issued"] else None, "n/a")]
        for k, c in by_campaign.items()
    ]  # fmt: skip
    return Section(
        "coupons",
        _w(ctx, "coupons"),
        "table",
        columns=[_w(ctx, f"col_{c}") for c in ("campaign", *keys, "rate")],
        numeric={1, 2, 3, 4, 5},
        rows=rows,
    )


SECTIONS = (members, by_segment, tiers, tier_changes, liability, coupons)
