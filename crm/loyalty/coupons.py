"""Coupons at the desk: finding a usable one by its code, using it exactly as often as its rules
allow, and issuing personal coupons (e.g. after every paid repair).

A personal coupon belongs to one customer and is used once; a promo code is shared and used up to
its ``usage_limit`` within its dates. ``used_count`` grows only through a conditional UPDATE
(``... WHERE used_count < usage_limit``) under a CHECK constraint, so two desks cannot use the last
use of a coupon at the same moment. Refunding a sale does not give a coupon back."""

import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, contains_eager, selectinload

from crm.auth.models import StaffUser
from crm.database import utcnow
from crm.locales import lazy_gettext as _l
from crm.loyalty.codes import CODE_ALPHABET, is_valid_code, normalize_code
from crm.loyalty.ledger import LoyaltyError
from crm.loyalty.models import Coupon, CouponTemplate, CouponUse


def find_usable(session: Session, code: str, *, customer_id: int | None, now: datetime) -> Coupon:
    """The coupon with this code (as crm.loyalty.codes reads it), if this customer may use it now; otherwise a
    clear refusal."""
    wanted = normalize_code(code)
    coupon = session.scalar(select(Coupon).where(Coupon.code == wanted).options(selectinload(Coupon.template))) \
        if is_valid_code(wanted) else None
    if coupon is None:
        raise LoyaltyError(_l("No coupon has this code."), field="coupon")
    if coupon.kind == "personal" and coupon.customer_id != customer_id:
        raise LoyaltyError(_l("This coupon belongs to another customer."), field="coupon")
    if not coupon.template.active:
        raise LoyaltyError(_l("This coupon's offer has ended."), field="coupon")
    if now < coupon.valid_from:
        raise LoyaltyError(_l("This coupon is not valid yet."), field="coupon")
    if now >= coupon.valid_until:
        raise LoyaltyError(_l("This coupon has expired."), field="coupon")
    if coupon.used_count >= coupon.usage_limit:
        raise LoyaltyError(_l("This coupon was already used."), field="coupon")
    return coupon


def use(session: Session, coupon: Coupon, *, customer_id: int | None, reference: str, amount_minor: int,
        now: datetime) -> CouponUse:
    """Count one use of the coupon for the sale ``reference``; refused if it was used up meanwhile."""
    taken = session.execute(
        update(Coupon).where(Coupon.id == coupon.id, Coupon.used_count < Coupon.usage_limit)
        .values(used_count=Coupon.used_count + 1).execution_options(synchronize_session=False)
    ).rowcount
    if taken != 1:
        raise LoyaltyError(_l("This coupon was used up a moment ago."), field="coupon")
    row = CouponUse(coupon_id=coupon.id, customer_id=customer_id, reference=reference, amount_minor=amount_minor,
                    used_at=now)
    session.add(row)
    session.flush()
    session.expire(coupon, ["used_count"])
    return row


def new_code(prefix: str = "") -> str:
    return prefix + "".join(secrets.choice(CODE_ALPHABET) for _ in range(10))


def issue_personal(session: Session, template: CouponTemplate, customer_id: int, *, issued_for: str,
                   actor: StaffUser | None = None, now: datetime | None = None) -> Coupon:
    """A personal coupon from ``template``, valid ``validity_days`` from now; one per template and
    cause (``issued_for``, e.g. "sale:12"), however often the cause is replayed."""
    now = now or utcnow()
    existing = session.scalar(select(Coupon).where(Coupon.template_id == template.id,
                                                   Coupon.issued_for == issued_for))
    if existing is not None:
        return existing
    for _attempt in range(5):
        coupon = Coupon(code=new_code("P"), kind="personal", template_id=template.id, customer_id=customer_id,
                        usage_limit=1, used_count=0, valid_from=now,
                        valid_until=now + timedelta(days=template.validity_days), issued_for=issued_for,
                        created_by_id=actor.id if actor else None, created_at=now)
        try:
            with session.begin_nested():
                session.add(coupon)
            return coupon
        except IntegrityError:
            existing = session.scalar(select(Coupon).where(Coupon.template_id == template.id,
                                                           Coupon.issued_for == issued_for))
            if existing is not None:
                return existing
    raise RuntimeError("could not draw a free coupon code")


def usable_personal_condition(customer_id: int, now: datetime) -> tuple:
    """Personal coupons of the customer usable now (with Coupon joined to its CouponTemplate)."""
    return (Coupon.customer_id == customer_id, Coupon.kind == "personal", Coupon.used_count < Coupon.usage_limit,
            Coupon.valid_from <= now, Coupon.valid_until > now, CouponTemplate.active.is_(True))


def usable_personal(session: Session, customer_id: int, now: datetime) -> list[Coupon]:
    """The customer's personal coupons that can be used now, soonest to expire first."""
    return list(session.scalars(
        select(Coupon).join(CouponTemplate).where(*usable_personal_condition(customer_id, now))
        .order_by(Coupon.valid_until).options(contains_eager(Coupon.template))
    ))
