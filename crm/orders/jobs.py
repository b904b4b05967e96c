"""The repair orders' scheduled jobs: the device-lifecycle reminders (rules in crm.orders.reminders)."""

from datetime import datetime

from sqlalchemy.orm import Session

from crm.jobs import daily
from crm.orders import reminders


@daily("warranty-reminders", at="10:30")
def warranty_reminders(session: Session, now: datetime) -> int:
    """A message to every customer whose repair's warranty ends in the settings' days, once per order."""
    return reminders.send_warranty_reminders(session, now=now)


@daily("checkup-reminders", at="11:00")
def checkup_reminders(session: Session, now: datetime) -> int:
    """A check-up reminder (with the kind's coupon) the settings' months after a repair, once per order."""
    return reminders.send_checkup_reminders(session, now=now)
