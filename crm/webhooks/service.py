"""The manager's webhook endpoints: add, change, switch off, delete, a new secret, and "try again" on a failed
delivery. Every change is a line in the audit log (area "webhooks"); a secret never is."""

import ipaddress
import secrets
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from crm.audit import record, record_change
from crm.auth.models import StaffUser
from crm.database import utcnow
from crm.errors import RuleError
from crm.locales import lazy_gettext as _l
from crm.notifications import dispatch
from crm.webhooks.events import EVENTS, forget_subscriptions
from crm.webhooks.models import WebhookDelivery, WebhookEndpoint

SECRET_PREFIX = "whsec_"
URL_MAX = 500
LOOPBACK_NAMES = {"localhost", "localhost.localdomain"}


class WebhookError(RuleError):
    pass


@dataclass
class EndpointData:
    url: str
    events: list[str]
    description: str = ""
    active: bool = True


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str, *, allow_http_loopback: bool) -> str:
    """The URL to POST to: absolute https (plain http only to this machine, and only outside production), a host,
    no user name or password (the signature is the proof), no fragment."""
    url = (url or "").strip()
    if not url:
        raise WebhookError(_l("Enter the address that receives the events."), field="url")
    if len(url) > URL_MAX:
        raise WebhookError(_l("At most %(n)d characters.", n=URL_MAX), field="url")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is no port
    except ValueError:
        parts = None
    if (parts is None or parts.scheme not in ("http", "https") or not parts.hostname or parts.fragment
            or any(ch.isspace() or not ch.isprintable() for ch in url)):
        raise WebhookError(_l("Enter an absolute address such as https://example.com/crm-events."), field="url")
    if parts.username is not None or parts.password is not None:
        raise WebhookError(_l("Leave the user name and password out of the address: deliveries are signed."),
                           field="url")
    if parts.scheme == "http" and not (allow_http_loopback and is_loopback(parts.hostname)):
        raise WebhookError(_l("The address must start with https:// (plain http:// only to this computer, "
                              "outside production)."), field="url")
    return url


def _check(data: EndpointData, allow_http_loopback: bool) -> tuple[str, str, str]:
    url = check_url(data.url, allow_http_loopback=allow_http_loopback)
    chosen = [code for code in EVENTS if code in set(data.events or ())]
    if not chosen or len(chosen) != len(set(data.events)):
        raise WebhookError(_l("Choose at least one event."), field="events")
    description = (data.description or "").strip()
    if len(description) > 120:
        raise WebhookError(_l("At most %(n)d characters.", n=120), field="description")
    return url, "," + ",".join(chosen) + ",", description


def create_endpoint(session: Session, data: EndpointData, *, actor: StaffUser | None, allow_http_loopback: bool,
                    now: datetime | None = None) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its secret (to show the manager once)."""
    now = now or utcnow()
    url, events, description = _check(data, allow_http_loopback)
    secret = new_secret()
    row = WebhookEndpoint(url=url, events=events, description=description, secret=secret, active=data.active,
                          created_by_id=actor.id if actor else None, created_at=now, secret_created_at=now)
    session.add(row)
    session.flush()
    record(session, actor, "create", "webhook", row.id, {"url": url, "events": row.event_codes, "active": row.active,
                                                         "description": description}, area="webhooks", now=now)
    forget_subscriptions(session)
    return row, secret


def update_endpoint(session: Session, row: WebhookEndpoint, data: EndpointData, *, actor: StaffUser | None,
                    allow_http_loopback: bool, now: datetime | None = None) -> None:
    """Change the address, events, description or whether it is on; each change in the audit log."""
    now = now or utcnow()
    url, events, description = _check(data, allow_http_loopback)
    for field, value in (("url", url), ("events", events), ("description", description), ("active", data.active)):
        old = getattr(row, field)
        if old != value:
            shown = (lambda v: v.strip(",")) if field == "events" else (lambda v: v)
            record_change(session, f"webhook:{row.id}", field, shown(old), shown(value), actor, now, area="webhooks")
            setattr(row, field, value)
    session.flush()
    forget_subscriptions(session)


def rotate_secret(session: Session, row: WebhookEndpoint, *, actor: StaffUser | None,
                  now: datetime | None = None) -> str:
    """A new secret, used from now on (deliveries still waiting are signed with it too); the old one stops."""
    now = now or utcnow()
    row.secret, row.secret_created_at = new_secret(), now
    record(session, actor, "new_secret", "webhook", row.id, {"url": row.url}, area="webhooks", now=now)
    session.flush()
    return row.secret


def delete_endpoint(session: Session, row: WebhookEndpoint, *, actor: StaffUser | None,
                    now: datetime | None = None) -> None:
    """Delete the endpoint with its deliveries (those not sent yet are never sent)."""
    record(session, actor, "delete", "webhook", row.id, {"url": row.url, "events": row.event_codes},
           area="webhooks", now=now)
    session.execute(delete(WebhookDelivery).where(WebhookDelivery.endpoint_id == row.id))
    session.delete(row)
    session.flush()
    forget_subscriptions(session)


def retry_delivery(session: Session, row: WebhookEndpoint, delivery_id: int, *, actor: StaffUser | None,
                   now: datetime | None = None) -> bool:
    """The manager's "try again" on a failed delivery of this endpoint (the dispatcher's retry: pending now, with a
    fresh count of attempts). False when it is not a failed delivery of this endpoint."""
    delivery = session.scalar(select(WebhookDelivery.id).where(WebhookDelivery.id == delivery_id,
                                                               WebhookDelivery.endpoint_id == row.id))
    if delivery is None or not dispatch.retry(session, delivery_id, now=now, model=WebhookDelivery):
        return False
    record(session, actor, "retry", "webhook", row.id, {"delivery": delivery_id}, area="webhooks", now=now)
    return True


def endpoints(session: Session) -> list[WebhookEndpoint]:
    return list(session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)))


def failed_counts(session: Session) -> dict[int, int]:
    """Failed deliveries per endpoint (the list page's warning)."""
    return dict(session.execute(select(WebhookDelivery.endpoint_id, func.count())
                                .where(WebhookDelivery.status == "failed")
                                .group_by(WebhookDelivery.endpoint_id)).tuples().all())


def recent_deliveries(session: Session, endpoint_id: int, *, limit: int = 50) -> list[WebhookDelivery]:
    return list(session.scalars(select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
                                .order_by(WebhookDelivery.id.desc()).limit(limit)))
