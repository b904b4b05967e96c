"""Loyalty work the scheduler runs (the scheduler itself arrives with the notifications issue). Each job
is an idempotent function of ``now``: it selects what is due in SQL and does it once, because every
effect carries a unique key (an expiry is keyed by its lot, a tier move by the review's result)."""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.database import utcnow
from crm.loyalty import ledger, tiers
from crm.loyalty.models import LedgerEntry


def expire_points(session: Session, *, now: datetime | None = None, batch: int = 500) -> int:
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


def review_tiers(session: Session, *, now: datetime | None = None) -> int:
    """The periodic tier review (see crm.loyalty.tiers.review_tiers)."""
    return tiers.review_tiers(session, now=now)
