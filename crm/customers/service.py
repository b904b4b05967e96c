"""Customer rules: one customer per phone number, consent with its time, search by any fragment."""

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm.auth.models import StaffUser
from crm.customers import search
from crm.customers.consent import DESK, set_consents
from crm.customers.models import Customer
from crm.customers.phones import InvalidPhone, national_digits, normalize_phone
from crm.database import utcnow
from crm.errors import RuleError
from crm.locales import lazy_gettext as _l
from crm.notifications.outbox import CHANNEL_ORDER, MARKETING_WITHDRAWN, SERVICE_WITHDRAWN, cancel_unsent
from crm.shop_time import mmdd


class CustomerError(RuleError):
    pass


class DuplicatePhone(CustomerError):
    """The phone number belongs to another customer; ``existing`` is that customer."""

    def __init__(self, existing: Customer):
        super().__init__(_l("A customer with this phone number already exists."), field="phone")
        self.existing = existing


CHANNELS = ("auto", *CHANNEL_ORDER)  # "auto": the outbox picks the first usable channel


@dataclass
class CustomerData:
    name: str
    phone: str
    email: str | None = None
    birthday: date | None = None
    service_consent: bool = True
    marketing_consent: bool = False
    notes: str = ""
    preferred_channel: str = "auto"
    language: str | None = None


def build_search_text(name: str, email: str | None, phone: str) -> str:
    digits = phone.lstrip("+")
    return " ".join(filter(None, [name.casefold(), (email or "").casefold(), digits, national_digits(phone)]))


def find_by_phone(session: Session, phone_e164: str) -> Customer | None:
    return session.scalar(select(Customer).where(Customer.phone == phone_e164))


def _apply(customer: Customer, data: CustomerData, phone: str) -> None:
    """Everything but the consents (set_consents sets them, with their history)."""
    customer.name = data.name.strip()
    customer.phone = phone
    customer.email = (data.email or "").strip().lower() or None
    customer.birthday = data.birthday
    customer.birthday_mmdd = mmdd(data.birthday) if data.birthday else None
    customer.notes = (data.notes or "").strip()
    customer.preferred_channel = data.preferred_channel if data.preferred_channel in CHANNELS else "auto"
    customer.language = data.language or None
    customer.search_text = build_search_text(customer.name, customer.email, phone)


def _normalized_phone(session: Session, raw: str, region: str, exclude_id: int | None) -> str:
    try:
        phone = normalize_phone(raw, region)
    except InvalidPhone as exc:
        raise CustomerError(exc.message, field="phone") from None
    existing = find_by_phone(session, phone)
    if existing is not None and existing.id != exclude_id:
        raise DuplicatePhone(existing)
    return phone


@contextmanager
def _unique_phone(session: Session, phone: str):
    """Make the change and flush it inside a savepoint.

    The UNIQUE constraint is the last line of defence when two desks add the same number at once;
    the savepoint lets its violation undo only this change. It must be opened before the change is
    made, because begin_nested() first flushes what is pending, outside the savepoint."""
    try:
        with session.begin_nested():
            yield
            session.flush()
    except IntegrityError:
        existing = find_by_phone(session, phone)
        if existing is None:
            raise
        raise DuplicatePhone(existing) from None


def _wanted(data: CustomerData) -> dict[str, bool]:
    return {"service": bool(data.service_consent), "marketing": bool(data.marketing_consent)}


def create_customer(session: Session, data: CustomerData, *, region: str, now: datetime | None = None,
                    actor: StaffUser | None = None, source: str = DESK) -> Customer:
    """Add a customer. The phone is normalised to E.164 and must not belong to anyone else. The consents given
    (or not) at the start are the first rows of the consent history."""
    now = now or utcnow()
    phone = _normalized_phone(session, data.phone, region, exclude_id=None)
    customer = Customer()
    with _unique_phone(session, phone):
        _apply(customer, data, phone)
        customer.service_consent, customer.marketing_consent = data.service_consent, data.marketing_consent
        customer.service_consent_at = customer.marketing_consent_at = now
        customer.created_at = now
        session.add(customer)
    set_consents(session, customer, _wanted(data), source=source, actor=actor, now=now, initial=True)
    session.flush()
    return customer


def update_customer(session: Session, customer: Customer, data: CustomerData, *, region: str,
                    now: datetime | None = None, actor: StaffUser | None = None, source: str = DESK) -> Customer:
    """Change a customer's details; a changed consent flag records the time of the change and a row of the
    consent history. Consent taken back also stops the messages of that kind not yet sent."""
    now = now or utcnow()
    phone = _normalized_phone(session, data.phone, region, exclude_id=customer.id)
    with _unique_phone(session, phone):
        _apply(customer, data, phone)
        withdrawn = set_consents(session, customer, _wanted(data), source=source, actor=actor, now=now)
    if "marketing" in withdrawn:
        cancel_unsent(session, customer.id, kind="marketing", reason=MARKETING_WITHDRAWN)
    if "service" in withdrawn:
        cancel_unsent(session, customer.id, kind="service", reason=SERVICE_WITHDRAWN)
    return customer


# Search lives in crm.customers.search; these names stay for the callers that import them from here.
search_customers = search.search_customers
search_pattern = search.search_pattern
