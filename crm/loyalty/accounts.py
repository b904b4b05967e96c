"""Membership: enrolment, referral codes and referrers, manual adjustments and event bonuses.

Every bonus has an idempotency key that names its cause, so it is awarded once however often it is
asked for: ``welcome:<customer>``, ``birthday:<customer>:<year>``, ``anniversary:<customer>:<year>``,
``referral:<newcomer>`` (to the referrer) and ``referee:<newcomer>`` (to the newcomer). The
scheduled jobs (birthdays, anniversaries) call these functions; see the notifications issue."""

import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm import audit
from crm.auth.models import StaffUser
from crm.customers.models import Customer
from crm.customers.phones import InvalidPhone, normalize_phone
from crm.database import utcnow
from crm.locales import lazy_gettext as _l
from crm.loyalty import ledger, messages
from crm.loyalty.codes import CODE_ALPHABET, normalize_code
from crm.loyalty.ledger import LoyaltyError
from crm.loyalty.models import Account, LedgerEntry, Tier
from crm.loyalty.program import get_program

CODE_LENGTH = 8


def new_referral_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def get_account(session: Session, customer_id: int) -> Account | None:
    return session.get(Account, customer_id)


def entry_tier(session: Session) -> Tier | None:
    return session.scalar(select(Tier).order_by(Tier.rank).limit(1))


def enrol(session: Session, customer: Customer, *, actor: StaffUser | None = None,
          now: datetime | None = None) -> Account:
    """Make the customer a member (idempotent) in the entry tier, with the welcome bonus. Returns the
    account locked for this transaction."""
    now = now or utcnow()
    account = ledger.lock_account(session, customer.id)
    if account is not None:
        return account
    tier = entry_tier(session)
    created = False
    for _attempt in range(5):  # a referral code that happens to be taken: draw another
        try:
            with session.begin_nested():
                session.add(Account(customer_id=customer.id, balance=0, tier_id=tier.id if tier else None,
                                    tier_since=now if tier else None, referral_code=new_referral_code(),
                                    enrolled_at=now, enrolled_by_id=actor.id if actor else None))
            created = True
            break
        except IntegrityError:
            if ledger.lock_account(session, customer.id) is not None:  # enrolled by another desk just now
                break
    account = ledger.lock_account(session, customer.id)
    if account is None:
        raise RuntimeError("could not create a loyalty account")
    program = get_program(session)
    if created and program.enabled and program.welcome_bonus > 0:
        ledger.credit(session, account, "bonus", program.welcome_bonus, key=f"welcome:{customer.id}",
                      reason=str(_l("Welcome to the loyalty program")), reference=f"customer:{customer.id}",
                      actor=actor, now=now, expiry_months=program.expiry_months)
    if created and program.enabled:
        messages.welcome(session, customer, account, now=now)
    return account


def should_enrol_automatically(session: Session, customer: Customer) -> bool:
    """Automatic enrolment takes customers who agreed to marketing messages (the program's offers
    and greetings are marketing); anyone else joins only when the desk enrols them."""
    program = get_program(session)
    return bool(program.enabled and program.enrolment == "automatic" and customer.marketing_consent)


def find_referrer(session: Session, text: str, *, region: str) -> Customer | None:
    """The customer a referral code or a phone number points to (None when nobody matches)."""
    text = (text or "").strip()
    if not text:
        return None
    code = normalize_code(text)
    account = session.scalar(select(Account).where(Account.referral_code == code)) if code else None
    if account is not None:
        return session.get(Customer, account.customer_id)
    try:
        phone = normalize_phone(text, region)
    except InvalidPhone:
        return None
    return session.scalar(select(Customer).where(Customer.phone == phone))


def set_referrer(session: Session, newcomer: Customer, referrer_text: str, *, region: str,
                 actor: StaffUser | None = None, now: datetime | None = None) -> Account:
    """Record who referred ``newcomer``. Refused for oneself, for a customer who already paid an
    order (a referral is for new customers), and where it would close a cycle (A referred B, B
    cannot have referred A, nor anyone up the chain)."""
    referrer = find_referrer(session, referrer_text, region=region)
    if referrer is None:
        raise LoyaltyError(_l("No customer has this referral code or phone number."), field="referred_by")
    if referrer.id == newcomer.id:
        raise LoyaltyError(_l("A customer cannot refer themselves."), field="referred_by")
    # Both accounts locked in customer id order: two desks linking the same pair cannot deadlock.
    for member in sorted((newcomer, referrer), key=lambda c: c.id):
        enrol(session, member, actor=actor, now=now)
    account = ledger.lock_account(session, newcomer.id)
    if account.referred_by_id is not None and account.referred_by_id != referrer.id:
        raise LoyaltyError(_l("This customer's referrer is already recorded."), field="referred_by")
    if account.first_purchase_at is not None:
        raise LoyaltyError(_l("Only a new customer (no paid order yet) can be referred."), field="referred_by")
    up = referrer.id
    for _hop in range(1000):  # walk up the referrer's chain
        if up == newcomer.id:
            raise LoyaltyError(_l("This would make a referral cycle."), field="referred_by")
        up = session.scalar(select(Account.referred_by_id).where(Account.customer_id == up))
        if up is None:
            break
    account.referred_by_id = referrer.id
    session.flush()
    return account


def reward_referral(session: Session, account: Account, *, actor: StaffUser | None,
                    now: datetime | None = None) -> None:
    """At the newcomer's first paid order: the referrer and the newcomer both get their bonus, once."""
    now = now or utcnow()
    if account.referred_by_id is None or account.referral_rewarded_at is not None:
        return
    program = get_program(session)
    if program.referee_bonus > 0:
        ledger.credit(session, account, "referral", program.referee_bonus, key=f"referee:{account.customer_id}",
                      reason=str(_l("Bonus for joining on a friend's recommendation")),
                      reference=f"customer:{account.referred_by_id}", actor=actor, now=now,
                      expiry_months=program.expiry_months)
    referrer = ledger.lock_account(session, account.referred_by_id)
    if referrer is not None and program.referral_bonus > 0:
        ledger.credit(session, referrer, "referral", program.referral_bonus, key=f"referral:{account.customer_id}",
                      reason=str(_l("Bonus for recommending a new customer")),
                      reference=f"customer:{account.customer_id}", actor=actor, now=now,
                      expiry_months=program.expiry_months)
    account.referral_rewarded_at = now
    session.flush()


def adjust_points(session: Session, customer: Customer, points: int, *, reason: str, key: str, actor: StaffUser,
                  now: datetime | None = None) -> LedgerEntry:
    """A manager's correction, up or down, always with a reason; a deduction cannot take the balance
    below zero."""
    now = now or utcnow()
    reason = (reason or "").strip()
    if not reason:
        raise LoyaltyError(_l("Say why the points are adjusted."), field="reason")
    if points == 0:
        raise LoyaltyError(_l("Enter the points to add (positive) or take away (negative)."), field="points")
    account = enrol(session, customer, actor=actor, now=now)
    program = get_program(session)
    replayed = ledger.find_entry(session, key) is not None  # the same form sent twice: audited once
    if points > 0:
        entry = ledger.credit(session, account, "adjust", points, key=key, reason=reason, actor=actor, now=now,
                              reference=f"customer:{customer.id}", expiry_months=program.expiry_months)
    else:
        entry = ledger.debit(session, account, "adjust", -points, key=key, reason=reason, actor=actor, now=now,
                             reference=f"customer:{customer.id}")
    # The reason stays on the ledger entry only: it is free text, which an erasure removes from one place.
    if not replayed:
        audit.record(session, actor, "adjust", "customer", customer.id,
                     {"points": points, "balance": account.balance, "ledger_entry": entry.id}, area="points",
                     now=now)
    return entry


def _event_bonus(session: Session, customer: Customer, kind_key: str, points: int, reason: str,
                 now: datetime) -> LedgerEntry | None:
    if points <= 0 or not get_program(session).enabled:
        return None
    account = ledger.lock_account(session, customer.id)
    if account is None:
        return None  # only members get event bonuses
    return ledger.credit(session, account, "bonus", points, key=kind_key, reason=reason,
                         reference=f"customer:{customer.id}", now=now,
                         expiry_months=get_program(session).expiry_months)


def award_birthday_bonus(session: Session, customer: Customer, year: int, *,
                         now: datetime | None = None) -> LedgerEntry | None:
    """The birthday bonus for ``year``: once per customer and year (key ``birthday:<id>:<year>``)."""
    return _event_bonus(session, customer, f"birthday:{customer.id}:{year}", get_program(session).birthday_bonus,
                        str(_l("Happy birthday!")), now or utcnow())


def award_anniversary_bonus(session: Session, customer: Customer, year: int, *,
                            now: datetime | None = None) -> LedgerEntry | None:
    """The bonus on the anniversary of the first purchase: once per customer and year."""
    return _event_bonus(session, customer, f"anniversary:{customer.id}:{year}",
                        get_program(session).anniversary_bonus,
                        str(_l("Thank you for another year with us")), now or utcnow())
