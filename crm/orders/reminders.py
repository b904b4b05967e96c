"""Device-lifecycle reminders, sent by the daily jobs of crm.orders.jobs, once per picked-up order:

- **Warranty ending** (service message ``warranty_ending``, key ``warranty:<order id>``): ``warranty_days_before``
  days before the repair's warranty ends (the last day as crm.orders.tracking.warranty_until counts it and the
  customer's page shows it), an invitation to come in if the fault came back.
- **Check-up** (marketing message ``checkup_reminder``, key ``checkup:<order id>``): ``months`` after the pickup
  of a repair of a kind the manager switched on (screen, battery, ...), with a personal coupon from the coupon
  template attached to that kind, issued once per order (``issued_for`` ``checkup:<order id>``) and only to a
  customer who agreed to marketing. Consent, quiet hours and the unsubscribe link are the outbox's.

Each job selects what is due in one SQL query (the warranty job first reads the distinct warranty lengths):
picked-up orders closed on the shop's days that make them due
today or on one of the notification settings' catch-up days before it (a scheduler that was down catches up),
with no message under their key yet (an anti-join on the outbox's unique dedupe key). A warranty reminder is
never sent after the warranty has ended."""

from calendar import monthrange
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import String, and_, cast, exists, false, literal, or_, select
from sqlalchemy.orm import Session

from crm import audit
from crm.auth.models import StaffUser
from crm.customers import contact
from crm.customers.models import Customer
from crm.errors import RuleError
from crm.locales import lazy_gettext as _l
from crm.loyalty import coupons
from crm.loyalty.models import CouponTemplate
from crm.notifications.models import OutboxMessage
from crm.notifications.outbox import enqueue
from crm.notifications.settings import get_settings as notification_settings
from crm.orders.device import REPAIR_KINDS
from crm.orders.messages import order_variables
from crm.orders.models import CheckupRule, ReminderSettings, RepairOrder
from crm.orders.status import Status
from crm.orders.tracking import warranty_until
from crm.shop_time import local_date, utc_from_local, written_day

BATCH = 200
DEFAULTS = dict(warranty_enabled=True, warranty_days_before=14)
# What the settings page suggests for a kind not set yet (a kind sends nothing until the manager switches it on).
SUGGESTED_MONTHS = {"screen": 12, "battery": 12, "liquid_damage": 1, "charging_port": 6, "software": 6, "other": 12}
MAX_MONTHS, MAX_DAYS_BEFORE = 60, 365


class ReminderError(RuleError):
    pass


@dataclass(frozen=True)
class CheckupSetting:
    enabled: bool
    months: int
    coupon_template_id: int | None = None


# --- settings ----------------------------------------------------------------------------------------------------

def get_reminder_settings(session: Session) -> ReminderSettings:
    """The saved settings, or an unsaved row holding the defaults (never added to the session)."""
    return session.get(ReminderSettings, 1) or ReminderSettings(id=1, **DEFAULTS)


def checkup_rules(session: Session) -> dict[str, CheckupRule]:
    """The saved check-up settings by kind of repair; a kind without a row sends nothing."""
    return {rule.repair_kind: rule for rule in session.scalars(select(CheckupRule))}


def _check(session: Session, warranty_days_before: int, checkups: dict[str, CheckupSetting]) -> None:
    if not 1 <= warranty_days_before <= MAX_DAYS_BEFORE:
        raise ReminderError(_l("Choose between 1 and 365 days."), field="warranty_days_before")
    for kind, setting in checkups.items():
        if kind not in REPAIR_KINDS:
            raise ReminderError(_l("Choose a kind of repair."))
        if not 1 <= setting.months <= MAX_MONTHS:
            raise ReminderError(_l("Choose between 1 and 60 months."), field=f"{kind}_months")
        if setting.coupon_template_id is not None:
            template = session.get(CouponTemplate, setting.coupon_template_id)
            if template is None or not template.active:
                raise ReminderError(_l("Choose an active coupon template."), field=f"{kind}_coupon")


def save_reminder_settings(session: Session, *, warranty_enabled: bool, warranty_days_before: int,
                           checkups: dict[str, CheckupSetting], actor: StaffUser | None, now: datetime) -> int:
    """Save the warranty reminder's settings and the check-up settings of the kinds given, each change in the
    audit log (subjects ``reminders`` and ``checkup:<kind>``). Returns how many values changed."""
    _check(session, warranty_days_before, checkups)
    changed = 0
    row = session.get(ReminderSettings, 1)
    if row is None:
        row = ReminderSettings(id=1, **DEFAULTS)
        session.add(row)
    changed += _apply(session, row, "reminders", {"warranty_enabled": warranty_enabled,
                                                  "warranty_days_before": warranty_days_before}, actor, now)
    row.updated_at = now
    rules = checkup_rules(session)
    for kind, setting in checkups.items():
        rule = rules.get(kind)
        if rule is None:
            rule = CheckupRule(repair_kind=kind, enabled=False, months=SUGGESTED_MONTHS.get(kind, 12))
            session.add(rule)
        changed += _apply(session, rule, f"checkup:{kind}", {"enabled": setting.enabled, "months": setting.months,
                                                            "coupon_template_id": setting.coupon_template_id},
                          actor, now)
    session.flush()
    return changed


def _apply(session: Session, row, subject: str, values: dict, actor: StaffUser | None, now: datetime) -> int:
    changed = 0
    for name, new in values.items():
        old = getattr(row, name)
        if old != new:
            audit.record_change(session, subject, name, old, new, actor, now)
            setattr(row, name, new)
            changed += 1
    return changed


# --- the shop's days ---------------------------------------------------------------------------------------------

def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or the month's last day when it is shorter (31 January + 1 = 28 February)."""
    years, month = divmod(day.month - 1 + months, 12)
    year = day.year + years
    return date(year, month + 1, min(day.day, monthrange(year, month + 1)[1]))


def _first_picked_up_day(due: date, months: int) -> date:
    """The earliest pickup day whose check-up falls on ``due`` or later (add_months only grows with the day)."""
    day = add_months(due, -months) - timedelta(days=7)
    while add_months(day, months) < due:
        day += timedelta(days=1)
    return day


def _last_picked_up_day(due: date, months: int) -> date:
    """The latest pickup day whose check-up falls on ``due`` or earlier."""
    day = add_months(due, -months) + timedelta(days=7)
    while add_months(day, months) > due:
        day -= timedelta(days=1)
    return day


def _closed_on_days(first: date, last: date):
    """Closed on one of the shop's days ``first`` .. ``last`` (an empty range matches nothing)."""
    if last < first:
        return false()
    return and_(RepairOrder.closed_at >= utc_from_local(first),
                RepairOrder.closed_at < utc_from_local(last + timedelta(days=1)))


def _catch_up_start(session: Session, today: date) -> date:
    return today - timedelta(days=notification_settings(session).catch_up_days)


def _not_sent(prefix: str):
    key = literal(prefix) + cast(RepairOrder.id, String)
    return ~exists().where(OutboxMessage.dedupe_key == key)


# --- warranty ending ---------------------------------------------------------------------------------------------

def warranty_reminders_due(session: Session, *, now: datetime) -> list[int]:
    """Ids of the picked-up orders whose warranty reminder is due: the reminder day (``warranty_days_before``
    before the warranty's last day) is today or within the catch-up days before it, the warranty has not ended,
    and no reminder was added for the order. For each distinct warranty length the pickup days are an exact
    range of ``closed_at`` (the index on (status, closed_at) serves it); one query ORs them."""
    settings = get_reminder_settings(session)
    if not settings.warranty_enabled:
        return []
    today = local_date(now)
    last_end = today + timedelta(days=settings.warranty_days_before)
    first_end = max(today, _catch_up_start(session, today) + timedelta(days=settings.warranty_days_before))
    lengths = session.scalars(select(RepairOrder.warranty_days).where(
        RepairOrder.status == Status.PICKED_UP.value, RepairOrder.warranty_days > 0).distinct()).all()
    if not lengths:
        return []
    closed = or_(*[and_(RepairOrder.warranty_days == days,
                        _closed_on_days(first_end - timedelta(days=days), last_end - timedelta(days=days)))
                   for days in lengths])
    return list(session.scalars(select(RepairOrder.id).where(
        RepairOrder.status == Status.PICKED_UP.value, closed, _not_sent("warranty:")).order_by(RepairOrder.id)))


def send_warranty_reminders(session: Session, *, now: datetime, batch: int = BATCH) -> int:
    """Add the due warranty reminders to the outbox, committing per batch. Returns how many were added."""
    ids = warranty_reminders_due(session, now=now)
    for start in range(0, len(ids), batch):
        for order, customer in _orders_with_customers(session, ids[start:start + batch]):
            ends_on = warranty_until(order.closed_at, order.warranty_days)
            enqueue(session, contact.recipient(customer), "warranty_ending",
                    {**order_variables(order, customer), "warranty_ends_on": written_day(ends_on)},
                    dedupe_key=f"warranty:{order.id}", now=now)
        session.commit()
    return len(ids)


# --- check-up ----------------------------------------------------------------------------------------------------

def checkup_reminders_due(session: Session, *, now: datetime) -> list[int]:
    """Ids of the picked-up orders whose check-up is due: their kind of repair is switched on, ``months`` after
    the pickup day is today or within the catch-up days before it, and no reminder was added for the order."""
    rules = [rule for rule in checkup_rules(session).values() if rule.enabled]
    if not rules:
        return []
    today = local_date(now)
    first_due = _catch_up_start(session, today)
    due = or_(*[and_(RepairOrder.repair_kind == rule.repair_kind,
                     _closed_on_days(_first_picked_up_day(first_due, rule.months),
                                     _last_picked_up_day(today, rule.months)))
                for rule in rules])
    return list(session.scalars(select(RepairOrder.id).where(
        RepairOrder.status == Status.PICKED_UP.value, due, _not_sent("checkup:")).order_by(RepairOrder.id)))


def send_checkup_reminders(session: Session, *, now: datetime, batch: int = BATCH) -> int:
    """Add the due check-up reminders to the outbox (with their coupons), committing per batch."""
    ids = checkup_reminders_due(session, now=now)
    rules = checkup_rules(session)
    for start in range(0, len(ids), batch):
        for order, customer in _orders_with_customers(session, ids[start:start + batch]):
            rule = rules.get(order.repair_kind)
            if rule is not None and rule.enabled:  # the kind may have changed since the selection
                checkup_reminder(session, order, customer, rule, now=now)
        session.commit()
    return len(ids)


def checkup_reminder(session: Session, order: RepairOrder, customer: Customer, rule: CheckupRule, *,
                     now: datetime) -> OutboxMessage:
    """The check-up message of one order, with the kind's coupon for a customer who agreed to marketing (a
    coupon nobody may be told about is not issued)."""
    recipient = contact.recipient(customer)
    coupon = None
    if rule.coupon_template_id is not None and recipient.marketing_consent:
        template = session.get(CouponTemplate, rule.coupon_template_id)
        if template is not None and template.active:
            coupon = coupons.issue_personal(session, template, customer.id, issued_for=f"checkup:{order.id}",
                                            now=now)
    variables = {**order_variables(order, customer), "repair_kind": REPAIR_KINDS[order.repair_kind],
                 "coupon_code": coupon.code if coupon else "",
                 "coupon_expires_on": written_day(local_date(coupon.valid_until)) if coupon else ""}
    return enqueue(session, recipient, "checkup_reminder", variables, dedupe_key=f"checkup:{order.id}", now=now)


def _orders_with_customers(session: Session, ids: list[int]) -> list[tuple[RepairOrder, Customer]]:
    return list(session.execute(
        select(RepairOrder, Customer).join(Customer, Customer.id == RepairOrder.customer_id)
        .where(RepairOrder.id.in_(ids)).order_by(RepairOrder.id)).tuples())
