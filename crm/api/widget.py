"""The repair-status widget a shop puts on its own website (static/widget/repair-status.js): the customer types
the order number and the last four digits of their phone and sees the status and the tracking link.

No such order and wrong digits get the same answer (shape, status code, one query either way), so numbers cannot
be told apart from outside; calls are limited per address (WIDGET_RATE_LIMIT); browsers may read the answers only
on the websites the manager lists (CORS), and a call from any other page is refused."""

import hmac
import re
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.api.models import ApiSettings
from crm.customers.models import Customer
from crm.errors import RuleError
from crm.links import public_url
from crm.locales import lazy_gettext as _l
from crm.orders.models import RepairOrder
from crm.orders.status import Status
from crm.orders.tracking import PATH

LAST4 = re.compile(r"[0-9]{4}")
MAX_ORIGINS = 20


def settings(session: Session) -> ApiSettings:
    return session.get(ApiSettings, 1) or ApiSettings(id=1, widget_origins="")


def allowed_origins(session: Session) -> frozenset[str]:
    return frozenset(line.strip() for line in settings(session).widget_origins.splitlines() if line.strip())


def clean_origins(text: str) -> list[str]:
    """The origins typed by the manager, one per line (https://shop.example or http://host:port); RuleError
    naming the first that is not one."""
    origins = []
    for line in (text or "").splitlines():
        value = line.strip().rstrip("/")
        if not value:
            continue
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.path or parts.query \
                or parts.fragment or parts.username or parts.password:
            raise RuleError(_l("%(origin)s is not a website address such as https://shop.example.", origin=value),
                            field="widget_origins")
        origins.append(f"{parts.scheme}://{parts.netloc.lower()}")
    if len(origins) > MAX_ORIGINS:
        raise RuleError(_l("At most %(count)s websites.", count=MAX_ORIGINS), field="widget_origins")
    return sorted(set(origins))


def save_origins(session: Session, text: str) -> list[str]:
    origins = clean_origins(text)
    row = session.get(ApiSettings, 1, with_for_update=True)
    if row is None:
        row = ApiSettings(id=1)
        session.add(row)
    row.widget_origins = "\n".join(origins)
    return origins


def lookup(session: Session, number: str, last4: str) -> dict:
    """The answer for an order number and the phone's last four digits: found with the status and the link, or
    not found, the same for an unknown number and for wrong digits."""
    number = (number or "").strip().upper()[:32]
    digits = (last4 or "").strip()
    row = session.execute(select(RepairOrder.status, RepairOrder.tracking_token, Customer.phone, Customer.erased_at)
                          .join(Customer, Customer.id == RepairOrder.customer_id)
                          .where(RepairOrder.number == number)).first() if number else None
    phone_tail = row.phone[-4:] if row is not None else "0000"
    matches = hmac.compare_digest(phone_tail, digits if LAST4.fullmatch(digits) else "----")
    if row is None or not matches or row.erased_at is not None:
        return {"found": False, "status": None, "status_label": None, "tracking_url": None}
    return {"found": True, "status": row.status, "status_label": Status(row.status).label,
            "tracking_url": public_url(PATH + row.tracking_token)}
