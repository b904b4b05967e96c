"""Webhook test helpers: an endpoint factory, the deliveries as rows, and a real HTTP receiver on loopback that
checks every delivery's signature the way the README tells a receiver to."""

import hashlib
import hmac
import time

import pytest
from sqlalchemy import select
from werkzeug.datastructures import Headers

from crm.webhooks import service
from crm.webhooks.models import WebhookDelivery

# The loopback HTTP server that records requests, and a port that accepts connections but never answers.
from tests.notifications.conftest import free_port, http_recorder, silent_port  # noqa: F401

ALL_EVENTS = ["order.status_changed", "order.ready", "sale.paid", "points.changed"]


def add_endpoint(session, url: str = "https://hooks.example.test/crm", events=ALL_EVENTS, **kw):
    """An endpoint as the manager adds it; returns (row, secret)."""
    data = service.EndpointData(url=url, events=list(events), **kw)
    return service.create_endpoint(session, data, actor=None, allow_http_loopback=True)


def deliveries(session, **where) -> list[WebhookDelivery]:
    query = select(WebhookDelivery).order_by(WebhookDelivery.id).execution_options(populate_existing=True)
    for name, value in where.items():
        query = query.where(getattr(WebhookDelivery, name) == value)
    return list(session.scalars(query))


def headers_of(request) -> Headers:
    """A recorded request's headers, looked up without regard to case as HTTP means them (urllib sends
    "X-Crm-Signature")."""
    return Headers(list(request.headers.items()))


def verify(secret: str, headers: dict, body: bytes, *, tolerance: int = 300) -> bool:
    """The README's receiver check: HMAC-SHA256 of "<timestamp>.<body>", compared in constant time, and a
    timestamp within five minutes."""
    timestamp = headers["X-CRM-Timestamp"]
    expected = "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, headers["X-CRM-Signature"]) and abs(time.time() - int(timestamp)) <= tolerance


@pytest.fixture
def unused_port() -> int:
    return free_port()
