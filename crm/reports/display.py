"""The Loyalty report's tables from two Figures (the range and the previous one): labels, values as shown, and
the change. Rates and averages are divided here and rounded once (docs/reports.md)."""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import format_decimal

from crm.locales import lazy_gettext as _l
from crm.money import shop_money
from crm.reports.loyalty import Figures

KINDS = ("count", "money", "rate", "average", "rating")
CAUSE_LABELS = {"earn": _l("Earned on purchases"), "welcome": _l("Welcome bonus"), "birthday": _l("Birthday bonus"),
                "anniversary": _l("Anniversary bonus"), "referral": _l("Referral bonus"),
                "bonus_other": _l("Other bonus"), "adjust_plus": _l("Manual adjustments (added)")}


def ratio(numerator: int, denominator: int) -> Decimal | None:
    return None if not denominator else Decimal(numerator) / Decimal(denominator)


def rounded(value: Decimal | None, places: str) -> Decimal | None:
    return None if value is None else value.quantize(Decimal(places), rounding=ROUND_HALF_UP)


@dataclass
class Row:
    key: str
    label: str
    kind: str  # one of KINDS
    value: Decimal | int | None
    previous: Decimal | int | None

    @property
    def change(self):
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous


def show(kind: str, value) -> str:
    """A value as the page and the CSV write it; None (nothing to divide by) is a dash."""
    if value is None:
        return "—"
    if kind == "money":
        return shop_money(int(rounded(Decimal(value), "1")))
    if kind == "rate":
        return format_decimal(rounded(Decimal(value) * 100, "0.1"), format="0.0") + " %"
    if kind in ("average", "rating"):
        return format_decimal(rounded(Decimal(value), "0.01"), format="0.00")
    return format_decimal(value)


def members_table(now: Figures, before: Figures) -> list[Row]:
    def rows(f: Figures):
        return {
            "members_at_end": ("count", f.members_at_end),
            "new_members": ("count", f.new_members),
            "active_members": ("count", f.active_members),
            "active_share": ("rate", ratio(f.active_members, f.members_at_end)),
            "buyers": ("count", f.buyers),
            "conversion": ("rate", ratio(f.members.customers, f.buyers)),
            "repeat_rate": ("rate", ratio(f.members.repeat_customers + f.others.repeat_customers, f.buyers)),
        }
    labels = {"members_at_end": _l("Members at the end"), "new_members": _l("New members"),
              "active_members": _l("Active members"), "active_share": _l("Share of members active"),
              "buyers": _l("Customers with a paid sale"), "conversion": _l("Conversion (members among them)"),
              "repeat_rate": _l("Repeat-visit rate")}
    return _rows(labels, rows(now), rows(before))


def spending_table(now: Figures, before: Figures) -> list[Row]:
    def rows(f: Figures):
        m, o = f.members, f.others
        return {
            "net_members": ("money", m.net_minor), "net_others": ("money", o.net_minor),
            "check_members": ("money", ratio(m.net_minor, m.sales)),
            "check_others": ("money", ratio(o.net_minor, o.sales)),
            "visits_members": ("average", ratio(m.sales_of_known, m.customers)),
            "visits_others": ("average", ratio(o.sales_of_known, o.customers)),
        }
    labels = {"net_members": _l("Revenue from members (net of refunds)"),
              "net_others": _l("Revenue from non-members (net of refunds)"),
              "check_members": _l("Average check, members"), "check_others": _l("Average check, non-members"),
              "visits_members": _l("Visits per customer, members"),
              "visits_others": _l("Visits per customer, non-members")}
    return _rows(labels, rows(now), rows(before))


def points_table(now: Figures, before: Figures) -> list[Row]:
    def rows(f: Figures):
        values = {cause: ("count", f.points[cause]) for cause in CAUSE_LABELS}
        values.update({
            "issued": ("count", f.issued), "redeemed": ("count", f.redeemed), "expired": ("count", f.expired),
            "reversed": ("count", f.reversed), "restored": ("count", f.restored), "deducted": ("count", f.deducted),
            "redemption_rate": ("rate", ratio(f.redeemed, f.issued)),
            "liability_points": ("count", f.liability_points),
            "liability_money": ("money", f.money(f.liability_points)),
            "issued_money": ("money", f.money(f.issued)), "redeemed_money": ("money", f.money(f.redeemed)),
        })
        return values
    labels = {**CAUSE_LABELS, "issued": _l("Points issued"), "issued_money": _l("Points issued, in money"),
              "redeemed": _l("Points redeemed"), "redeemed_money": _l("Points redeemed, in money"),
              "expired": _l("Points expired"), "reversed": _l("Points taken back by refunds"),
              "restored": _l("Spent points given back by refunds"), "deducted": _l("Manual deductions"),
              "redemption_rate": _l("Redemption rate"), "liability_points": _l("Outstanding points at the end"),
              "liability_money": _l("Liability at the end")}
    return _rows(labels, rows(now), rows(before))


def satisfaction_table(now: Figures, before: Figures) -> list[Row]:
    def rows(f: Figures):
        return {"ratings": ("count", f.ratings), "average_rating": ("rating", ratio(f.rating_sum, f.ratings)),
                "low_share": ("rate", ratio(f.low_ratings, f.ratings))}
    labels = {"ratings": _l("Ratings"), "average_rating": _l("Average rating"),
              "low_share": _l("Share of low ratings (1-2 stars)")}
    return _rows(labels, rows(now), rows(before))


def _rows(labels, now: dict, before: dict) -> list[Row]:
    return [Row(key, str(labels[key]), now[key][0], now[key][1], before[key][1]) for key in labels]


TABLES = {"members": members_table, "spending": spending_table, "points": points_table,
          "satisfaction": satisfaction_table}


def tiers_table(names: list[tuple[int, str]], now, before) -> list[Row]:
    """Members per tier at the end (lowest tier first, then members in no tier), and the moves; ``now`` and
    ``before`` are crm.reports.tiers.TierFigures."""
    rows = [Row(f"tier_{tier_id}", name, "count", now.members.get(tier_id, 0), before.members.get(tier_id, 0))
            for tier_id, name in names]
    if now.members.get(None) or before.members.get(None):
        rows.append(Row("tier_none", str(_l("In no tier")), "count", now.members.get(None, 0),
                        before.members.get(None, 0)))
    rows.append(Row("moves_up", str(_l("Moves up a tier")), "count", now.moves_up, before.moves_up))
    rows.append(Row("moves_down", str(_l("Moves down a tier")), "count", now.moves_down, before.moves_down))
    return rows


def coupons_table(now, before) -> list[Row]:
    """``now`` and ``before`` are crm.reports.coupons.CouponFigures."""
    def rows(f):
        return {"issued_personal": ("count", f.issued["personal"]), "issued_promo": ("count", f.issued["promo"]),
                "used_personal": ("count", f.used["personal"]), "used_promo": ("count", f.used["promo"]),
                "discount": ("money", f.discount_minor), "bills": ("count", f.bills),
                "revenue": ("money", f.net_minor)}
    labels = {"issued_personal": _l("Personal coupons issued"), "issued_promo": _l("Promo codes created"),
              "used_personal": _l("Personal coupons used"), "used_promo": _l("Promo code uses"),
              "discount": _l("Discount given by coupons"), "bills": _l("Bills with a coupon"),
              "revenue": _l("Revenue of bills with a coupon (net of refunds)")}
    return _rows(labels, rows(now), rows(before))


def cohort_header() -> list[str]:
    return [str(_l("First paid month")), str(_l("Customers")),
            *[str(_l("Month %(n)s", n=k)) for k in range(1, 13)]]


def cohort_rows(retention) -> list[list[str]]:
    """Each cohort (crm.reports.cohorts.Cohort): its month, its size, and the share back in each later month
    ("—" for a month not over yet)."""
    return [[row.month.strftime("%Y-%m"), show("count", row.customers),
             *[show("rate", None if back is None else ratio(back, row.customers)) for back in row.came_back]]
            for row in retention]
