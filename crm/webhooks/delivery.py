"""Sending queued deliveries: signed JSON POSTs, through the notifications dispatcher's functions.

The dispatcher's ``claim_rows`` takes due deliveries (FOR UPDATE SKIP LOCKED on PostgreSQL, a lease, one more
attempt) and its ``record_sent`` / ``record_failure`` write the outcome: a 2xx answer is delivered; any other
answer, a timeout or a refused connection is pending again after the dispatcher's backoff, until the
notification settings' maximum of attempts, then failed with the reason; the manager's "try again" is the
dispatcher's ``retry``. Redirects are never followed (a 3xx is a failure). Delivery is at least once: receivers
drop a repeat by its event id.

Signature: ``X-CRM-Signature: sha256=<hex>``, the HMAC-SHA256 with the endpoint's secret of
``<X-CRM-Timestamp>.<body>`` (the timestamp in Unix seconds, the body's exact bytes); README "Webhooks"."""

import hashlib
import hmac
import time
from dataclasses import dataclass
from datetime import datetime
from http.client import HTTPException

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.database import utcnow
from crm.notifications import dispatch
from crm.notifications import settings as notification_settings
from crm.notifications.channel_base import as_text, describe_error, post, scrub, shorten
from crm.notifications.channels import ChannelError
from crm.webhooks.models import WebhookDelivery, WebhookEndpoint

USER_AGENT = "RepairShopCRM-Webhooks/1"
ENDPOINT_GONE = "The endpoint was deleted."
ENDPOINT_OFF = "The endpoint is switched off."


class RefusedDelivery(ChannelError):
    """The receiver answered, but not with a 2xx: retried like any other failure; ``status`` is kept."""

    def __init__(self, reason: str, *, status: int):
        super().__init__(reason)
        self.status = status


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=`` and the hex HMAC-SHA256 of "<timestamp>.<body>" with the secret."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


@dataclass(frozen=True)
class Claimed:
    id: int
    event_id: str
    event: str
    body: bytes
    attempts: int
    url: str | None  # None: the endpoint is gone or switched off
    secret: str
    off_reason: str = ""


def claim(session: Session, *, now: datetime, limit: int) -> list[Claimed]:
    """Take due deliveries with their endpoints' address and secret, and commit the claim."""
    rows = dispatch.claim_rows(session, WebhookDelivery, now=now, limit=limit)
    endpoints = {e.id: e for e in session.scalars(select(WebhookEndpoint).where(
        WebhookEndpoint.id.in_({row.endpoint_id for row in rows})))} if rows else {}
    claimed = []
    for row in rows:
        endpoint = endpoints.get(row.endpoint_id)
        usable = endpoint is not None and endpoint.active
        claimed.append(Claimed(row.id, row.event_id, row.event, row.body.encode(), row.attempts,
                               endpoint.url if usable else None, endpoint.secret if usable else "",
                               "" if usable else (ENDPOINT_OFF if endpoint is not None else ENDPOINT_GONE)))
    session.commit()
    return claimed


def send(item: Claimed, *, timeout: float) -> int:
    """POST one delivery, signed at this moment; returns the 2xx status, raises ChannelError with the reason
    otherwise."""
    if item.url is None:
        raise ChannelError(item.off_reason, permanent=True)
    timestamp = str(int(time.time()))
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, "X-CRM-Event": item.event,
               "X-CRM-Event-Id": item.event_id, "X-CRM-Timestamp": timestamp,
               "X-CRM-Delivery-Attempt": str(item.attempts),
               "X-CRM-Signature": signature(item.secret, timestamp, item.body)}
    try:
        status, answer = post(item.url, item.body, headers, timeout)
    except (OSError, HTTPException, ValueError) as exc:
        raise ChannelError(scrub(f"No answer: {describe_error(exc)}", (item.secret,))) from None
    if 200 <= status < 300:
        return status
    excerpt = shorten(scrub(as_text(answer), (item.secret,)), 200)
    raise RefusedDelivery(f"HTTP {status}" + (f": {excerpt}" if excerpt else ""), status=status)


@dataclass
class DeliveryResult:
    sent: int = 0
    retrying: int = 0
    failed: int = 0

    @property
    def claimed(self) -> int:
        return self.sent + self.retrying + self.failed


def deliver(session: Session, *, now: datetime | None = None, limit: int = 100) -> DeliveryResult:
    """Send the deliveries that are due (one round of at most ``limit``); commits."""
    now = now or utcnow()
    max_attempts = notification_settings.get_settings(session).max_attempts
    session.commit()
    timeout = float(current_app.config.get("WEBHOOK_TIMEOUT_SECONDS", 5))
    result = DeliveryResult()
    for item in claim(session, now=now, limit=limit):
        try:
            status = send(item, timeout=timeout)
        except ChannelError as error:
            failed = dispatch.record_failure(session, WebhookDelivery, item.id, item.attempts, error,
                                             max_attempts=max_attempts, now=now,
                                             response_status=getattr(error, "status", None))
            if failed:
                result.failed += 1
            else:
                result.retrying += 1
            continue
        dispatch.record_sent(session, WebhookDelivery, item.id, response_status=status)
        result.sent += 1
    return result
