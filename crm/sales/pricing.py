"""Every rounding rule about money, in one place. Amounts are integers of the currency's minor unit.

1. A percentage of an amount is rounded half up to the minor unit: 15% of 3.33 = 0.4995 -> 0.50.
   Percentages are held as basis points (1% = 100) so they never pass through a float.
2. A line discount never exceeds the line's gross amount (quantity x unit price).
3. A bill-level reduction (points, a coupon on several lines) is spread over the lines it applies to
   in proportion to what each line still costs, by the largest-remainder method: every line gets
   the rounded-down share, and the minor units left over go one each to the lines with the largest
   fractional parts (earlier lines first on ties). The shares add up to the reduction exactly and no
   line goes below zero.
4. A refund of k of a line's Q units pays back floor(line total x K / Q) - (already refunded), where
   K counts all units refunded so far including these: refunding units one by one or all at once
   pays the same, and the last unit pays back exactly what is left of the line.
5. Payments: card and transfer may not exceed what is due (no change is given on a card); cash may,
   and the difference is the change. The sum of payments minus the change is the bill total.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field

from crm.errors import RuleError
from crm.locales import lazy_gettext as _l
from crm.money import BASIS_POINTS, allocate, percent_of  # rules 1 and 3, shared with crm.loyalty

CASH = "cash"


class PricingError(RuleError):
    pass


def line_discount(gross_minor: int, *, amount_minor: int | None = None, basis_points: int | None = None) -> int:
    """Rule 2: the discount on one line, given as an amount or as a percentage of the line."""
    if basis_points is not None:
        if not 0 <= basis_points <= BASIS_POINTS:
            raise PricingError(_l("A discount is between 0 and 100%."), field="discount")
        return percent_of(gross_minor, basis_points)
    amount = amount_minor or 0
    if amount < 0:
        raise PricingError(_l("A discount cannot be negative."), field="discount")
    if amount > gross_minor:
        raise PricingError(_l("The discount is larger than the line."), field="discount")
    return amount


def refund_amount(line_total_minor: int, quantity: int, refunded_quantity: int, refunded_minor: int,
                  refund_quantity: int) -> int:
    """Rule 4: what refunding ``refund_quantity`` more units of a line pays back."""
    if refund_quantity < 1 or refunded_quantity + refund_quantity > quantity:
        raise PricingError(_l("More units than are left to refund on this line."), field="quantity")
    cumulative = line_total_minor * (refunded_quantity + refund_quantity) // quantity
    return cumulative - refunded_minor


@dataclass(frozen=True)
class LineInput:
    quantity: int
    unit_price_minor: int
    discount_minor: int = 0
    category_code: str = ""

    @property
    def gross_minor(self) -> int:
        return self.quantity * self.unit_price_minor


@dataclass(frozen=True)
class Adjustment:
    """A bill-level reduction (the loyalty module's points, tier discount and coupons plug in here).
    ``categories`` limits the lines it may reduce (None: every line)."""

    kind: str
    label: str
    amount_minor: int
    categories: frozenset[str] | None = None
    reference: str = ""


@dataclass(frozen=True)
class PricedLine:
    gross_minor: int
    discount_minor: int
    adjustment_minor: int
    shares: tuple[int, ...] = ()  # this line's share of each adjustment, in the order given

    @property
    def total_minor(self) -> int:
        return self.gross_minor - self.discount_minor - self.adjustment_minor


@dataclass(frozen=True)
class Quote:
    lines: tuple[PricedLine, ...]
    adjustments: tuple[Adjustment, ...] = field(default=())

    @property
    def subtotal_minor(self) -> int:
        return sum(line.gross_minor for line in self.lines)

    @property
    def discount_minor(self) -> int:
        return sum(line.discount_minor + line.adjustment_minor for line in self.lines)

    @property
    def total_minor(self) -> int:
        return sum(line.total_minor for line in self.lines)


def price(lines: Sequence[LineInput], adjustments: Sequence[Adjustment] = ()) -> Quote:
    """The bill: each line's gross minus its discount, then each adjustment spread (rule 3) over the
    lines it applies to. An adjustment larger than what its lines still cost is an error."""
    for line in lines:
        if line.quantity < 1 or line.unit_price_minor < 0:
            raise PricingError(_l("A line needs a quantity of at least 1 and a price of at least 0."))
        if not 0 <= line.discount_minor <= line.gross_minor:
            raise PricingError(_l("The discount is larger than the line."), field="discount")
    reductions = [0] * len(lines)
    shares = [[0] * len(adjustments) for _ in lines]
    for n, adjustment in enumerate(adjustments):
        eligible = [i for i, line in enumerate(lines)
                    if adjustment.categories is None or line.category_code in adjustment.categories]
        remaining = [lines[i].gross_minor - lines[i].discount_minor - reductions[i] for i in eligible]
        if adjustment.amount_minor < 0 or adjustment.amount_minor > sum(remaining):
            raise PricingError(_l("%(label)s is more than the lines it applies to.", label=adjustment.label))
        for i, share in zip(eligible, allocate(adjustment.amount_minor, remaining), strict=True):
            reductions[i] += share
            shares[i][n] = share
    priced = tuple(PricedLine(line.gross_minor, line.discount_minor, reductions[i], tuple(shares[i]))
                   for i, line in enumerate(lines))
    return Quote(lines=priced, adjustments=tuple(adjustments))


@dataclass(frozen=True)
class Tender:
    method: str
    amount_minor: int


@dataclass(frozen=True)
class Settlement:
    payments: tuple[Tender, ...]  # what each method pays of the bill (cash net of change)
    tendered: tuple[Tender, ...]  # what was handed over, one per method
    change_minor: int


def settle(total_minor: int, tenders: Sequence[Tender]) -> Settlement:
    """Rule 5: check the payments cover the bill and work out the change (from cash only)."""
    merged: dict[str, int] = {}
    for tender in tenders:
        if tender.amount_minor < 0:
            raise PricingError(_l("A payment cannot be negative."), field="payments")
        if tender.amount_minor:
            merged[tender.method] = merged.get(tender.method, 0) + tender.amount_minor
    paid = sum(merged.values())
    non_cash = paid - merged.get(CASH, 0)
    if non_cash > total_minor:
        raise PricingError(_l("Card and transfer payments cannot be more than the amount due."), field="payments")
    if paid < total_minor:
        raise PricingError(_l("The payments do not cover the bill."), field="payments")
    change = paid - total_minor
    if CASH in merged and merged[CASH] == change and change > 0:
        raise PricingError(_l("Nothing is left to pay in cash."), field="payments")
    payments = tuple(Tender(method, amount - (change if method == CASH else 0)) for method, amount in merged.items())
    tendered = tuple(Tender(method, amount) for method, amount in merged.items())
    return Settlement(payments=payments, tendered=tendered, change_minor=change)
