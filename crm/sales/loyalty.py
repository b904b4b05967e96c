"""Loyalty at the checkout and at a refund: the bridge between a sale's lines and crm.loyalty.

plan() works out, for the bill as it is now, the tier discount, the coupon, the points the desk asked
to spend (checked against the most the bill may take) and the points the payment will earn. The cart
page shows a plan made without locks; checkout() makes it again under the customer's lock and
refuses if the total differs from the one the desk saw. record() then writes the ledger entries,
the coupon's use, the tier activity, an upgrade, the referral bonus and the personal coupon, all in
the checkout's transaction. reverse_for_refund() undoes the points of refunded units.

Refund policy for points (written on the refund page too): a refund gives back the points spent on
the refunded units and takes back the points they earned, unit by unit with the same rule as money
(floor of the line's points x units refunded so far / quantity, the last unit settling the rest). If
the customer has already spent the points to be taken back, the balance goes to zero, never below,
and the value of the missing points (at the current point value) is kept from the money refunded;
the refund records both, and the manager sees them on the sale."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from crm.auth.models import StaffUser
from crm.customers.models import Customer
from crm.errors import RuleError
from crm.locales import lazy_gettext as _l
from crm.locales import lazy_ngettext as _ln
from crm.loyalty import accounts, billing, coupons, ledger, tiers
from crm.loyalty import queries as loyalty_queries
from crm.loyalty.models import Account, Activity, Coupon, CouponTemplate, Tier
from crm.loyalty.program import Rules
from crm.loyalty.program import rules as load_rules
from crm.money import shop_money
from crm.numbers import whole_number
from crm.sales import pricing
from crm.shop_time import local_date, mmdd


class LoyaltyCheckoutError(RuleError):
    pass


MAX_POINTS_TYPED = 99_999_999  # beyond any balance; keeps the number inside the INTEGER columns


@dataclass(frozen=True)
class LoyaltyRequest:
    points: int = 0
    use_max: bool = False
    coupon_code: str = ""

    def digest_part(self) -> list:
        return [self.points, self.use_max, self.coupon_code.strip().upper()]

    @classmethod
    def at_payment(cls, points_text: str | None, coupon_text: str | None) -> "LoyaltyRequest":
        """The choices the payment form carries as the cart showed them: points in ASCII digits; anything else is
        -1, which plan() refuses next to the points field."""
        points = whole_number(points_text or "0", maximum=MAX_POINTS_TYPED)
        return cls(points=-1 if points is None else points, coupon_code=(coupon_text or "")[:32])


@dataclass
class Plan:
    """Everything the desk is shown and checkout records. ``adjustments`` go to pricing.price()."""

    rules: Rules | None = None
    customer: Customer | None = None
    account: Account | None = None
    will_enrol: bool = False
    tier: Tier | None = None
    balance: int = 0
    max_points: int = 0
    points: int = 0
    coupon: Coupon | None = None
    adjustments: list[pricing.Adjustment] = field(default_factory=list)
    earn: int = 0
    earn_per_line: list[int] = field(default_factory=list)
    spent_per_line: list[int] = field(default_factory=list)
    personal_coupons: list[Coupon] = field(default_factory=list)
    standing: tiers.Standing | None = None

    @property
    def member(self) -> bool:
        return self.account is not None

    @property
    def active(self) -> bool:
        return self.rules is not None and self.rules.active and (self.member or self.will_enrol)


def _adjustment(reduction: billing.Reduction) -> pricing.Adjustment:
    return pricing.Adjustment(kind=reduction.kind, label=reduction.label, amount_minor=reduction.amount_minor,
                              categories=reduction.categories, reference=reduction.reference)


def _remaining(lines: Sequence[pricing.LineInput], adjustments: Sequence[pricing.Adjustment]) -> list[billing.Line]:
    quote = pricing.price(lines, adjustments)
    return [billing.Line(line.category_code, priced.total_minor) for line, priced in zip(lines, quote.lines,
                                                                                            strict=True)]


def plan(session: Session, customer_id: int | None, lines: Sequence[pricing.LineInput], request: LoyaltyRequest,
         *, now: datetime, locked: bool, prior: Sequence[pricing.Adjustment] = (),
         warranty_return: bool = False) -> Plan:
    """The loyalty side of a bill. With ``locked`` the customer's account row is locked (checkout);
    without, the numbers are what the desk is shown. Refuses a bad coupon or too many points.
    ``warranty_return``: the bill pays a warranty return (crm.orders.warranty), whose repair lines earn nothing."""
    result = Plan()
    rules = load_rules(session)
    result.rules = rules
    if customer_id is None and not request.coupon_code.strip():
        return _walk_in_without_coupon(result, lines, request)
    customer = session.get(Customer, customer_id) if customer_id is not None else None
    result.customer = customer
    if customer is not None and rules.active:
        _membership(session, result, customer, now=now, locked=locked)
    if not rules.active:
        return _program_switched_off(result, lines, request)
    _discounts(session, result, lines, request, customer_id=customer_id, now=now, prior=prior)
    _points(result, rules, lines, request, prior)
    quote = pricing.price(lines, [*prior, *result.adjustments])
    _spent_per_line(result, quote, len(lines), prior)
    _earned(result, rules, lines, quote, warranty_return=warranty_return)
    return result


def _no_points_per_line(result: Plan, lines: Sequence[pricing.LineInput]) -> Plan:
    result.spent_per_line = result.earn_per_line = [0] * len(lines)
    return result


def _walk_in_without_coupon(result: Plan, lines: Sequence[pricing.LineInput], request: LoyaltyRequest) -> Plan:
    """A walk-in's bill without a coupon has no loyalty side: points need the customer attached."""
    if request.points:  # "use the most allowed" on a walk-in's bill simply uses none
        raise LoyaltyCheckoutError(_l("Attach the customer to use their points."), field="points")
    return _no_points_per_line(result, lines)


def _program_switched_off(result: Plan, lines: Sequence[pricing.LineInput], request: LoyaltyRequest) -> Plan:
    """With the program off the bill is plain; points or a coupon asked for are refused, not silently
    dropped, so the desk does not promise the customer a reduction the bill does not have."""
    if request.points or request.use_max or request.coupon_code.strip():
        raise LoyaltyCheckoutError(_l("The loyalty program is switched off."), field="points")
    return _no_points_per_line(result, lines)


def _membership(session: Session, result: Plan, customer: Customer, *, now: datetime, locked: bool) -> None:
    """The customer's account (or whether they join at this checkout), tier and balance. The cart page
    (not ``locked``) also gets the tier standing and the personal coupons it shows."""
    shown = None
    if locked:
        result.account = _locked_account(session, customer.id, now)
    else:  # what the desk is shown, in one statement: the balance of the open lots and the tier standing
        shown = loyalty_queries.desk_membership(session, customer.id, now)
        result.account = shown.account if shown is not None else None
    result.will_enrol = result.account is None and accounts.should_enrol_automatically(session, customer)
    if result.account is not None:
        result.tier = session.get(Tier, result.account.tier_id) if result.account.tier_id else None
        result.balance = result.account.balance if shown is None else shown.spendable
        if shown is not None:
            result.standing = shown.standing
    elif result.will_enrol:
        result.tier = accounts.entry_tier(session)
    if not locked:
        result.personal_coupons = coupons.usable_personal(session, customer.id, now)


def _locked_account(session: Session, customer_id: int, now: datetime) -> Account | None:
    """The account under the checkout's lock, its due lots expired first: the balance on the row is
    then exactly what may be spent now."""
    account = ledger.lock_account(session, customer_id)
    if account is not None:
        ledger.expire_due(session, account, now=now)
    return account


def _discounts(session: Session, result: Plan, lines: Sequence[pricing.LineInput], request: LoyaltyRequest, *,
               customer_id: int | None, now: datetime, prior: Sequence[pricing.Adjustment]) -> None:
    """Rules 1 and 2 (crm.loyalty.billing): the tier discount of a member (or of one joining now) and
    the coupon, on the bill after the desk's own adjustments. A coupon is refused below its minimum
    bill, and when it would take nothing off (the desk should not think it was applied)."""
    if request.coupon_code.strip():
        result.coupon = coupons.find_usable(session, request.coupon_code, customer_id=customer_id, now=now)
    base = _remaining(lines, prior)
    if result.coupon is not None and sum(line.amount_minor for line in base) < result.coupon.template.min_bill_minor:
        raise LoyaltyCheckoutError(_l("This coupon needs a bill of at least %(amount)s.",
                                      amount=shop_money(result.coupon.template.min_bill_minor)), field="coupon")
    reductions = billing.discounts(base, tier=result.tier if (result.member or result.will_enrol) else None,
                                   coupon=result.coupon)
    if any(r.kind == "coupon" and r.amount_minor == 0 for r in reductions):
        raise LoyaltyCheckoutError(_l("This coupon takes nothing off this bill: nothing on it qualifies, or the "
                                      "tier discount is already better."), field="coupon")
    result.adjustments = [_adjustment(r) for r in reductions if r.amount_minor > 0]


def _points(result: Plan, rules: Rules, lines: Sequence[pricing.LineInput], request: LoyaltyRequest,
            prior: Sequence[pricing.Adjustment]) -> None:
    """Rule 3: the points the desk asked for (or the most allowed), refused above what the bill may
    take; they come off the bill as the last adjustment."""
    program = rules.program
    if result.member:
        after = _remaining(lines, [*prior, *result.adjustments])
        result.max_points = billing.max_points(after, balance=result.balance,
                                               min_balance=program.min_balance_to_redeem,
                                               cap_bp=program.redeem_cap_bp,
                                               point_value_minor=program.point_value_minor,
                                               redeem_categories=rules.redeem_categories)
    points = result.max_points if request.use_max else request.points
    if points < 0:
        raise LoyaltyCheckoutError(_l("Points to use cannot be negative."), field="points")
    if points > result.max_points:
        if not result.member:
            raise LoyaltyCheckoutError(_l("This customer has no points to use."), field="points")
        raise LoyaltyCheckoutError(_ln("At most %(num)d point can be used on this bill.",
                                       "At most %(num)d points can be used on this bill.", result.max_points),
                                   field="points")
    result.points = points
    if points:
        result.adjustments.append(_adjustment(billing.points_reduction(
            points, point_value_minor=program.point_value_minor, redeem_categories=rules.redeem_categories)))


def _spent_per_line(result: Plan, quote: pricing.Quote, line_count: int, prior: Sequence[pricing.Adjustment]) -> None:
    """The points spent, spread over the lines by what each line's share of the points reduction is
    worth: a refund gives back exactly the points of the refunded units."""
    if result.points:
        index = len(prior) + len(result.adjustments) - 1  # the points reduction is the last adjustment
        result.spent_per_line = billing.spent_per_line(result.points, [priced.shares[index] for priced in quote.lines])
    else:
        result.spent_per_line = [0] * line_count


REPAIR_CATEGORIES = ("repair_labour", "repair_part")


def _earned(result: Plan, rules: Rules, lines: Sequence[pricing.LineInput], quote: pricing.Quote, *,
            warranty_return: bool = False) -> None:
    """The points a member (or one joining now) earns on the money paid for each line, at the tier's
    multiplier; nobody else earns. A warranty return's repair lines earn nothing (items sold with it do)."""
    if result.member or result.will_enrol:
        multiplier = result.tier.earn_multiplier_pct if result.tier is not None else 100
        paid = [billing.Line(line.category_code,
                             0 if warranty_return and line.category_code in REPAIR_CATEGORIES else priced.total_minor)
                for line, priced in zip(lines, quote.lines, strict=True)]
        result.earn, result.earn_per_line = billing.earned(paid, rates=rules.rates, multiplier_pct=multiplier,
                                                           point_value_minor=rules.program.point_value_minor)
    else:
        result.earn_per_line = [0] * len(lines)


def record(session: Session, sale, sale_lines: Sequence, the_plan: Plan, *, actor: StaffUser,
           now: datetime) -> None:
    """Write the plan's effects in the checkout's transaction: ``sale_lines`` are the sale's lines in
    bill order. Every ledger entry is keyed by the sale, so a replay cannot post twice."""
    reference = f"sale:{sale.id}"
    for row, spent, earned in zip(sale_lines, the_plan.spent_per_line, the_plan.earn_per_line, strict=True):
        row.points_spent = spent  # the checkout has set them already (no second UPDATE then)
        row.points_earned = earned
    if the_plan.coupon is not None:
        _use_coupon(session, sale, the_plan, reference, now)
    customer = the_plan.customer
    if customer is None:
        return
    session.add(Activity(customer_id=customer.id, at=now, spend_minor=sale.total_minor,
                         repairs=1 if sale.repair_order_id is not None else 0, reference=reference))
    account = the_plan.account
    if account is None and the_plan.will_enrol:
        account = accounts.enrol(session, customer, actor=actor, now=now)
    if account is None or not the_plan.active:
        session.flush()
        return
    program = the_plan.rules.program
    _post_points(session, sale, account, the_plan, reference, actor=actor, now=now)
    _note_first_purchase(session, account, actor=actor, now=now)
    tiers.upgrade_after_payment(session, account, now=now)
    if sale.repair_order_id is not None and program.repair_coupon_template_id:
        _issue_repair_coupon(session, program.repair_coupon_template_id, customer.id, reference, actor=actor,
                             now=now)
    sale.points_redeemed = the_plan.points
    sale.points_earned = the_plan.earn
    sale.points_balance_after = account.balance
    session.flush()


def _use_coupon(session: Session, sale, the_plan: Plan, reference: str, now: datetime) -> None:
    """The coupon counts one use by this sale, worth what it took off the bill; a coupon another desk
    used up meanwhile is refused here (crm.loyalty.coupons.use), after the items are taken."""
    amount = sum(a.amount_minor for a in the_plan.adjustments if a.kind == "coupon")
    coupons.use(session, the_plan.coupon, customer_id=sale.customer_id, reference=reference,
                amount_minor=amount, now=now)
    sale.coupon_code = the_plan.coupon.code


def _post_points(session: Session, sale, account: Account, the_plan: Plan, reference: str, *, actor: StaffUser,
                 now: datetime) -> None:
    """The points spent leave the balance and the points earned join it as a lot that expires with the
    program's expiry; both keyed by the sale, so a replayed checkout posts nothing twice. The checkout holds
    the sale's lock and found it unpaid, so neither key was ever posted (new_key: no look for them first)."""
    if the_plan.points:
        ledger.debit(session, account, "redeem", the_plan.points, key=f"{reference}:redeem",
                     reason=str(_l("Spent at checkout %(n)s", n=sale.number)), reference=reference,
                     actor=actor, now=now, new_key=True)
    if the_plan.earn:
        ledger.credit(session, account, "earn", the_plan.earn, key=f"{reference}:earn",
                      reason=str(_l("Earned at checkout %(n)s", n=sale.number)), reference=reference,
                      actor=actor, now=now, expiry_months=the_plan.rules.program.expiry_months, new_key=True)


def _note_first_purchase(session: Session, account: Account, *, actor: StaffUser, now: datetime) -> None:
    """A member's first purchase dates their purchase anniversary (the anniversary bonus job keys on
    it) and pays the referral bonuses, once."""
    if account.first_purchase_at is None:
        account.first_purchase_at = now
        account.first_purchase_mmdd = mmdd(local_date(now))
        accounts.reward_referral(session, account, actor=actor, now=now)


def _issue_repair_coupon(session: Session, template_id: int, customer_id: int, reference: str, *,
                         actor: StaffUser, now: datetime) -> None:
    """A paid repair gives the customer the program's personal coupon, while its template is active."""
    template = session.get(CouponTemplate, template_id)
    if template is not None and template.active:
        coupons.issue_personal(session, template, customer_id, issued_for=reference, actor=actor, now=now)


@dataclass(frozen=True)
class RefundPoints:
    restored: int
    reversed: int
    shortfall: int
    kept_minor: int


def reverse_for_refund(session: Session, sale, refund_row, refunded: Sequence[tuple], *, actor: StaffUser,
                       now: datetime) -> RefundPoints:
    """Undo the points of the refunded units. ``refunded`` holds (sale line, units refunded now);
    the lines' refunded_quantity already includes them. Returns what was done and the money kept."""
    restore = take_back = 0
    for line, _units in refunded:
        give = billing.line_share_for_units(line.points_spent, line.quantity, line.refunded_quantity,
                                            line.points_restored)
        take = billing.line_share_for_units(line.points_earned, line.quantity, line.refunded_quantity,
                                            line.points_reversed)
        line.points_restored += give
        line.points_reversed += take
        restore += give
        take_back += take
    if sale.customer_id is not None:
        session.add(Activity(customer_id=sale.customer_id, at=now, spend_minor=-refund_row.amount_minor, repairs=0,
                             reference=f"refund:{refund_row.id}"))
    if not (restore or take_back) or sale.customer_id is None:
        session.flush()
        return RefundPoints(0, 0, 0, 0)
    account = ledger.lock_account(session, sale.customer_id)
    if account is None:
        return RefundPoints(0, 0, 0, 0)
    program = load_rules(session).program
    result = ledger.reverse(session, account, restore=restore, take_back=take_back, key=f"refund:{refund_row.id}",
                            reference=f"refund:{refund_row.id}",
                            reason=str(_l("Refund %(n)s of %(sale)s", n=refund_row.number, sale=sale.number)),
                            actor=actor, now=now, expiry_months=program.expiry_months,
                            earned_lot_key=f"sale:{sale.id}:earn")
    kept = min(result.shortfall * program.point_value_minor, refund_row.amount_minor)
    return RefundPoints(result.restored, result.reversed, result.shortfall, kept)
