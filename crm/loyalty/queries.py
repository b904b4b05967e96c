"""Read-side queries for the loyalty section of the customer's page: a fixed number of statements
whatever the length of the history."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from crm.customers.models import Customer
from crm.loyalty import coupons, tiers
from crm.loyalty.models import Account, Coupon, LedgerEntry, Program, Tier
from crm.loyalty.program import get_program

HISTORY_LENGTH = 50


@dataclass
class MemberPage:
    program: Program
    account: Account | None = None
    tier: Tier | None = None
    standing: tiers.Standing | None = None
    history: list[LedgerEntry] = field(default_factory=list)
    expiring_points: int = 0
    expiring_first: datetime | None = None
    coupons: list[Coupon] = field(default_factory=list)
    referrer: Customer | None = None
    referred: list[Customer] = field(default_factory=list)


def member_page(session: Session, customer_id: int, now: datetime) -> MemberPage:
    program = get_program(session)
    page = MemberPage(program=program)
    account = session.get(Account, customer_id)
    if account is None:
        return page
    page.account = account
    page.standing = tiers.standing(session, account, now=now)
    page.tier = page.standing.tier
    page.history = list(session.scalars(
        select(LedgerEntry).where(LedgerEntry.customer_id == customer_id)
        .order_by(LedgerEntry.id.desc()).limit(HISTORY_LENGTH).options(selectinload(LedgerEntry.author))))
    horizon = now + timedelta(days=program.expiry_warning_days)
    points, first = session.execute(
        select(func.coalesce(func.sum(LedgerEntry.remaining), 0), func.min(LedgerEntry.expires_at))
        .where(LedgerEntry.customer_id == customer_id, LedgerEntry.remaining > 0,
               LedgerEntry.expires_at > now, LedgerEntry.expires_at <= horizon)).one()
    page.expiring_points, page.expiring_first = int(points), first
    page.coupons = coupons.usable_personal(session, customer_id, now)
    if account.referred_by_id is not None:
        page.referrer = session.get(Customer, account.referred_by_id)
    page.referred = list(session.scalars(
        select(Customer).join(Account, Account.customer_id == Customer.id)
        .where(Account.referred_by_id == customer_id).order_by(Customer.id).limit(20)))
    return page
