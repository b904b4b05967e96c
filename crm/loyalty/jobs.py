"""Loyalty work the scheduler runs. Each job is an idempotent function of ``now``: it selects what is
due in SQL ("due and not yet done", an anti-join on the effect's unique key) and does each item once,
under the customer's account lock, committing per customer. A birthday or anniversary missed while
the scheduler was down is honoured up to the notification settings' catch-up days late."""

from calendar import isleap
from datetime import date, datetime, timedelta

from sqlalchemy import String, cast, exists, func, literal, select
from sqlalchemy.orm import Session

from crm.customers.models import Customer
from crm.database import utcnow
from crm.jobs import daily
from crm.loyalty import accounts, ledger, messages, tiers
from crm.loyalty.models import Account, LedgerEntry, TierChange
from crm.loyalty.program import get_program
from crm.notifications.models import OutboxMessage
from crm.notifications.settings import get_settings
from crm.shop_time import local_date, mmdd, utc_from_local

BATCH = 500


@daily("expire-points", at="02:30")
def expire_points_job(session: Session, now: datetime) -> int:
    """Expire the points past their expiry date, a batch of customers per transaction."""
    total = 0
    while done := expire_points(session, now=now, batch=BATCH):
        session.commit()
        total += done
    return total


def expire_points(session: Session, *, now: datetime | None = None, batch: int = BATCH) -> int:
    """Expire what is left of every lot past its expiry. The customers due come from the partial
    index on open lots; each customer's account is locked while their lots expire. The caller commits
    (per batch, so a long run holds no lock for long). Returns how many customers had points expire."""
    now = now or utcnow()
    due = list(session.scalars(
        select(LedgerEntry.customer_id).where(LedgerEntry.remaining > 0, LedgerEntry.expires_at <= now)
        .distinct().limit(batch)
    ))
    done = 0
    for customer_id in due:
        account = ledger.lock_account(session, customer_id)
        if account is not None and ledger.expire_due(session, account, now=now):
            done += 1
    return done


@daily("tier-review", at="03:00")
def review_tiers(session: Session, now: datetime) -> int:
    """The periodic tier review (see crm.loyalty.tiers.review_tiers), then a message for every tier
    change not yet announced."""
    moved = tiers.review_tiers(session, now=now)
    session.commit()
    announce_tier_changes(session, now=now)
    return moved


def announce_tier_changes(session: Session, *, now: datetime, batch: int = 200) -> int:
    """One message per tier change of the catch-up window not yet announced, committed per batch. Ids are
    selected first and rows loaded per batch: a commit expires every loaded object, so holding all the
    changes across commits would reload them all after each one."""
    since = now - timedelta(days=get_settings(session).catch_up_days + 1)
    key = literal("tier:") + cast(TierChange.id, String)
    ids = list(session.scalars(
        select(TierChange.id).where(TierChange.created_at > since,
                                    ~exists().where(OutboxMessage.dedupe_key == key)).order_by(TierChange.id)))
    for start in range(0, len(ids), batch):
        changes = session.scalars(select(TierChange).where(TierChange.id.in_(ids[start:start + batch]))
                                  .order_by(TierChange.id)).all()
        customers = {c.id: c for c in session.scalars(
            select(Customer).where(Customer.id.in_({change.customer_id for change in changes})))}
        for change in changes:
            messages.tier_changed(session, customers[change.customer_id], change, now=now)
        session.commit()
    return len(ids)


def _days_due(session: Session, now: datetime) -> list[date]:
    today = local_date(now)
    return [today - timedelta(days=n) for n in range(get_settings(session).catch_up_days, -1, -1)]


def _codes(day: date) -> list[int]:
    """Month-day codes celebrated on ``day``: 29 February is celebrated on the 28th in other years."""
    return [mmdd(day), 229] if (day.month, day.day) == (2, 28) and not isleap(day.year) else [mmdd(day)]


def _not_awarded(kind: str, year: int):
    key = literal(f"{kind}:") + cast(Account.customer_id, String) + literal(f":{year}")
    return ~exists().where(LedgerEntry.idempotency_key == key)


def _award_and_greet(session: Session, kind: str, award, customer_id: int, year: int, *, now: datetime,
                     years: int | None = None) -> bool:
    """One member's ``kind`` bonus of ``year`` (``award`` is accounts.award_birthday_bonus or
    award_anniversary_bonus) with its greeting, in one committed transaction. False when there was
    nothing to do: under the customer's lock, a run in another process may have awarded it since our
    selection (and queued the greeting in the same transaction)."""
    ledger.lock_account(session, customer_id)
    entry = None
    if ledger.find_entry(session, f"{kind}:{customer_id}:{year}") is None:
        customer = session.get(Customer, customer_id)
        entry = award(session, customer, year, now=now)
        if entry is not None:
            messages.event_bonus(session, customer, accounts.get_account(session, customer_id), kind, year,
                                 entry.points, now=now, years=years)
    session.commit()
    return entry is not None


@daily("birthday-bonuses", at="09:00")
def birthday_bonuses(session: Session, now: datetime) -> int:
    """Every member whose birthday fell on a day of the catch-up window and who has no bonus for that
    year gets it, with the greeting (sent to those who agreed to marketing)."""
    program = get_program(session)
    if not program.enabled or program.birthday_bonus <= 0:
        return 0
    awarded = 0
    for day in _days_due(session, now):
        due = session.scalars(
            select(Account.customer_id).join(Customer, Customer.id == Account.customer_id)
            .where(Customer.birthday_mmdd.in_(_codes(day)), _not_awarded("birthday", day.year))
            .order_by(Account.customer_id)).all()
        for customer_id in due:
            awarded += _award_and_greet(session, "birthday", accounts.award_birthday_bonus, customer_id, day.year,
                                        now=now)
    return awarded


@daily("anniversary-bonuses", at="09:05")
def anniversary_bonuses(session: Session, now: datetime) -> int:
    """Every member whose first purchase was on this day of an earlier year gets the anniversary bonus
    once per year, with the greeting."""
    program = get_program(session)
    if not program.enabled or program.anniversary_bonus <= 0:
        return 0
    awarded = 0
    for day in _days_due(session, now):
        year_start = utc_from_local(date(day.year, 1, 1))
        due = session.execute(
            select(Account.customer_id, Account.first_purchase_at)
            .where(Account.first_purchase_mmdd.in_(_codes(day)), Account.first_purchase_at < year_start,
                   _not_awarded("anniversary", day.year))
            .order_by(Account.customer_id)).all()
        for customer_id, first_purchase_at in due:
            awarded += _award_and_greet(session, "anniversary", accounts.award_anniversary_bonus, customer_id,
                                        day.year, now=now, years=day.year - local_date(first_purchase_at).year)
    return awarded


@daily("expiry-warnings", at="10:00")
def expiry_warnings(session: Session, now: datetime) -> int:
    """Warn every customer whose points expire within the program's warning days, once per first
    expiry date (a customer already warned in that period is not selected again)."""
    program = get_program(session)
    if not program.enabled or program.expiry_warning_days <= 0:
        return 0
    horizon = now + timedelta(days=program.expiry_warning_days)
    warned = exists().where(OutboxMessage.customer_id == LedgerEntry.customer_id,
                            OutboxMessage.event == "points_expiring",
                            OutboxMessage.created_at > now - timedelta(days=program.expiry_warning_days))
    rows = session.execute(
        select(LedgerEntry.customer_id, func.sum(LedgerEntry.remaining), func.min(LedgerEntry.expires_at))
        .where(LedgerEntry.remaining > 0, LedgerEntry.expires_at > now, LedgerEntry.expires_at <= horizon, ~warned)
        .group_by(LedgerEntry.customer_id).order_by(LedgerEntry.customer_id)).all()
    for customer_id, points, first_expiry in rows:
        customer = session.get(Customer, customer_id)
        account = accounts.get_account(session, customer_id)
        messages.points_expiring(session, customer, account, int(points), local_date(first_expiry).isoformat(),
                                 now=now)
        session.commit()
    return len(rows)
