"""The manager's side of coupons: templates and promo codes, each change audited."""

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm.audit import record_change
from crm.auth.models import StaffUser
from crm.database import utcnow
from crm.locales import lazy_gettext as _l
from crm.loyalty.codes import CODE_RULE, is_valid_code, normalize_code
from crm.loyalty.ledger import LoyaltyError
from crm.loyalty.models import Coupon, CouponTemplate
from crm.shop_time import day_bounds_utc

TEMPLATE_FIELDS = ("name", "kind", "value", "categories", "min_bill_minor", "validity_days", "active")


def active_templates(session: Session) -> list[CouponTemplate]:
    """The templates a manager may attach (after-repair coupon, promo codes), by name."""
    return list(session.scalars(select(CouponTemplate).where(CouponTemplate.active.is_(True))
                                .order_by(CouponTemplate.name)))


def save_template(session: Session, template: CouponTemplate | None, values: dict, *, actor: StaffUser | None,
                  now: datetime | None = None) -> CouponTemplate:
    """Create (``template`` None) or change a coupon template; names are unique."""
    now = now or utcnow()
    if values["kind"] == "percent" and not 1 <= values["value"] <= 10_000:
        raise LoyaltyError(_l("A percentage coupon takes off between 0.01 and 100%."), field="percent")
    if values["kind"] == "fixed" and values["value"] <= 0:
        raise LoyaltyError(_l("Enter the amount the coupon takes off."), field="amount")
    if not values["categories"]:
        raise LoyaltyError(_l("Choose what the coupon applies to."), field="categories")
    clash = session.scalar(select(CouponTemplate.id).where(CouponTemplate.name == values["name"]))
    if clash is not None and (template is None or clash != template.id):
        raise LoyaltyError(_l("Another coupon template has this name."), field="name")
    old = {name: getattr(template, name) for name in TEMPLATE_FIELDS} if template else dict.fromkeys(TEMPLATE_FIELDS)
    try:
        with session.begin_nested():
            if template is None:
                template = CouponTemplate()
                session.add(template)
            for name in TEMPLATE_FIELDS:
                setattr(template, name, values[name])
    except IntegrityError:
        raise LoyaltyError(_l("Another coupon template has this name."), field="name") from None
    for name in TEMPLATE_FIELDS:
        if old[name] != values[name]:
            record_change(session, f"coupon_template:{template.id}", name, old[name], values[name], actor, now)
    session.flush()
    return template


def validity_instants(first_day: date, last_day: date) -> tuple[datetime, datetime]:
    """A promo code is valid from the shop's midnight that starts ``first_day`` to the one that ends ``last_day``."""
    return day_bounds_utc(first_day)[0], day_bounds_utc(last_day)[1]


def create_promo_code(session: Session, template: CouponTemplate, code: str, usage_limit: int, valid_from: datetime,
                      valid_until: datetime, *, actor: StaffUser | None, now: datetime | None = None) -> Coupon:
    """A shared code anyone may use up to ``usage_limit`` times between the two moments. The code follows
    crm.loyalty.codes (the rule the desk redeems by), so it is stored as it will be looked up."""
    now = now or utcnow()
    code = normalize_code(code)
    if not is_valid_code(code):
        raise LoyaltyError(CODE_RULE, field="code")
    if valid_until <= valid_from:
        raise LoyaltyError(_l("The end date must come after the start date."), field="valid_until")
    if session.scalar(select(Coupon.id).where(Coupon.code == code)) is not None:
        raise LoyaltyError(_l("This code is already in use."), field="code")
    coupon = Coupon(code=code, kind="promo", template_id=template.id, usage_limit=usage_limit, used_count=0,
                    valid_from=valid_from, valid_until=valid_until, created_by_id=actor.id if actor else None,
                    created_at=now)
    try:
        with session.begin_nested():
            session.add(coupon)
    except IntegrityError:
        raise LoyaltyError(_l("This code is already in use."), field="code") from None
    record_change(session, f"promo:{coupon.id}", "created", "", f"{code} x{usage_limit} {valid_from:%Y-%m-%d}.."
           f"{valid_until:%Y-%m-%d} ({template.name})", actor, now)
    session.flush()
    return coupon
