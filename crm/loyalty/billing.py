"""What loyalty does to a bill, in plain values: checkout (crm.sales.loyalty) passes the lines
as (category, amount) and gets back reductions, the most points the bill may take, and the points
it earns. Nothing here touches the database; the caller locks and records.

Stacking rule (one discount per line, then points):
1. Percentage discounts do not add up. Each line gets the larger of the tier's accessory discount
   (on accessory lines) and a percentage coupon (on the coupon's categories); ties go to the tier.
2. A fixed-amount coupon comes off after the tier discount, on the coupon's categories, and never
   more than those lines still cost. One coupon per bill.
3. Points are applied last, on the redeemable categories, and pay at most ``redeem_cap_bp`` of the
   bill after discounts (rounded down to whole points), never more than the customer holds, and
   only when the balance is at least the program's minimum.

Earning rule: a line earns rate(category) x tier multiplier of the money actually paid for it
(after every discount and after the points spent on it, so nothing is earned on what points paid).
The bill's points are the exact sum over its lines rounded down to a whole point; they are then
spread over the lines by largest remainder (so a refund can take back each line's share).
"""

from collections.abc import Sequence
from dataclasses import dataclass

from crm.locales import lazy_gettext as _l
from crm.locales import lazy_ngettext as _ln
from crm.loyalty.models import Coupon, Tier
from crm.money import BASIS_POINTS, allocate, percent_of

TIER_DISCOUNT_CATEGORIES = frozenset({"accessory"})


@dataclass(frozen=True)
class Line:
    category_code: str
    amount_minor: int  # what the line costs at this step


@dataclass(frozen=True)
class Reduction:
    kind: str  # "tier", "coupon" or "points"
    label: str
    amount_minor: int
    categories: frozenset[str]
    reference: str = ""


def discounts(lines: Sequence[Line], *, tier: Tier | None, coupon: Coupon | None) -> list[Reduction]:
    """Rules 1 and 2: the tier discount and the coupon as reductions on categories. A coupon that
    reduces nothing on this bill is returned as a zero reduction; the caller refuses it."""
    tier_bp = tier.accessory_discount_bp if tier is not None else 0
    template = coupon.template if coupon is not None else None
    coupon_bp = template.value if template is not None and template.kind == "percent" else 0
    coupon_codes = frozenset(c.strip() for c in (template.categories if template else "").split(",") if c.strip())
    present = {line.category_code for line in lines if line.amount_minor > 0}

    tier_cats = {c for c in present if c in TIER_DISCOUNT_CATEGORIES and tier_bp > 0}
    coupon_cats = {c for c in present if c in coupon_codes}
    if coupon_bp:
        tier_cats -= {c for c in coupon_cats if coupon_bp > tier_bp}  # the better percentage wins
        coupon_cats -= tier_cats

    def total(codes):
        return sum(line.amount_minor for line in lines if line.category_code in codes)

    reductions = []
    if tier_cats:
        amount = percent_of(total(tier_cats), tier_bp)
        if amount:
            reductions.append(Reduction("tier", str(_l("%(tier)s discount", tier=tier.name)), amount,
                                        frozenset(tier_cats), reference=f"tier:{tier.id}"))
    if coupon is not None:
        if coupon_bp:
            amount = percent_of(total(coupon_cats), coupon_bp)
        else:
            already = sum(r.amount_minor for r in reductions if r.categories & coupon_cats)
            amount = min(template.value, max(0, total(coupon_cats) - already))
        reductions.append(Reduction("coupon", str(_l("Coupon %(code)s", code=coupon.code)), amount,
                                    frozenset(coupon_cats), reference=f"coupon:{coupon.code}"))
    return reductions


def max_points(lines_after_discounts: Sequence[Line], *, balance: int, min_balance: int, cap_bp: int,
               point_value_minor: int, redeem_categories: frozenset[str]) -> int:
    """Rule 3: the most points this bill may take."""
    if balance <= 0 or balance < min_balance:
        return 0
    bill = sum(line.amount_minor for line in lines_after_discounts)
    eligible = sum(line.amount_minor for line in lines_after_discounts if line.category_code in redeem_categories)
    by_cap = bill * cap_bp // (BASIS_POINTS * point_value_minor)
    return max(0, min(balance, by_cap, eligible // point_value_minor))


def points_reduction(points: int, *, point_value_minor: int, redeem_categories: frozenset[str]) -> Reduction:
    return Reduction("points", str(_ln("%(num)d point", "%(num)d points", points)), points * point_value_minor,
                     redeem_categories, reference="points")


def earned(lines_paid: Sequence[Line], *, rates: dict[str, int], multiplier_pct: int,
           point_value_minor: int) -> tuple[int, list[int]]:
    """The earning rule: the bill's points, and each line's share of them."""
    weights = [line.amount_minor * rates.get(line.category_code, 0) * multiplier_pct for line in lines_paid]
    total = sum(weights) // (BASIS_POINTS * 100 * point_value_minor)
    if total == 0:
        return 0, [0] * len(lines_paid)
    return total, allocate(total, weights)


def spent_per_line(points: int, point_shares_minor: Sequence[int]) -> list[int]:
    """The points spent on the bill, spread over the lines in proportion to the money each line's
    share of the points reduction is worth (largest remainder): a refund gives back each line's share."""
    if points == 0 or not any(point_shares_minor):
        return [0] * len(point_shares_minor)
    return allocate(points, point_shares_minor)


def line_share_for_units(line_points: int, quantity: int, units_so_far: int, already: int) -> int:
    """Refund rule, the same as for money (rule 4 of crm.sales.pricing): after K of a line's Q
    units are refunded in all, floor(line points x K / Q) of its points have been given back (or
    taken back); this call returns the part not yet handled. The last unit settles the rest."""
    return line_points * units_so_far // quantity - already
