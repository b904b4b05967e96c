"""Read-side queries for the loyalty sections of the staff's customer page (member_page) and of the customer's
own page, /t/<token> (customer_page): each a fixed number of statements whatever the length of the history."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from dateutil.relativedelta import relativedelta
from sqlalchemy import bindparam, case, func, select
from sqlalchemy.orm import Session, aliased, contains_eager, joinedload

from crm.customers.models import Customer
from crm.loyalty import coupons, tiers
from crm.loyalty.models import Account, Activity, Coupon, CouponTemplate, LedgerEntry, Program, Tier
from crm.loyalty.program import get_program

HISTORY_LENGTH = 50


RECENT_LENGTH = 5


def _summary_statement():
    """The account with its referrer and, as scalar subqueries, the activity over the tier window, the points
    expiring within the warning window and the number of usable personal coupons. Built once with bound
    parameters: SQLAlchemy builds a statement and its cache key in more time than SQLite takes to run it."""
    referrer = aliased(Customer)
    customer_id, now = bindparam("customer_id"), bindparam("now")
    window = (Activity.customer_id == customer_id, Activity.at > bindparam("since"), Activity.at <= now)
    expiring = (LedgerEntry.customer_id == customer_id, LedgerEntry.remaining > 0, LedgerEntry.expires_at > now,
                LedgerEntry.expires_at <= bindparam("horizon"))
    return (select(Account, referrer,
                   select(func.coalesce(func.sum(Activity.spend_minor), 0)).where(*window).scalar_subquery(),
                   select(func.coalesce(func.sum(Activity.repairs), 0)).where(*window).scalar_subquery(),
                   select(func.coalesce(func.sum(LedgerEntry.remaining), 0)).where(*expiring).scalar_subquery(),
                   select(func.min(LedgerEntry.expires_at)).where(*expiring).scalar_subquery(),
                   select(func.count(Coupon.id)).join(CouponTemplate, CouponTemplate.id == Coupon.template_id)
                   .where(*coupons.usable_personal_condition(customer_id, now)).scalar_subquery())
            .outerjoin(referrer, referrer.id == Account.referred_by_id).where(Account.customer_id == customer_id))


_SUMMARY = _summary_statement()


def _desk_statement():
    """The account with the points that may be spent now (open lots, as ledger.open_lots) and the activity over
    the tier window, for the cart page."""
    customer_id, now = bindparam("customer_id"), bindparam("now")
    window = (Activity.customer_id == customer_id, Activity.at > bindparam("since"), Activity.at <= now)
    return select(
        Account,
        select(func.coalesce(func.sum(LedgerEntry.remaining), 0))
        .where(LedgerEntry.customer_id == customer_id, LedgerEntry.remaining > 0,
               LedgerEntry.expires_at.is_(None) | (LedgerEntry.expires_at > now)).scalar_subquery(),
        select(func.coalesce(func.sum(Activity.spend_minor), 0)).where(*window).scalar_subquery(),
        select(func.coalesce(func.sum(Activity.repairs), 0)).where(*window).scalar_subquery(),
    ).where(Account.customer_id == customer_id)


_DESK = _desk_statement()


@dataclass(frozen=True)
class DeskMembership:
    account: Account
    spendable: int  # points of lots not expired (the nightly job may not have expired the due ones yet)
    standing: tiers.Standing


def desk_membership(session: Session, customer_id: int, now: datetime) -> DeskMembership | None:
    """What the cart shows of a member, in one statement (with the settings and tiers read once per request);
    None for a customer who is not a member."""
    program = get_program(session)
    row = session.execute(_DESK, {"customer_id": customer_id, "now": now,
                                  "since": now - relativedelta(months=program.tier_window_months)}).first()
    if row is None:
        return None
    account, spendable, spend, repairs = row
    standing = tiers.standing_of(tiers.tiers(session), account.tier_id, int(spend), int(repairs),
                                 program.tier_window_months)
    return DeskMembership(account=account, spendable=int(spendable), standing=standing)
_HISTORY = (select(LedgerEntry).where(LedgerEntry.customer_id == bindparam("customer_id"))
            .order_by(LedgerEntry.id.desc()).limit(bindparam("limit")).options(joinedload(LedgerEntry.author)))


@dataclass
class MemberPage:
    program: Program
    account: Account | None = None
    tier: Tier | None = None
    standing: tiers.Standing | None = None
    history: list[LedgerEntry] = field(default_factory=list)  # newest first: the last few on the overview
    expiring_points: int = 0
    expiring_first: datetime | None = None
    coupon_count: int = 0  # personal coupons usable now
    coupons: list[Coupon] = field(default_factory=list)  # the points tab only
    referrer: Customer | None = None
    referred: list[Customer] = field(default_factory=list)  # the points tab only


def member_summary(session: Session, customer_id: int, now: datetime, *, history: int = RECENT_LENGTH) -> MemberPage:
    """The membership in short, for the overview of the customer's page: three statements for a member (the
    settings with the tiers, the account with its window's activity, the expiring points, the usable coupons and
    the referrer, and the newest ``history`` ledger entries with their authors), one for anybody else."""
    program = get_program(session)
    page = MemberPage(program=program)
    row = session.execute(_SUMMARY, {
        "customer_id": customer_id, "now": now, "since": now - relativedelta(months=program.tier_window_months),
        "horizon": now + timedelta(days=program.expiry_warning_days)}).first()
    if row is None:
        return page
    account, page.referrer, spend, repairs, points, first, page.coupon_count = row
    page.account = account
    page.standing = tiers.standing_of(tiers.tiers(session), account.tier_id, int(spend), int(repairs),
                                      program.tier_window_months)
    page.tier = page.standing.tier
    page.expiring_points, page.expiring_first = int(points), first
    page.history = list(session.scalars(_HISTORY, {"customer_id": customer_id, "limit": history}))
    return page


def member_page(session: Session, customer_id: int, now: datetime) -> MemberPage:
    """Everything about the membership, for the points tab: the summary with the last HISTORY_LENGTH entries,
    the usable personal coupons and the customers they brought in (five statements for a member)."""
    page = member_summary(session, customer_id, now, history=HISTORY_LENGTH)
    if page.account is None:
        return page
    page.coupons = coupons.usable_personal(session, customer_id, now)
    page.referred = list(session.scalars(
        select(Customer).join(Account, Account.customer_id == Customer.id)
        .where(Account.referred_by_id == customer_id).order_by(Customer.id).limit(20)))
    return page


@dataclass(frozen=True)
class CustomerPage:
    """What a member reads about their membership on their own page: nothing identifies them beyond the
    first name (no phone, e-mail, notes, staff names, no history with its reasons and authors)."""

    first_name: str
    balance: int
    balance_minor: int  # what the balance is worth at the desk
    expiring_points: int  # within the warning window of the expiry warnings (0: nothing expires soon)
    expiring_first: datetime | None
    expiring_last: datetime | None
    standing: tiers.Standing
    coupons: list[Coupon]  # personal, unused, valid now, soonest to expire first; with their template
    referral_code: str
    referral_bonus: int  # to the member, when a friend they brought pays their first order
    referee_bonus: int  # to the friend

    @property
    def tier(self) -> Tier | None:
        return self.standing.tier


def customer_page(session: Session, customer_id: int, now: datetime) -> CustomerPage | None:
    """The membership of customer ``customer_id`` as they see it on their page, or None for a customer who is
    not a member (one statement) or when the program is switched off. A member costs six statements however
    many lots, coupons or tier changes they have."""
    row = session.execute(select(Account, Customer.name).join(Customer, Customer.id == Account.customer_id)
                          .where(Account.customer_id == customer_id)).first()
    if row is None:
        return None
    program = get_program(session)
    if not program.enabled:
        return None
    account, name = row
    spend, repairs = tiers.activity_totals(session, customer_id, now, window_months=program.tier_window_months)
    standing = tiers.standing_of(tiers.tiers(session), account.tier_id, spend, repairs, program.tier_window_months)
    # Expiring soon as in the expiry warning the customer gets (crm.loyalty.jobs.expiry_warnings); points past
    # their expiry that the nightly job has not expired yet cannot be spent (crm.loyalty.ledger), so not counted.
    horizon = now + timedelta(days=program.expiry_warning_days)
    soon = LedgerEntry.expires_at > now
    lapsed, points, first, last = session.execute(
        select(func.coalesce(func.sum(case((~soon, LedgerEntry.remaining), else_=0)), 0),
               func.coalesce(func.sum(case((soon, LedgerEntry.remaining), else_=0)), 0),
               func.min(case((soon, LedgerEntry.expires_at))), func.max(case((soon, LedgerEntry.expires_at))))
        .where(LedgerEntry.customer_id == customer_id, LedgerEntry.remaining > 0,
               LedgerEntry.expires_at <= horizon)).one()
    balance = max(0, account.balance - int(lapsed))
    own_coupons = list(session.scalars(
        select(Coupon).join(Coupon.template)
        .where(Coupon.customer_id == customer_id, Coupon.kind == "personal", Coupon.used_count < Coupon.usage_limit,
               Coupon.valid_from <= now, Coupon.valid_until > now, CouponTemplate.active.is_(True))
        .order_by(Coupon.valid_until, Coupon.id).options(contains_eager(Coupon.template))))
    return CustomerPage(first_name=next(iter(name.split()), ""),
                        balance=balance, balance_minor=balance * program.point_value_minor,
                        expiring_points=int(points), expiring_first=first, expiring_last=last, standing=standing,
                        coupons=own_coupons, referral_code=account.referral_code,
                        referral_bonus=program.referral_bonus, referee_bonus=program.referee_bonus)
