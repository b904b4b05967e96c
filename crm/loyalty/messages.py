"""The loyalty program's messages to customers, added to the outbox in the transaction of what causes
them. Each has the dedupe key of its cause, so a repeated cause never messages twice:
``welcome:<customer>``, ``tier:<tier change>``, ``birthday:<customer>:<year>``,
``anniversary:<customer>:<year>``, ``expiring:<customer>:<date of the first expiry>``."""

from datetime import date, datetime

from sqlalchemy.orm import Session

from crm.customers import contact
from crm.customers.models import Customer
from crm.loyalty.models import Account, Tier, TierChange
from crm.notifications.models import OutboxMessage
from crm.notifications.outbox import enqueue
from crm.shop_time import written_day


def welcome(session: Session, customer: Customer, account: Account, *, now: datetime) -> OutboxMessage:
    return enqueue(session, contact.recipient(customer), "welcome",
                   {**contact.message_variables(customer), "points_balance": account.balance,
                    "referral_code": account.referral_code},
                   dedupe_key=f"welcome:{customer.id}", now=now)


def tier_changed(session: Session, customer: Customer, change: TierChange, *, now: datetime) -> OutboxMessage:
    to_tier = session.get(Tier, change.to_tier_id) if change.to_tier_id else None
    from_tier = session.get(Tier, change.from_tier_id) if change.from_tier_id else None
    direction = "up" if (to_tier.rank if to_tier else 0) > (from_tier.rank if from_tier else 0) else "down"
    return enqueue(session, contact.recipient(customer), "tier_changed",
                   {**contact.message_variables(customer), "tier_name": to_tier.name if to_tier else "-",
                    "previous_tier_name": from_tier.name if from_tier else "-", "direction": direction},
                   dedupe_key=f"tier:{change.id}", now=now)


def event_bonus(session: Session, customer: Customer, account: Account, event: str, year: int, bonus: int, *,
                now: datetime, years: int | None = None) -> OutboxMessage:
    """The birthday or anniversary greeting that goes with the bonus of ``year``."""
    variables = {**contact.message_variables(customer), "bonus_points": bonus, "points_balance": account.balance}
    if years is not None:
        variables["years"] = years
    return enqueue(session, contact.recipient(customer), event, variables,
                   dedupe_key=f"{event}:{customer.id}:{year}", now=now)


def points_expiring(session: Session, customer: Customer, account: Account, points: int, first_expiry: str, *,
                    now: datetime) -> OutboxMessage:
    return enqueue(session, contact.recipient(customer), "points_expiring",
                   {**contact.message_variables(customer), "points_expiring": points,
                    "expires_on": written_day(date.fromisoformat(first_expiry)), "points_balance": account.balance},
                   dedupe_key=f"expiring:{customer.id}:{first_expiry}", now=now)
