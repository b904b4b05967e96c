"""The points ledger: the only way a balance changes.

Rules (each has a test in tests/loyalty/):
- Every change is an append-only entry with signed points, a reason, a reference to its cause, its
  author and a UNIQUE idempotency key. Posting the same key again returns the first entry and
  changes nothing; the same key with other points is refused.
- The account row is locked before the balance is read (FOR UPDATE on PostgreSQL; on SQLite write
  transactions begin immediately, so writers are already serialised). The balance cache is written
  in the same transaction as the entry, and balance == SUM(points) >= 0 at every commit.
- A positive entry is a lot: it carries its expiry date (``expiry_months`` after it was credited;
  none when the program's expiry is 0) and ``remaining``, what is left of it. A negative entry takes
  points from the open lots oldest first (the one that expires soonest; lots that never expire last)
  and writes one LotUse per lot it took from, so lot.points - lot.remaining == SUM(its uses).
- Lots past their expiry are expired (an ``expire`` entry for exactly what is left) before any
  balance is read under the lock, so expired points can never be spent, whether or not the daily
  expiry job has run yet.
"""

from dataclasses import dataclass
from datetime import datetime

from dateutil.relativedelta import relativedelta
from sqlalchemy import event, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm.auth.models import StaffUser
from crm.database import utcnow
from crm.errors import RuleError
from crm.locales import lazy_gettext as _l
from crm.locales import lazy_ngettext as _ln
from crm.loyalty.models import Account, LedgerEntry, LotUse
from crm.webhooks import events as webhook_events

CREDIT_KINDS = frozenset({"earn", "bonus", "referral", "adjust", "reversal"})
DEBIT_KINDS = frozenset({"redeem", "expire", "adjust", "reversal"})
MAX_POINTS = 10_000_000


class LoyaltyError(RuleError):
    pass


class NotEnoughPoints(LoyaltyError):
    def __init__(self, balance: int):
        super().__init__(_ln("Only %(num)d point is available.", "Only %(num)d points are available.", balance),
                         field="points")
        self.balance = balance


def lock_account(session: Session, customer_id: int) -> Account | None:
    """The account row, locked for the rest of the transaction, with its values read fresh."""
    return session.scalar(select(Account).where(Account.customer_id == customer_id).with_for_update()
                          .execution_options(populate_existing=True))


def expiry_for(credited_at: datetime, expiry_months: int) -> datetime | None:
    return credited_at + relativedelta(months=expiry_months) if expiry_months > 0 else None


def find_entry(session: Session, key: str) -> LedgerEntry | None:
    return session.scalar(select(LedgerEntry).where(LedgerEntry.idempotency_key == key))


def _replay(existing: LedgerEntry, kind: str, points: int) -> LedgerEntry:
    if existing.kind != kind or existing.points != points:
        raise LoyaltyError(_l("This operation was already recorded with other points."))
    return existing


def _post(session: Session, account: Account, entry: LedgerEntry, *, new_key: bool = False) -> LedgerEntry:
    """Write an entry inside a savepoint: if another transaction committed the same key first, the
    UNIQUE constraint refuses ours and that entry is returned instead.

    ``new_key``: the caller holds the lock of what the key names and knows it was never posted, so no other
    transaction can post it: the entry is written without a savepoint (two statements fewer). Were a second
    entry with the key ever written, the UNIQUE constraint would fail the caller's whole transaction."""
    if new_key:
        session.add(entry)
        session.flush()
        return entry
    try:
        with session.begin_nested():
            session.add(entry)
    except IntegrityError:
        existing = find_entry(session, entry.idempotency_key)
        if existing is None:
            raise
        session.refresh(account)
        return existing
    return entry


def credit(session: Session, account: Account, kind: str, points: int, *, key: str, reason: str = "",
           reference: str = "", actor: StaffUser | None = None, now: datetime | None = None,
           expiry_months: int = 0, new_key: bool = False) -> LedgerEntry:
    """Add ``points`` as a new lot. ``account`` must have been locked by the caller.

    ``new_key``: the caller holds the lock of what ``key`` names and knows it was never posted (a checkout
    under its sale's lock), so the look for an earlier entry is skipped; the UNIQUE key still refuses a
    second one (the caller's transaction fails)."""
    now = now or utcnow()
    if kind not in CREDIT_KINDS:
        raise ValueError(f"{kind} does not credit points")
    if not 0 < points <= MAX_POINTS:
        raise LoyaltyError(_l("Points must be a whole number between 1 and %(n)d.", n=MAX_POINTS), field="points")
    existing = None if new_key else find_entry(session, key)
    if existing is not None:
        return _replay(existing, kind, points)
    expire_due(session, account, now=now)
    entry = LedgerEntry(customer_id=account.customer_id, kind=kind, points=points, remaining=points,
                        expires_at=expiry_for(now, expiry_months), balance_after=account.balance + points,
                        reason=reason[:500], reference=reference[:64], idempotency_key=key,
                        author_id=actor.id if actor else None, created_at=now)
    posted = _post(session, account, entry, new_key=new_key)
    if posted is entry:
        expired = _expired_in_transaction(session)
        for pair in [pair for pair in expired if pair[0] == account.customer_id]:
            del expired[pair]
        account.balance += points
        session.flush()
        webhook_events.points_changed(session, entry)
    return posted


def _lots_with_points(session: Session, customer_id: int) -> list[LedgerEntry]:
    """Every lot with points left, due or not, in the order they are spent (the due ones first)."""
    return list(session.scalars(
        select(LedgerEntry).where(LedgerEntry.customer_id == customer_id, LedgerEntry.remaining > 0)
        .order_by(LedgerEntry.expires_at.is_(None), LedgerEntry.expires_at, LedgerEntry.id)
        .execution_options(populate_existing=True)
    ))


def open_lots(session: Session, customer_id: int, now: datetime) -> list[LedgerEntry]:
    """Lots with points left that have not expired, in the order they are spent. Right after expire_due in the
    same transaction (the account locked, no lot added since) these are the lots it read: no second read."""
    known = _expired_in_transaction(session).get((customer_id, now))
    if known is not None:
        return [lot for lot in known if lot.remaining > 0]
    return [lot for lot in _lots_with_points(session, customer_id) if lot.expires_at is None or lot.expires_at > now]


def debit(session: Session, account: Account, kind: str, points: int, *, key: str, reason: str = "",
          reference: str = "", actor: StaffUser | None = None, now: datetime | None = None,
          first_lot_key: str | None = None, new_key: bool = False) -> LedgerEntry:
    """Take ``points`` from the open lots, oldest first (``first_lot_key``: that lot first, as a
    refund takes back the points its sale earned). Refused when the balance is too small: a balance
    never goes negative. ``account`` must have been locked by the caller. ``new_key``: as for credit."""
    now = now or utcnow()
    if kind not in DEBIT_KINDS:
        raise ValueError(f"{kind} does not debit points")
    if not 0 < points <= MAX_POINTS:
        raise LoyaltyError(_l("Points must be a whole number between 1 and %(n)d.", n=MAX_POINTS), field="points")
    existing = None if new_key else find_entry(session, key)
    if existing is not None:
        return _replay(existing, kind, -points)
    expire_due(session, account, now=now)
    if points > account.balance:
        raise NotEnoughPoints(account.balance)
    lots = open_lots(session, account.customer_id, now)
    if first_lot_key is not None:
        lots.sort(key=lambda lot: lot.idempotency_key != first_lot_key)  # stable: the rest stay oldest first
    entry = LedgerEntry(customer_id=account.customer_id, kind=kind, points=-points, remaining=None,
                        balance_after=account.balance - points, reason=reason[:500], reference=reference[:64],
                        idempotency_key=key, author_id=actor.id if actor else None, created_at=now)
    posted = _post(session, account, entry, new_key=new_key)
    if posted is not entry:
        return posted
    _take_from_lots(session, entry, lots, points)
    account.balance -= points
    session.flush()
    webhook_events.points_changed(session, entry)
    return entry


def _take_from_lots(session: Session, entry: LedgerEntry, lots: list[LedgerEntry], points: int) -> None:
    """The debit's points from its lots, oldest first: the lots' new remainders and the uses are written
    in one statement each, however many lots it takes."""
    left = points
    uses = []
    for lot in lots:
        if left == 0:
            break
        take = min(left, lot.remaining)
        lot.remaining -= take
        uses.append({"entry_id": entry.id, "lot_id": lot.id, "points": take})
        left -= take
    if left:  # the balance cache and the lots disagree: refuse rather than write a wrong ledger
        raise RuntimeError(f"lots of customer {entry.customer_id} hold {points - left} points, not {points}")
    if uses:
        session.execute(insert(LotUse), uses)


# (customer_id, now) -> the lots left open when this transaction expired that account's due ones: the account is
# locked and nothing added since (credit forgets the pair) can be due, so a checkout's debit and credit do not look
# again, and the debit spends from these lots (open_lots) without reading them a second time.
_EXPIRED = "crm.loyalty.expired"


def _expired_in_transaction(session: Session) -> dict:
    return session.info.setdefault(_EXPIRED, {})


@event.listens_for(Session, "after_transaction_end")
def _forget_expired(session, transaction):
    if transaction.parent is None:  # the transaction itself ends, not a savepoint in it
        session.info.pop(_EXPIRED, None)


def expire_due(session: Session, account: Account, *, now: datetime | None = None) -> list[LedgerEntry]:
    """Expire what is left of every lot of this (locked) account whose expiry has passed: one
    ``expire`` entry per lot, keyed by the lot, so expiring twice does nothing the second time."""
    now = now or utcnow()
    done = _expired_in_transaction(session)
    if (account.customer_id, now) in done:
        return []
    lots = _lots_with_points(session, account.customer_id)
    due = [lot for lot in lots if lot.expires_at is not None and lot.expires_at <= now]
    done[(account.customer_id, now)] = lots[len(due):]
    entries = []
    for lot in due:
        left = lot.remaining
        entry = LedgerEntry(customer_id=account.customer_id, kind="expire", points=-left, remaining=None,
                            balance_after=account.balance - left, reason=str(_l("Points expired")),
                            reference=f"lot:{lot.id}", idempotency_key=f"expire:lot:{lot.id}",
                            created_at=lot.expires_at)
        session.add(entry)
        session.flush()
        lot.remaining = 0
        session.add(LotUse(entry_id=entry.id, lot_id=lot.id, points=left))
        account.balance -= left
        entries.append(entry)
        webhook_events.points_changed(session, entry)
    if entries:
        session.flush()
    return entries


@dataclass(frozen=True)
class Reversal:
    """What a refund did to the points: ``restored`` spent points given back, ``reversed`` earned
    points taken back, ``shortfall`` earned points that could not be taken back (already spent)."""

    restored: int
    reversed: int
    shortfall: int


def reverse(session: Session, account: Account, *, restore: int, take_back: int, key: str, reference: str,
            reason: str, actor: StaffUser | None, now: datetime | None = None, expiry_months: int = 0,
            earned_lot_key: str | None = None) -> Reversal:
    """A refund's effect on the points, in this order:

    1. ``restore`` points that were spent on the refunded part come back as a new lot (expiring
       ``expiry_months`` from now, like any credit);
    2. ``take_back`` points that the refunded part earned are taken back, first from the lot that
       sale earned, then oldest first.
    If the balance after step 1 is smaller than ``take_back``, the customer already spent those
    points: only what is there is taken (the balance stops at zero, never below) and the rest is
    returned as ``shortfall`` for the caller to settle (the refund keeps their value back from the
    money, see crm.sales.refunds) and recorded on the entry as ``unrecovered``."""
    now = now or utcnow()
    restored = taken = 0
    if restore > 0:
        credit(session, account, "reversal", restore, key=f"{key}:restore", reason=reason, reference=reference,
               actor=actor, now=now, expiry_months=expiry_months)
        restored = restore
    shortfall = 0
    if take_back > 0:
        done = find_entry(session, f"{key}:take_back")
        if done is not None:  # a replay: answer as the first time, not from today's balance
            return Reversal(restored=restored, reversed=-done.points, shortfall=done.unrecovered)
        expire_due(session, account, now=now)
        taken = min(take_back, account.balance)
        shortfall = take_back - taken
        if taken:
            entry = debit(session, account, "reversal", taken, key=f"{key}:take_back", reason=reason,
                          reference=reference, actor=actor, now=now, first_lot_key=earned_lot_key)
            entry.unrecovered = shortfall
            session.flush()
    return Reversal(restored=restored, reversed=taken, shortfall=shortfall)


def history(session: Session, customer_id: int, *, limit: int = 50) -> list[LedgerEntry]:
    return list(session.scalars(
        select(LedgerEntry).where(LedgerEntry.customer_id == customer_id)
        .order_by(LedgerEntry.id.desc()).limit(limit)
    ))
